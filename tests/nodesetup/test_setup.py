"""A flannel or Calico setup leaves every setting on the lab nodes; a second run does nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aksnet.infra.linuxconf import KUBEADM_FILE, MODULES_FILE, NFT_FILE, SYSCTL_FILE
from aksnet.network.plugins import KUBERNETES_PORTS, get_plugin
from aksnet.plan import apply, format_result
from aksnet.plan.report import NO_CHANGES_MADE
from tests.nodesetup.conftest import Cluster, Node


def host_sysctl(name: str) -> str:
    return Path("/proc/sys", *name.split(".")).read_text().strip()


def assert_node_is_set_up(node: Node, cluster: Cluster) -> None:
    plugin = get_plugin(cluster.spec.primary_network_plugin)
    modules = node.sh(f"cat {MODULES_FILE}").splitlines()
    assert [m for m in modules if not m.startswith("#")] == list(plugin.linux.kernel_modules)
    for key, value in plugin.linux.sysctls:
        assert node.sh(f"/usr/sbin/sysctl -n {key}").strip() == value, key
    assert node.sh(f"cat {SYSCTL_FILE}").count(" = ") == len(plugin.linux.sysctls)
    table = node.sh("sudo -n nft list table inet aksnet")
    assert "udp dport 4789 " in table
    for protocol, port, _ in KUBERNETES_PORTS:
        assert f"{protocol} dport {port} " in table
    assert "type filter hook input" in node.sh(f"cat {NFT_FILE}")
    assert "SystemdCgroup = true" in node.sh("cat /etc/containerd/config.toml")
    for directory in ("/etc/kubernetes/manifests", "/var/lib/kubelet", "/etc/cni/net.d"):
        assert node.sh(f"stat -c '%F %U %a' {directory}") == "directory root 755\n"
    assert node.sh("hostname") == f"{node.name}\n"
    assert node.sh("cat /etc/hostname") == f"{node.name}\n"
    hosts = node.sh("cat /etc/hosts")
    for other in cluster.nodes:
        assert f"{other.vm.address} {other.name}\n" in hosts
    assert node.sh(f"sudo -n stat -c '%a %U' {KUBEADM_FILE}") == "600 root\n"
    assert node.sh("sudo -n test -e /etc/kubernetes/kubelet.conf && echo joined") == "joined\n"


@pytest.mark.parametrize("plugin", ["flannel", "calico"])
def test_setup_leaves_the_plugin_settings_and_a_second_run_changes_nothing(
    cluster_of: Any, plugin: str
) -> None:
    before = {k: host_sysctl(k) for k, _ in get_plugin(plugin).linux.sysctls}
    cluster: Cluster = cluster_of(plugin)
    first = apply([cluster.phase()])
    assert {r.outcome for r in first.records} == {"done"}
    for node in cluster.nodes:
        assert_node_is_set_up(node, cluster)
    # The sysctls changed inside the nodes' namespaces only, never the machine's own.
    assert {k: host_sysctl(k) for k in before} == before
    # One SSH connection per node, reused for every fact, file and command.
    assert [n.session.connections_opened for n in cluster.nodes] == [1, 1]
    second = apply([cluster.phase()])
    assert second.records == []
    assert format_result(second) == NO_CHANGES_MADE


def test_calico_sets_loose_rp_filter_off_and_opens_typha(cluster_of: Any) -> None:
    cluster: Cluster = cluster_of("calico", ("init",))
    apply([cluster.phase()])
    node = cluster.nodes[0]
    assert node.sh("/usr/sbin/sysctl -n net.ipv4.conf.all.rp_filter") == "1\n"
    assert "tcp dport 5473 " in node.sh("sudo -n nft list table inet aksnet")


def test_drift_is_repaired_alone(cluster_of: Any) -> None:
    cluster: Cluster = cluster_of("flannel", ("init",))
    apply([cluster.phase()])
    node = cluster.nodes[0]
    node.sh("sudo -n sysctl -q -w net.ipv4.ip_forward=0")
    node.sh("sudo -n nft delete table inet aksnet")
    result = apply([cluster.phase()])
    host = node.name
    assert [r.title for r in result.changes] == [
        f"apply {SYSCTL_FILE} (sysctl -p) on {host}",
        f"load nftables table inet aksnet from {NFT_FILE} on {host}",
    ]
    assert node.sh("/usr/sbin/sysctl -n net.ipv4.ip_forward") == "1\n"
