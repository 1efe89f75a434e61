"""Node pools and the control plane scaled on the lab, end to end (needs root).

What is real: PSRP to the emulated Hyper-V hosts, the VMs' sshd with pinned host keys, the
addresses on the nodes, the store. What is emulated: Hyper-V (the lab), kubeadm and kubectl
(they check and record their input; `kubectl delete node` forgets the node in the lab's registry).
"""

from __future__ import annotations

import json
import logging
import os
import stat
from typing import Any

import pytest
import yaml

from aksnet import api
from aksnet.cli import main
from aksnet.cluster.create import CreateOptions
from aksnet.cluster.hosts import close_all
from aksnet.cluster.keys import ClusterKeys
from aksnet.cluster.scale import ScaleResult
from aksnet.lab import k8sregistry
from aksnet.remote.base import Cmdlet
from aksnet.state.macs import macs_of
from tests.labcluster import Fabric, k8s_calls

OPTIONS = CreateOptions(ssh_timeout=60.0)
DRAIN = ["drain", "--ignore-daemonsets", "--delete-emptydir-data"]


def snapshot(fabric: Fabric) -> tuple[Any, ...]:
    store = fabric.store
    return (store.list_clusters(), store.allocations(), macs_of(store), fabric.vms_on_hosts())


def all_vms(fabric: Fabric) -> list[str]:
    """The node VMs on the hosts (a cluster's load-balancer VMs, `<cluster>-lb-<i>`, aside)."""
    vms = (vm for vms in fabric.vms_on_hosts().values() for vm in vms)
    return sorted(vm for vm in vms if "-lb-" not in vm)


def node_addresses(fabric: Fabric, cluster: str) -> dict[str, str]:
    return {
        a.owner: str(a.address)
        for a in fabric.store.allocations(cluster=cluster)
        if a.owner_kind == "vm"
    }


def registered(fabric: Fabric, cluster: str) -> list[str]:
    vip = api.get_cluster(fabric.store, cluster).to_dict()["ApiServerVip"]
    document = k8sregistry.read_cluster(fabric.lab.lab_dir, f"{vip}:6443") or {}
    # The lab keeps a registry per API endpoint for its life, and each test's fresh store hands
    # out the same VIP: nodes of an earlier test's cluster may still be listed there.
    return sorted(n for n in document.get("nodes", {}) if n.startswith(f"{cluster}-"))


def etcd_members(fabric: Fabric, cluster: str) -> list[str]:
    vip = api.get_cluster(fabric.store, cluster).to_dict()["ApiServerVip"]
    members = k8sregistry.etcd_members(fabric.lab.lab_dir, f"{vip}:6443")
    return sorted(m for m in members if m.startswith(f"{cluster}-"))


def etcd_left(fabric: Fabric, cluster: str) -> list[tuple[str, str]]:
    """The cluster's etcd members that left, in order, and how (the lab registry's log)."""
    vip = api.get_cluster(fabric.store, cluster).to_dict()["ApiServerVip"]
    removals = k8sregistry.etcd_removals(fabric.lab.lab_dir, f"{vip}:6443")
    return [(r["name"], r["how"]) for r in removals if r["name"].startswith(f"{cluster}-")]


def vm_size_on_host(fabric: Fabric, vm: str) -> tuple[int, int]:
    sessions = fabric.hosts.open()
    try:
        for session in sessions.values():
            for found in session.invoke(Cmdlet.of("Get-VM")):
                if found["Name"] == vm:
                    return int(found["ProcessorCount"]), int(found["MemoryStartup"])
    finally:
        close_all(sessions)
    raise AssertionError(f"{vm} is on no host")


def titles(result: ScaleResult) -> list[str]:
    return [a["Title"] for a in result.to_dict()["Actions"] if a["Outcome"] in ("done", "planned")]


def create(fabric: Fabric, name: str) -> None:
    spec = api.new_cluster_spec(
        name=name,
        vnet="provnet",
        primary_network_plugin="flannel",
        node_pool_name="linux",
        node_count=1,
    )
    api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)


