"""A dry run of the node setup lists the actions per node and changes nothing on the nodes."""

from __future__ import annotations

from typing import Any

from aksnet.infra.linuxconf import KUBEADM_FILE
from aksnet.plan import apply, dry_run, format_plan
from tests.nodesetup.conftest import Cluster, Node

SNAPSHOT = (
    "hostname; cat /etc/hostname /etc/hosts; /usr/sbin/sysctl -n net.ipv4.ip_forward; "
    "sudo -n nft list ruleset; "
    "sudo -n ls -la /etc/kubernetes /etc/containerd /etc/sysctl.d /var/lib/aksnet-lab 2>&1; "
    "sudo -n ls -la /etc/modules-load.d /etc/nftables.d /etc/cni /var/lib 2>&1; true"
)


def snapshot(node: Node) -> str:
    return node.sh(SNAPSHOT)


def test_dry_run_plans_everything_and_changes_nothing(cluster_of: Any) -> None:
    cluster: Cluster = cluster_of("flannel")
    before = [snapshot(n) for n in cluster.nodes]
    plan = dry_run([cluster.phase()])
    assert [snapshot(n) for n in cluster.nodes] == before
    titles = [r.title for r in plan.changes]
    init, worker = (n.name for n in cluster.nodes)
    assert f"kubeadm init --config {KUBEADM_FILE} on {init}" in titles
    assert f"kubeadm join --config {KUBEADM_FILE} on {worker}" in titles
    nft = "/etc/nftables.d/aksnet.nft"
    assert f"write {nft} (mode 644) and load nftables table inet aksnet from {nft} on {init}" in (
        titles
    )
    text = format_plan(plan)
    assert text.endswith(f"{len(titles)} action(s) on 2 host(s) would be performed")
    # The plan is what an apply then performs, action for action (nodes run in parallel).
    assert sorted(r.title for r in apply([cluster.phase()]).changes) == sorted(titles)


def test_dry_run_after_apply_plans_nothing(cluster_of: Any) -> None:
    cluster: Cluster = cluster_of("calico", ("init",))
    apply([cluster.phase()])
    assert format_plan(dry_run([cluster.phase()])) == "no changes would be made"
