"""Control planes leaving etcd on the lab (root): kill -9 of `aksnet cluster set
--control-plane-node-count 1` between the first control plane's etcd exit and its VM's removal,
then a resume that converges; and a departing control plane whose VM is stopped, whose member is
removed through the first control plane's etcd (`etcdctl member remove`).

The child is the real CLI on the same lab and store. The parent watches the store's journal and
sends SIGKILL once `kubeadm reset --force` on the highest control plane is journaled done (its
etcd member has left, its VM still runs). The second run (in process; it takes over the dead
child's lease) must not reset that node again (etcd no longer lists it), must reset the other
departing control plane, and must leave etcd with the first control plane as its only member.
"""

from __future__ import annotations

from aksnet import api
from aksnet.cluster.create import CreateOptions
from aksnet.cluster.hosts import close_all
from aksnet.remote.base import Cmdlet
from tests.clichild import kill_when_journaled
from tests.labcluster import Fabric
from tests.nodepool.test_scale_lab import all_vms, etcd_left, etcd_members, registered

NAME = "ce"
OPTIONS = CreateOptions(ssh_timeout=60.0)
KILL_AFTER = f"action LIKE 'kubeadm reset --force on {NAME}-cp-2 %' AND status = 'done'"


def scale_control_plane_down_and_kill(fabric: Fabric) -> None:
    args = ["cluster", "set", "--name", NAME, "--control-plane-node-count", "1"]
    kill_when_journaled(fabric, args, KILL_AFTER)


def test_a_killed_control_plane_scale_down_resumes_and_resets_each_node_once(
    fabric: Fabric,
) -> None:
    spec = api.new_cluster_spec(
        name=NAME,
        vnet="provnet",
        primary_network_plugin="flannel",
        node_pool_name="linux",
        node_count=1,
        control_plane_node_count=3,
    )
    api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    assert etcd_members(fabric, NAME) == [f"{NAME}-cp-0", f"{NAME}-cp-1", f"{NAME}-cp-2"]

    scale_control_plane_down_and_kill(fabric)
    assert etcd_members(fabric, NAME) == [f"{NAME}-cp-0", f"{NAME}-cp-1"]  # 3 -> 2, quorum kept
    assert f"{NAME}-cp-2" in all_vms(fabric)  # killed before its VM went

    finished = api.set_cluster(
        fabric.store, NAME, fabric.hosts, control_plane_node_count=1, options=OPTIONS
    )
    assert finished.resumed and finished.removed == [f"{NAME}-cp-2", f"{NAME}-cp-1"]
    assert etcd_members(fabric, NAME) == [f"{NAME}-cp-0"]
    assert etcd_left(fabric, NAME) == [(f"{NAME}-cp-2", "reset"), (f"{NAME}-cp-1", "reset")]
    assert all_vms(fabric) == [f"{NAME}-cp-0", f"{NAME}-linux-0"]
    assert registered(fabric, NAME) == [f"{NAME}-cp-0", f"{NAME}-linux-0"]
    again = api.set_cluster(
        fabric.store, NAME, fabric.hosts, control_plane_node_count=1, options=OPTIONS
    )
    assert again.to_dict()["Changes"] == 0


def test_a_departing_control_plane_that_does_not_answer_leaves_etcd_from_a_survivor(
    fabric: Fabric,
) -> None:
    name = "cu"
    spec = api.new_cluster_spec(
        name=name,
        vnet="provnet",
        primary_network_plugin="flannel",
        node_pool_name="linux",
        node_count=1,
        control_plane_node_count=3,
    )
    api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    stop_vm(fabric, f"{name}-cp-2")  # it no longer answers over SSH

    plan = api.set_cluster(
        fabric.store, name, fabric.hosts, control_plane_node_count=1, what_if=True
    )
    planned = [a["Title"] for a in plan.to_dict()["Actions"] if a["Outcome"] == "planned"]
    assert any(t.startswith("etcdctl member remove ") and f"({name}-cp-2," in t for t in planned)
    assert f"kubeadm reset --force on {name}-cp-1 (its etcd member leaves)" in planned
    assert len(etcd_members(fabric, name)) == 3  # a what-if changes nothing

    api.set_cluster(fabric.store, name, fabric.hosts, control_plane_node_count=1, options=OPTIONS)
    assert etcd_left(fabric, name) == [(f"{name}-cp-2", "member remove"), (f"{name}-cp-1", "reset")]
    assert etcd_members(fabric, name) == [f"{name}-cp-0"]
    assert all_vms(fabric) == [f"{name}-cp-0", f"{name}-linux-0"]


def stop_vm(fabric: Fabric, vm: str) -> None:
    sessions = fabric.hosts.open()
    try:
        for session in sessions.values():
            if any(v["Name"] == vm for v in session.invoke(Cmdlet.of("Get-VM"))):
                session.invoke(Cmdlet.of("Stop-VM", Name=vm, TurnOff=True))
                return
    finally:
        close_all(sessions)
    raise AssertionError(f"{vm} is on no host")
