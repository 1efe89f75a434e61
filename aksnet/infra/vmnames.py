"""The names and roles of a cluster's VMs, derived from its spec alone.

Kept apart from aksnet.infra.provision so that readers of the store (Get-AksHciCluster through
the bridge) name VMs without importing the remoting stack (pypsrp, paramiko): that import alone
took over a second of a one-shot bridge call.
"""

from __future__ import annotations

from collections.abc import Iterator

from aksnet.infra.placement import CONTROL_PLANE, LOAD_BALANCER
from aksnet.model.cluster import ClusterSpec


def vm_roles(spec: ClusterSpec) -> dict[str, str]:
    """Each VM name the spec has -> its role ("control-plane", "worker", "loadbalancer")."""
    return {name: role for name, role, *_ in vm_names(spec)}


def load_balancer_vm_name(cluster: str, index: int) -> str:
    """`<cluster>-lb-<i>`: the name other tools look load-balancer VMs up by."""
    return f"{cluster}-lb-{index}".lower()


def vm_names(spec: ClusterSpec) -> Iterator[tuple[str, str, str, str]]:
    """(name, role, size, os) of each VM: control planes, then Linux pools, then Windows, then
    the load balancers (loadBalancerSku HAProxy)."""
    for i in range(spec.control_plane_node_count):
        yield f"{spec.name}-cp-{i}".lower(), CONTROL_PLANE, spec.control_plane_vm_size, "Linux"
    for os_type in ("Linux", "Windows"):
        for pool in spec.node_pools:
            if pool.os_type == os_type:
                for i in range(pool.count):
                    yield f"{spec.name}-{pool.name}-{i}".lower(), "worker", pool.vm_size, os_type
    lb = spec.load_balancer
    for i in range(lb.vm_count):
        yield load_balancer_vm_name(spec.name, i), LOAD_BALANCER, lb.vm_size, "Linux"
