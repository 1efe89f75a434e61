"""IP planning: how many addresses a cluster needs from each pool (akshci-module.md §2.3).

Per workload cluster, from the node IP pool (static model): one per control-plane node, one per
worker, five for update operations, one per load-balancer VM. From the VIP pool: one for the API
server and one per LoadBalancer Service, where Services on different ports may share a VIP. With
DHCP, nodes and load balancers take dynamic addresses and only VIPs come from a pool.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network

from aksnet.errors import CapacityExceeded, InvalidInput
from aksnet.model.cluster import ClusterSpec
from aksnet.model.network import NetworkSetting

UPDATE_ADDRESSES = 5  # "For update operations: 5 IP" per workload cluster
AKS_HOST_NODE_ADDRESSES = 1 + 2  # the AKS host: 1 control plane + 2 for updates


@dataclass(frozen=True)
class Budget:
    """Addresses needed, per pool, with the reason for each."""

    node: dict[str, int]
    vip: dict[str, int]

    @property
    def node_total(self) -> int:
        return sum(self.node.values())

    @property
    def vip_total(self) -> int:
        return sum(self.vip.values())

    def __add__(self, other: Budget) -> Budget:
        return Budget(_merge(self.node, other.node), _merge(self.vip, other.vip))


def _merge(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    merged = Counter(a)
    merged.update(b)
    return dict(merged)


def vips_for_services(ports: Iterable[int]) -> int:
    """The fewest VIPs for LoadBalancer Services with these ports: Services may share a VIP when
    their ports differ, so the busiest port decides (3 on 443 + 1 on 80 -> 3 VIPs)."""
    counts = Counter(ports)
    return max(counts.values(), default=0)


def cluster_budget(
    spec: ClusterSpec, *, static: bool = True, service_ports: Sequence[int] = ()
) -> Budget:
    node: dict[str, int] = {}
    if static:
        node = {
            "control-plane nodes": spec.control_plane_node_count,
            "worker nodes": spec.worker_count,
            "update operations": UPDATE_ADDRESSES,
            "load-balancer VMs": spec.load_balancer.vm_count,
        }
    vip = {"API server": 1}
    if spec.load_balancer.sku == "HAProxy":
        # With loadBalancerSku none, LoadBalancer Services get no address (kube-vip serves only
        # the API server), so they need nothing from the VIP pool.
        vip["LoadBalancer Services"] = vips_for_services(service_ports)
    return Budget(node, vip)


def aks_host_budget() -> Budget:
    return Budget({"AKS host": AKS_HOST_NODE_ADDRESSES}, {})


def check_cluster_in_network(spec: ClusterSpec, network: NetworkSetting) -> None:
    """Node subnet, VIP pool, pod CIDR and service CIDR must not overlap one another."""
    pod, service = IPv4Network(spec.pod_cidr), IPv4Network(spec.service_cidr)
    for parameter, cidr in (("podCidr", pod), ("serviceCidr", service)):
        prefix = network.ip_address_prefix
        if prefix is not None and prefix.overlaps(cidr):
            raise InvalidInput(
                parameter,
                str(cidr),
                f"it overlaps the node subnet {prefix} of network '{network.name}'.",
            )
        if network.vip_pool.overlaps_prefix(cidr):
            raise InvalidInput(
                parameter,
                str(cidr),
                f"it overlaps the VIP pool {network.vip_pool} of network '{network.name}'.",
            )


def check_fits(budget: Budget, network: NetworkSetting, free: Mapping[str, int]) -> None:
    """Refuse a budget that does not fit the free addresses, naming pool, need and free."""
    for kind, needed in (("node", budget.node_total), ("vip", budget.vip_total)):
        if needed == 0:
            continue
        pool = network.pool(kind)
        label = "Kubernetes node IP pool" if kind == "node" else "VIP pool"
        if needed > free[kind]:
            raise CapacityExceeded(
                f"{label} {pool} of network '{network.name}'",
                needed,
                free[kind],
                "Free addresses by removing clusters or use a network with a larger pool; "
                "the pools of a network cannot change once a cluster uses it.",
            )
