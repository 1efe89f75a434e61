"""Spec changes in the store, and what scaling refuses before anything changes (no lab: the
hosts named here are never reached, because every refusal comes first)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aksnet import api
from aksnet.cluster import nodepool, scale
from aksnet.cluster.hosts import HostConnections
from aksnet.errors import CapacityExceeded, InvalidInput, NotFound, StateConflict
from aksnet.model.cluster import ClusterSpec, node_pool_spec
from aksnet.remote.base import Credential, Endpoint
from aksnet.state.lease import Holder, Leases
from aksnet.state.macs import macs_of
from aksnet.state.store import Store

# An endpoint nothing listens on: a test that reached it would fail with HostUnreachable.
UNREACHED = HostConnections(
    {"hci1": Endpoint("127.0.0.1", port=9, ssl=False)}, Credential("nobody", "unused")
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "aksnet.db") as opened:
        api.new_network_setting(
            opened,
            name="net1",
            vswitch_name="sw",
            ip_address_prefix="198.19.250.0/24",
            gateway="198.19.250.1",
            dns_servers=["198.19.250.1"],
            k8s_node_ip_pool_start="198.19.250.10",
            k8s_node_ip_pool_end="198.19.250.19",
            vip_pool_start="198.19.250.200",
            vip_pool_end="198.19.250.210",
        )
        spec = api.new_cluster_spec(name="c1", vnet="net1", node_pool_name="linux", node_count=1)
        opened.add_cluster(spec, state="provisioned")
        yield opened


def snapshot(store: Store) -> tuple[Any, ...]:
    return (store.list_clusters(), store.allocations(), macs_of(store))


def test_store_changes_a_pool_adds_and_removes_one_and_the_control_plane(store: Store) -> None:
    changed = store.set_node_pool("c1", "linux", count=3)
    assert [(p.name, p.count) for p in changed.node_pools] == [("linux", 3)]
    assert store.get_cluster("c1") == changed
    store.set_node_pool("c1", "linux", vm_size="Standard_A4_v2")
    assert store.get_cluster("c1").node_pools[0].vm_size == "Standard_A4_v2"
    added = store.add_node_pool("c1", node_pool_spec(name="extra", count=2))
    assert [p.name for p in added.node_pools] == ["linux", "extra"]
    assert [p.name for p in store.remove_node_pool("c1", "extra").node_pools] == ["linux"]
    assert store.set_control_plane_count("c1", 3).control_plane_node_count == 3
    assert store.get_cluster("c1").control_plane_node_count == 3


def test_scaling_past_the_free_node_addresses_is_refused_naming_them(store: Store) -> None:
    # 10 addresses in the pool: 1 control plane + 1 worker hold 2 (as a create decides them).
    store.allocate_each(
        "net1", "node", owner_kind="vm", owners=["c1-cp-0", "c1-linux-0"], cluster="c1"
    )
    before = snapshot(store)
    with pytest.raises(CapacityExceeded) as refused:
        nodepool.set_node_pool(store, "c1", "linux", UNREACHED, count=10)
    assert refused.value.free == 8 and refused.value.needed == 9
    assert "count = 10" in str(refused.value) and "8 address(es) are free" in str(refused.value)
    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("call", "error", "parameter"),
    [
        (
            lambda s: nodepool.set_node_pool(s, "c1", "linux", UNREACHED, count=201),
            InvalidInput,
            "count",
        ),
        (
            lambda s: nodepool.set_node_pool(s, "c1", "linux", UNREACHED, count=-1),
            InvalidInput,
            "count",
        ),
        (lambda s: nodepool.set_node_pool(s, "c1", "linux", UNREACHED), InvalidInput, "count"),
        (
            lambda s: nodepool.set_node_pool(s, "c1", "linux", UNREACHED, vm_size="Huge"),
            InvalidInput,
            "vmSize",
        ),
        (
            lambda s: scale.set_control_plane_count(s, "c1", 2, UNREACHED),
            InvalidInput,
            "controlPlaneNodeCount",
        ),
        (lambda s: nodepool.new_node_pool(s, "c1", UNREACHED, name="cp"), InvalidInput, "name"),
        (
            lambda s: nodepool.new_node_pool(s, "c1", UNREACHED, name="Bad_Name"),
            InvalidInput,
            "name",
        ),
    ],
)
def test_bad_values_are_refused_before_anything_changes(
    store: Store, call: Any, error: type[Exception], parameter: str | None
) -> None:
    before = snapshot(store)
    with pytest.raises(error) as refused:
        call(store)
    if parameter is not None:
        assert isinstance(refused.value, InvalidInput) and refused.value.parameter == parameter
    assert snapshot(store) == before


def test_unknown_clusters_and_pools_are_not_found(store: Store) -> None:
    before = snapshot(store)
    with pytest.raises(NotFound, match="'c9'"):
        nodepool.set_node_pool(store, "c9", "linux", UNREACHED, count=2)
    with pytest.raises(NotFound, match="'nopool'"):
        nodepool.set_node_pool(store, "c1", "nopool", UNREACHED, count=2)
    with pytest.raises(NotFound, match="'nopool'"):
        nodepool.remove_node_pool(store, "c1", "nopool", UNREACHED)
    with pytest.raises(NotFound, match="'c9'"):
        scale.set_control_plane_count(store, "c9", 3, UNREACHED)
    with pytest.raises(NotFound, match="'nopool'"):
        nodepool.get_node_pools(store, "c1", "nopool")
    with pytest.raises(NotFound, match="'c9'"):
        nodepool.new_node_pool(store, "c9", UNREACHED, name="extra")
    assert snapshot(store) == before


def test_the_last_pool_is_not_removed_and_a_pool_with_other_settings_is_not_added(
    store: Store,
) -> None:
    before = snapshot(store)
    with pytest.raises(StateConflict, match="last node pool"):
        nodepool.remove_node_pool(store, "c1", "linux", UNREACHED)
    with pytest.raises(StateConflict, match="other settings"):
        nodepool.new_node_pool(store, "c1", UNREACHED, name="linux", count=4)
    assert snapshot(store) == before


def test_get_node_pools_lists_nodes_with_addresses(store: Store) -> None:
    store.allocate_each("net1", "node", owner_kind="vm", owners=["c1-linux-0"], cluster="c1")
    (view,) = nodepool.get_node_pools(store, "c1")
    shown = view.to_dict()
    assert shown["ClusterName"] == "c1" and shown["NodePoolName"] == "linux"
    assert shown["OsType"] == "Linux" and shown["NodeCount"] == 1
    assert shown["Nodes"] == [{"Name": "c1-linux-0", "Address": "198.19.250.10", "Mac": None}]
    assert shown["Phase"] == "Scaling"  # its VM has no MAC yet: not created


def test_surplus_vms_are_the_highest_numbered_of_each_pool_and_never_others(
    store: Store,
) -> None:
    owners = ["c1-cp-0", "c1-cp-1", "c1-cp-2", "c1-linux-0", "c1-linux-1", "c1-linux-2", "c1-lb-0"]
    store.allocate_each("net1", "node", owner_kind="vm", owners=owners, cluster="c1")
    spec: ClusterSpec = store.get_cluster("c1")  # 1 control plane, linux x1
    names = [vm.name for vm in scale.surplus_vms(store, spec)]
    assert names == ["c1-cp-2", "c1-linux-2", "c1-cp-1", "c1-linux-1"]


def test_a_change_is_refused_while_another_run_holds_the_cluster(store: Store) -> None:
    other = Holder(os.getppid(), socket.gethostname(), "other-run")  # a live process
    Leases(store).acquire("c1", other)
    before = snapshot(store)
    with pytest.raises(StateConflict, match="other-run"):
        nodepool.set_node_pool(store, "c1", "linux", UNREACHED, count=2)
    assert snapshot(store) == before
    Leases(store).release("c1", other)


def test_a_second_remove_of_a_pool_says_the_pool_or_the_cluster_is_not_there(
    store: Store,
) -> None:
    store.add_node_pool("c1", node_pool_spec(name="extra", count=1))
    store.remove_node_pool("c1", "extra")  # what the first Remove-AksHciNodePool ends with
    with pytest.raises(NotFound) as again:
        nodepool.remove_node_pool(store, "c1", "extra", UNREACHED)
    assert again.value.exit_code == 3  # PowerShell's ObjectNotFound, as for a missing cluster
    assert str(again.value) == "Node pool 'extra' of cluster 'c1' was not found."
    store.remove_cluster("c1")
    with pytest.raises(NotFound) as gone:
        nodepool.remove_node_pool(store, "c1", "extra", UNREACHED)
    assert str(gone.value) == "Cluster 'c1' was not found."