def kubectl_calls(fabric: Fabric, cluster: str) -> list[list[str]]:
    address = node_addresses(fabric, cluster)[f"{cluster}-cp-0"]
    known_hosts = ClusterKeys.beside(fabric.store.path, cluster).known_hosts
    with fabric.ssh(cluster, address, known_hosts) as ssh:
        calls = k8s_calls(ssh)
    return [c["args"] for c in calls if c.get("tool") == "kubectl"]


def test_a_linux_pool_scales_up_and_down_and_a_pool_comes_and_goes(
    fabric: Fabric, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    create(fabric, "cs")
    store, hosts = fabric.store, fabric.hosts

    # What-if 1 -> 3: the two new VMs listed, nothing changed.
    before = snapshot(fabric)
    plan = api.set_node_pool(store, "cs", "linux", hosts, count=3, what_if=True, options=OPTIONS)
    assert sorted(t.split()[1] for t in titles(plan) if t.startswith("New-VM")) == [
        "cs-linux-1",
        "cs-linux-2",
    ]
    assert snapshot(fabric) == before
    argv = ["nodepool", "set", "--json", "--what-if", "--store", str(store.path)]
    argv += ["--lab-dir", str(fabric.lab.lab_dir), "--cluster-name", "cs", "--name", "linux"]
    assert main([*argv, "--count", "3"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["WhatIf"] is True and {a["Outcome"] for a in shown["Actions"]} == {"planned"}
    assert sum(a["Title"].startswith("New-VM") for a in shown["Actions"]) == 2
    assert snapshot(fabric) == before

    # 1 -> 3: addresses allocated, VMs created and joined; a second run does nothing.
    up = api.set_node_pool(store, "cs", "linux", hosts, count=3, options=OPTIONS)
    assert up.to_dict()["Changes"] > 0 and not up.removed
    workers = ["cs-linux-0", "cs-linux-1", "cs-linux-2"]
    assert sorted(node_addresses(fabric, "cs")) == ["cs-cp-0", "cs-lb-0", *workers]
    assert all_vms(fabric) == ["cs-cp-0", *workers]
    assert registered(fabric, "cs") == ["cs-cp-0", *workers]
    (view,) = api.get_node_pools(store, "cs", "linux")
    assert view.to_dict()["NodeCount"] == 3 and view.to_dict()["Phase"] == "Deployed"
    assert [n["Name"] for n in view.to_dict()["Nodes"]] == workers
    again = api.set_node_pool(store, "cs", "linux", hosts, count=3, options=OPTIONS)
    assert again.to_dict()["Changes"] == 0

    # What-if 3 -> 1: drain, delete, removal and release listed; nothing changed.
    before = snapshot(fabric)
    plan = api.set_node_pool(store, "cs", "linux", hosts, count=1, what_if=True, options=OPTIONS)
    planned = titles(plan)
    assert plan.removed == ["cs-linux-2", "cs-linux-1"]
    assert f"kubectl drain cs-linux-2 {' '.join(DRAIN[1:])} through cs-cp-0" in planned
    assert "kubectl delete node cs-linux-1 through cs-cp-0" in planned
    assert sum(t.startswith("Remove-VM cs-linux-") for t in planned) == 2
    assert sum(t.startswith("Release address") for t in planned) == 2
    assert snapshot(fabric) == before

    # 3 -> 1: drained, deleted from the registry, VMs gone, addresses and MACs back.
    released = {vm: node_addresses(fabric, "cs")[vm] for vm in ("cs-linux-1", "cs-linux-2")}
    down = api.set_node_pool(store, "cs", "linux", hosts, count=1, options=OPTIONS)
    assert down.removed == ["cs-linux-2", "cs-linux-1"]
    assert all_vms(fabric) == ["cs-cp-0", "cs-linux-0"]
    assert registered(fabric, "cs") == ["cs-cp-0", "cs-linux-0"]
    assert sorted(node_addresses(fabric, "cs")) == ["cs-cp-0", "cs-lb-0", "cs-linux-0"]
    assert not {str(a.address) for a in store.allocations()} & set(released.values())
    assert sorted(m.owner for m in macs_of(store, cluster="cs")) == [
        "cs-cp-0",
        "cs-lb-0",  # the load-balancer VM stays
        "cs-linux-0",
    ]
    calls = kubectl_calls(fabric, "cs")
    for vm in released:
        assert any(c[-4:] == [DRAIN[0], vm, *DRAIN[1:]] for c in calls), calls
        assert any(c[-3:] == ["delete", "node", vm] for c in calls), calls
    assert api.set_node_pool(store, "cs", "linux", hosts, count=1).to_dict()["Changes"] == 0

    # -vmSize: the running VM is replaced with the new size (same address and MAC).
    kept = (node_addresses(fabric, "cs")["cs-linux-0"], macs_of(store, cluster="cs"))
    before = snapshot(fabric)
    plan = api.set_node_pool(store, "cs", "linux", hosts, vm_size="Standard_A2_v2", what_if=True)
    assert plan.replaced == ["cs-linux-0"]
    assert any(
        t.startswith("New-VM cs-linux-0 again with VM size Standard_A2_v2") for t in titles(plan)
    )
    assert snapshot(fabric) == before
    resized = api.set_node_pool(store, "cs", "linux", hosts, vm_size="Standard_A2_v2")
    assert resized.replaced == ["cs-linux-0"] and not resized.removed
    done = titles(resized)
    assert "kubectl delete node cs-linux-0 through cs-cp-0" in done
    assert any(t.startswith("Remove-VM cs-linux-0") for t in done)
    assert any(t.startswith("New-VM cs-linux-0") for t in done)
    assert any("kubeadm join" in t and t.endswith(" on cs-linux-0") for t in done)
    assert (vm_size_on_host(fabric, "cs-linux-0")) == (2, 4 * 1024**3)
    assert (node_addresses(fabric, "cs")["cs-linux-0"], macs_of(store, cluster="cs")) == kept
    assert registered(fabric, "cs") == ["cs-cp-0", "cs-linux-0"]
    again = api.set_node_pool(store, "cs", "linux", hosts, vm_size="Standard_A2_v2")
    assert again.replaced == [] and again.to_dict()["Changes"] == 0

    # A pool added, then removed with its VM.
    added = api.new_node_pool(store, "cs", hosts, name="extra", count=1, options=OPTIONS)
    assert "cs-extra-0" in [n["Name"] for n in added.to_dict()["Nodes"]]
    assert "cs-extra-0" in all_vms(fabric) and "cs-extra-0" in registered(fabric, "cs")
    repeat = api.new_node_pool(store, "cs", hosts, name="extra", count=1, options=OPTIONS)
    assert repeat.to_dict()["Changes"] == 0
    gone = api.remove_node_pool(store, "cs", "extra", hosts, options=OPTIONS)
    assert gone.removed == ["cs-extra-0"]
    assert all_vms(fabric) == ["cs-cp-0", "cs-linux-0"]
    assert "cs-extra-0" not in registered(fabric, "cs")
    assert [p.name for p in store.get_cluster("cs").node_pools] == ["linux"]
    assert "cs-extra-0" not in node_addresses(fabric, "cs")


def test_the_control_plane_scales_to_three_and_the_credential_is_written_owner_only(
    fabric: Fabric, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    create(fabric, "cc")
    store, hosts = fabric.store, fabric.hosts

    before = snapshot(fabric)
    plan = api.set_cluster(store, "cc", hosts, control_plane_node_count=3, what_if=True)
    assert sorted(t.split()[1] for t in titles(plan) if t.startswith("New-VM")) == [
        "cc-cp-1",
        "cc-cp-2",
    ]
    assert snapshot(fabric) == before

    up = api.set_cluster(store, "cc", hosts, control_plane_node_count=3, options=OPTIONS)
    for vm in ("cc-cp-1", "cc-cp-2"):
        assert any("kubeadm join" in t and t.endswith(f" on {vm}") for t in titles(up)), vm
    assert all_vms(fabric) == ["cc-cp-0", "cc-cp-1", "cc-cp-2", "cc-linux-0"]
    assert registered(fabric, "cc") == ["cc-cp-0", "cc-cp-1", "cc-cp-2", "cc-linux-0"]
    assert api.get_cluster(store, "cc").to_dict()["ControlPlaneNodeCount"] == 3
    again = api.set_cluster(store, "cc", hosts, control_plane_node_count=3, options=OPTIONS)
    assert again.to_dict()["Changes"] == 0

    # Get-AksHciCredential: 0600, the API VIP as server, the content in no log or result.
    config_dir = fabric.tmp / "kube"
    got = api.get_credential(store, "cc", config_path=config_dir)
    path = config_dir / "config"
    assert got.path == path and got.changed
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    vip = api.get_cluster(store, "cc").to_dict()["ApiServerVip"]
    content = path.read_text()
    assert yaml.safe_load(content)["clusters"][0]["cluster"]["server"] == f"https://{vip}:6443"
    assert got.server == f"https://{vip}:6443"
    assert content not in caplog.text and content not in json.dumps(got.to_dict())
    assert not api.get_credential(store, "cc", config_path=config_dir).changed
    path.write_text("apiVersion: v1\nkind: Config\n")
    with pytest.raises(Exception, match="holds another kubeconfig"):
        api.get_credential(store, "cc", config_path=config_dir)
    assert api.get_credential(store, "cc", config_path=config_dir, overwrite=True).changed
    assert path.read_text() == content
    argv = ["cluster", "credential", "--json", "--store", str(store.path), "--name", "cc"]
    argv += ["--config-path", str(config_dir)]
    path.write_text("apiVersion: v1\nkind: Config\n")
    assert main(argv) == 4  # another kubeconfig: not replaced without --force
    assert main([*argv, "--force"]) == 0
    output = capsys.readouterr()
    assert json.loads(output.out)["Server"] == f"https://{vip}:6443"
    assert path.read_text() == content and content not in output.out + output.err

    # 3 -> 1: the highest control planes leave etcd (kubeadm reset on each), one at a time,
    # each before its VM goes; they are drained and deleted through cc-cp-0.
    assert etcd_members(fabric, "cc") == ["cc-cp-0", "cc-cp-1", "cc-cp-2"]
    before = snapshot(fabric)
    plan = api.set_cluster(store, "cc", hosts, control_plane_node_count=1, what_if=True)
    resets = [t for t in titles(plan) if t.startswith("kubeadm reset")]
    assert [t.split()[4] for t in resets] == ["cc-cp-2", "cc-cp-1"]
    assert snapshot(fabric) == before and len(etcd_members(fabric, "cc")) == 3
    down = api.set_cluster(store, "cc", hosts, control_plane_node_count=1, options=OPTIONS)
    assert down.removed == ["cc-cp-2", "cc-cp-1"]
    done = titles(down)
    for vm in ("cc-cp-2", "cc-cp-1"):
        reset = done.index(f"kubeadm reset --force on {vm} (its etcd member leaves)")
        assert reset < next(i for i, t in enumerate(done) if t.startswith(f"Remove-VM {vm} "))
    assert etcd_members(fabric, "cc") == ["cc-cp-0"]
    assert etcd_left(fabric, "cc") == [("cc-cp-2", "reset"), ("cc-cp-1", "reset")]
    assert all_vms(fabric) == ["cc-cp-0", "cc-linux-0"]
    assert registered(fabric, "cc") == ["cc-cp-0", "cc-linux-0"]
    nodes_left = sorted(vm for vm in node_addresses(fabric, "cc") if "-lb-" not in vm)
    assert nodes_left == ["cc-cp-0", "cc-linux-0"]
