"""Failover cluster cmdlets: Get-Cluster, Get-ClusterNode, VM roles and cluster groups.

A remoting session cannot make the second hop a cluster change needs (its credentials stay on
the first host) unless it was given delegation (CredSSP, Kerberos delegation) or the command runs
on the owning node: the machine's ``delegated`` flag says which.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aksnet.lab.hyperv.binder import Bound
from aksnet.lab.hyperv.host import FailoverCluster
from aksnet.lab.hyperv.objects import LabObject
from aksnet.lab.hyperv.select import host_of

if TYPE_CHECKING:
    from aksnet.lab.hyperv.machine import Context, MachineBase

ACCESS_DENIED = (
    "You do not have administrative privileges on the cluster. Contact your network "
    "administrator to request access.\n    Access is denied"
)


def _cluster(ctx: Context) -> FailoverCluster:
    cluster = host_of(ctx).cluster
    if cluster is None:
        raise ctx.fail(
            "ClusterCmdletException",
            "The cluster service is not running. Make sure that the service is running on all "
            "nodes in the cluster.\n    There are no more endpoints available from the endpoint "
            "mapper",
            "ConnectionError",
        )
    return cluster


def _group_object(cluster: FailoverCluster, group: dict[str, str]) -> LabObject:
    return LabObject("ClusterGroup", Cluster=cluster.name, **group)


def get_cluster(ctx: Context, b: Bound) -> list[Any]:
    cluster = _cluster(ctx)
    return [LabObject("Cluster", Name=cluster.name, Domain="lab.local")]


def get_cluster_node(ctx: Context, b: Bound) -> list[Any]:
    cluster = _cluster(ctx)
    with cluster.lock:
        nodes = list(cluster.nodes)
    wanted = {str(n).lower() for n in _names(b.get("Name"))}
    return [
        LabObject("ClusterNode", Name=n, State="Up", Cluster=cluster.name, Id=str(i + 1))
        for i, n in enumerate(nodes)
        if not wanted or n.lower() in wanted
    ]


def _names(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def add_vm_role(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    cluster = _cluster(ctx)
    if not getattr(ctx.machine, "delegated", False):
        raise ctx.fail("ClusterAccessDenied", ACCESS_DENIED, "AuthenticationError")
    name = b.get("VMName") or b.get("VirtualMachine")
    item = b.get("InputObject")
    if name is None and isinstance(item, dict):
        name = item.get("Name")
    vms, _ = host.find_vms([str(name)]) if name else ([], [])
    if not vms:
        raise ctx.fail(
            "InvalidParameter",
            f'Hyper-V was unable to find a virtual machine with name "{name}".',
            "InvalidArgument",
            str(name),
        )
    vm = vms[0]
    group = {"Name": str(b.get("Name") or vm.name), "OwnerNode": host.name}
    group |= {"State": "Online" if vm.state == "Running" else "Offline"}
    group |= {"GroupType": "VirtualMachine", "VMId": vm.vm_id}
    with cluster.lock:
        cluster.groups[group["Name"].lower()] = group
    return [_group_object(cluster, group)]


def get_cluster_group(ctx: Context, b: Bound) -> list[Any]:
    cluster = _cluster(ctx)
    wanted = [str(n) for n in _names(b.get("Name"))]
    with cluster.lock:
        groups = list(cluster.groups.values())
    if not wanted:
        return [_group_object(cluster, g) for g in groups]
    out: list[Any] = []
    for name in wanted:
        hits = [g for g in groups if g["Name"].lower() == name.lower()]
        out += [_group_object(cluster, g) for g in hits]
        if not hits:
            out.append(
                ctx.record(
                    "ClusterCmdletException",
                    f"An error occurred while trying to find the cluster group '{name}'.\n"
                    "    The group was not found.",
                    "ObjectNotFound",
                    name,
                )
            )
    return out


def remove_cluster_group(ctx: Context, b: Bound) -> list[Any]:
    cluster = _cluster(ctx)
    if not getattr(ctx.machine, "delegated", False):
        raise ctx.fail("ClusterAccessDenied", ACCESS_DENIED, "AuthenticationError")
    names = [str(n) for n in _names(b.get("Name"))]
    item = b.get("InputObject")
    if isinstance(item, dict) and "Name" in item:
        names.append(str(item["Name"]))
    with cluster.lock:
        for name in names:
            cluster.groups.pop(name.lower(), None)
    return []


def register(m: MachineBase) -> None:
    for name, handler in {
        "Get-Cluster": get_cluster,
        "Get-ClusterNode": get_cluster_node,
        "Add-ClusterVirtualMachineRole": add_vm_role,
        "Get-ClusterGroup": get_cluster_group,
        "Remove-ClusterGroup": remove_cluster_group,
    }.items():
        m.register(name, handler)
