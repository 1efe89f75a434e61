"""New / Get / Set / Remove-AksHciNodePool.

New, Set and Remove record the change in the store (one validated transaction: nothing changes
when it is refused) and converge the cluster with aksnet.cluster.scale (scale-down: drain,
delete the node, remove the VM, free its address and MAC; scale-up: create_cluster). Get reads
the store only, like Get-AksHciCluster.

Decisions worth knowing:
- New with the name of a pool that exists with the same settings converges (a resumed or
  repeated New does nothing more); with other settings it is refused.
- Set -vmSize records the size, then replaces the pool's VMs of another size one at a time
  (a rolling replacement: drain, delete the node, remove the VM keeping its address and MAC,
  create it again with the new size and join it). A run stopped halfway is finished by the next
  one: a VM already removed is created again by the converge, the others are still found with
  the old size.
- Remove sets the pool's count to 0 (its VMs go as in a scale-down), then forgets the pool. A
  cluster keeps at least one node pool (as AKS does): removing the last one is refused; remove
  the cluster instead. A second Remove finds no pool (NotFound), like Remove-AksHciCluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aksnet.cluster import records
from aksnet.cluster.create import CreateOptions, check_supported
from aksnet.cluster.hosts import HostConnections, close_all
from aksnet.cluster.remove import owned_vm_fact
from aksnet.cluster.scale import (
    RESERVED_POOL_NAMES,
    ReplaceFinder,
    Replacement,
    ScaleResult,
    SurplusVm,
    change_and_converge,
)
from aksnet.errors import InvalidInput, StateConflict
from aksnet.infra.macpool import colon_form
from aksnet.model.cluster import (
    DEFAULT_MAX_PODS,
    ClusterSpec,
    NodePoolSpec,
    check_int_range,
    node_pool_spec,
)
from aksnet.model.sizes import vm_size as lookup_vm_size
from aksnet.state.macs import macs_of
from aksnet.state.store import NodePoolNotFound, Store

_PHASES = {records.CREATING: "Creating", records.REMOVING: "Deleting"}


@dataclass(frozen=True)
class NodePoolView:
    cluster: ClusterSpec
    pool: NodePoolSpec
    phase: str
    nodes: list[dict[str, str | None]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ClusterName": self.cluster.name,
            "NodePoolName": self.pool.name,
            "Version": self.cluster.kubernetes_version,
            "OsType": self.pool.os_type,
            "NodeCount": self.pool.count,
            "VmSize": self.pool.vm_size,
            "MaxPodCount": self.pool.max_pod_count,
            "Taints": list(self.pool.taints),
            "Phase": self.phase,
            "AutoScalerEnabled": False,
            "Nodes": self.nodes,
        }


def get_node_pools(store: Store, cluster: str, name: str | None = None) -> list[NodePoolView]:
    """Get-AksHciNodePool -clusterName [-name]: NotFound for an unknown cluster or pool."""
    spec = store.get_cluster(cluster)
    state = records.state_of(store, cluster) or ""
    pools = [p for p in spec.node_pools if name is None or p.name == name]
    if name is not None and not pools:
        raise NodePoolNotFound(cluster, name)
    addresses = store.learnt_addresses(cluster=cluster)  # DHCP: as its host last reported
    addresses.update(
        (a.owner, str(a.address))
        for a in store.allocations(spec.vnet, cluster=cluster)
        if a.owner_kind == "vm"
    )
    macs = {m.owner: m.mac for m in macs_of(store, cluster=cluster)}
    views = []
    for pool in pools:
        prefix = f"{spec.name}-{pool.name}-".lower()
        members = sorted(
            (vm for vm in set(addresses) | set(macs) if _index(vm, prefix) is not None),
            key=lambda vm: _index(vm, prefix) or 0,
        )
        nodes = [
            {
                "Name": vm,
                "Address": addresses.get(vm),
                "Mac": colon_form(macs[vm]) if vm in macs else None,
            }
            for vm in members
        ]
        views.append(NodePoolView(spec, pool, _phase(state, pool, nodes), nodes))
    return views


def _index(vm: str, prefix: str) -> int | None:
    rest = vm[len(prefix) :] if vm.startswith(prefix) else ""
    return int(rest) if rest.isdigit() else None


def _phase(state: str, pool: NodePoolSpec, nodes: Sequence[dict[str, str | None]]) -> str:
    if state in _PHASES:
        return _PHASES[state]
    made = sum(1 for n in nodes if n["Mac"] is not None)
    return "Deployed" if made == pool.count else "Scaling"


def new_node_pool(
    store: Store,
    cluster: str,
    hosts: HostConnections,
    *,
    name: str,
    count: int = 1,
    os_type: str = "Linux",
    vm_size: str | None = None,
    max_pod_count: int = DEFAULT_MAX_PODS,
    taints: Sequence[str] = (),
    what_if: bool = False,
    options: CreateOptions | None = None,
) -> ScaleResult:
    """New-AksHciNodePool -clusterName -name [-count -osType -vmSize -maxPodCount -taints]."""
    spec = store.get_cluster(cluster)  # NotFound first
    pool = node_pool_spec(
        name=name,
        count=count,
        os_type=os_type,
        vm_size_name=vm_size,
        max_pod_count=max_pod_count,
        taints=taints,
        node_cidr_mask=spec.node_cidr_mask,
    )
    if pool.name in RESERVED_POOL_NAMES:
        raise InvalidInput(
            "name", name, f"'{pool.name}' names the control-plane VMs; choose another name."
        )
    existing = next((p for p in spec.node_pools if p.name == pool.name), None)
    if existing is not None and existing != pool:
        raise StateConflict(
            f"Node pool '{pool.name}' of cluster '{cluster}' exists with other settings; change "
            "it with Set-AksHciNodePool, or remove it first.",
            target=pool.name,
        )

    def change(target: Store) -> ClusterSpec:
        if existing is not None:  # the same pool again: converge only
            return target.get_cluster(cluster)
        return target.add_node_pool(cluster, pool, check=lambda s: check_supported(s, target))

    return change_and_converge(store, cluster, change, hosts, what_if=what_if, options=options)


def set_node_pool(
    store: Store,
    cluster: str,
    name: str,
    hosts: HostConnections,
    *,
    count: int | None = None,
    vm_size: str | None = None,
    what_if: bool = False,
    options: CreateOptions | None = None,
) -> ScaleResult:
    """Set-AksHciNodePool -clusterName -name -count | -vmSize."""
    if count is None and vm_size is None:
        raise InvalidInput("count", None, "give -count (the number of nodes) or -vmSize.")
    if count is not None:
        check_int_range("count", count, 0, 200)
    size = lookup_vm_size(vm_size, "vmSize").name if vm_size is not None else None
    _pool(store.get_cluster(cluster), name)  # NotFound first
    options = options or CreateOptions()
    to_replace = resized_vms(name, options.root) if size is not None else None

    def change(target: Store) -> ClusterSpec:
        return target.set_node_pool(
            cluster, name, count=count, vm_size=size, check=lambda s: check_supported(s, target)
        )

    return change_and_converge(
        store, cluster, change, hosts, what_if=what_if, options=options, to_replace=to_replace
    )


def resized_vms(pool_name: str, root: str) -> ReplaceFinder:
    """The pool's VMs whose processors or memory differ from the pool's VM size, as read from
    the hosts (one round trip per VM and host), lowest-numbered first."""

    def find(store: Store, spec: ClusterSpec, hosts: HostConnections) -> list[Replacement]:
        pool = _pool(spec, pool_name)
        size = lookup_vm_size(pool.vm_size)
        macs = {m.owner: m.mac for m in macs_of(store, cluster=spec.name)}
        addresses = {a.owner: str(a.address) for a in store.allocations(cluster=spec.name)}
        names = [f"{spec.name}-{pool.name}-{i}".lower() for i in range(pool.count)]
        sessions = hosts.open()
        try:
            found = []
            for vm_name in (n for n in names if n in macs):
                fact = owned_vm_fact(sessions, vm_name, macs[vm_name], root)
                for host in sorted(sessions):
                    vm = fact.read(host).vm
                    if vm is not None and (vm.processor_count, vm.memory_startup) != (
                        size.cpu,
                        size.memory_bytes,
                    ):
                        held = SurplusVm(vm_name, macs[vm_name], addresses.get(vm_name))
                        found.append(Replacement(held, host, size.name))
            return found
        finally:
            close_all(sessions)

    return find


def remove_node_pool(
    store: Store,
    cluster: str,
    name: str,
    hosts: HostConnections,
    *,
    what_if: bool = False,
    options: CreateOptions | None = None,
) -> ScaleResult:
    """Remove-AksHciNodePool -clusterName -name: its VMs as in a scale-down, then the pool."""
    spec = store.get_cluster(cluster)
    _pool(spec, name)
    if len(spec.node_pools) == 1:
        raise StateConflict(
            f"Node pool '{name}' is the last node pool of cluster '{cluster}'; a cluster keeps "
            "at least one. Remove the cluster instead (Remove-AksHciCluster).",
            target=name,
        )

    def change(target: Store) -> ClusterSpec:
        return target.set_node_pool(cluster, name, count=0)

    result = change_and_converge(store, cluster, change, hosts, what_if=what_if, options=options)
    if not what_if:
        store.remove_node_pool(cluster, name)
    return result


def _pool(spec: ClusterSpec, name: str) -> NodePoolSpec:
    for pool in spec.node_pools:
        if pool.name == name:
            return pool
    raise NodePoolNotFound(spec.name, name)
