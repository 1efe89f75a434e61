"""Clusters, node pools and load-balancer settings (`New-AksHciCluster`, `New-AksHciNodePool`,
`New-AksHciLoadBalancerSetting`), with the documented names, defaults and rules (akshci-module.md
§1 and §6)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Network
from typing import Any

from aksnet.errors import InvalidInput
from aksnet.model.sizes import (
    DEFAULT_CONTROL_PLANE_SIZE,
    DEFAULT_LOAD_BALANCER_SIZE,
    DEFAULT_NODE_SIZE,
    vm_size,
)
from aksnet.network.addressing import parse_prefix
from aksnet.network.plugins import check_capabilities, check_encapsulation, get_plugin

DEFAULT_POD_CIDR = "10.244.0.0/16"
DEFAULT_NODE_CIDR_MASK = 24  # each node gets a /24 of the pod CIDR (§2.4)
DEFAULT_SERVICE_CIDR = "10.96.0.0/12"
DEFAULT_KUBERNETES_VERSION = "v1.29.4"
DEFAULT_MAX_PODS = 110
CONTROL_PLANE_COUNTS = (1, 3, 5)  # etcd needs an odd member count for a quorum

_CLUSTER_NAME = re.compile(r"^[a-z][a-z0-9]{0,31}$")
_POOL_NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}[a-z0-9]$|^[a-z]$")
_VERSION = re.compile(r"^v?\d+\.\d+\.\d+$")


@dataclass(frozen=True)
class LoadBalancerSetting:
    """`New-AksHciLoadBalancerSetting -name -loadBalancerSku HAProxy|none -vmSize
    -loadBalancerCount`."""

    name: str = "default"
    sku: str = "HAProxy"
    vm_size: str = DEFAULT_LOAD_BALANCER_SIZE
    count: int = 1

    @property
    def vm_count(self) -> int:
        return self.count if self.sku == "HAProxy" else 0


@dataclass(frozen=True)
class NodePoolSpec:
    name: str
    count: int = 1
    os_type: str = "Linux"
    vm_size: str = DEFAULT_NODE_SIZE
    max_pod_count: int = DEFAULT_MAX_PODS
    taints: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterSpec:
    """A validated cluster. Build it with `cluster_spec(...)`."""

    name: str
    vnet: str
    primary_network_plugin: str = "calico"
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    control_plane_node_count: int = 1
    control_plane_vm_size: str = DEFAULT_CONTROL_PLANE_SIZE
    load_balancer: LoadBalancerSetting = field(default_factory=LoadBalancerSetting)
    node_pools: tuple[NodePoolSpec, ...] = ()
    pod_cidr: str = DEFAULT_POD_CIDR
    node_cidr_mask: int = DEFAULT_NODE_CIDR_MASK
    service_cidr: str = DEFAULT_SERVICE_CIDR
    encapsulation: str = "vxlan"
    network_policies: bool = False
    ipv6: bool = False

    @property
    def worker_count(self) -> int:
        return sum(p.count for p in self.node_pools)

    @property
    def has_windows(self) -> bool:
        return any(p.os_type == "Windows" for p in self.node_pools)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClusterSpec:
        pools = tuple(
            NodePoolSpec(**{**p, "taints": tuple(p.get("taints", ()))}) for p in data["node_pools"]
        )
        return cls(
            **{
                **data,
                "load_balancer": LoadBalancerSetting(**data["load_balancer"]),
                "node_pools": pools,
            }
        )


def load_balancer_setting(
    *, name: str = "default", sku: str = "HAProxy", vm_size_name: str | None = None, count: int = 1
) -> LoadBalancerSetting:
    skus = {"haproxy": "HAProxy", "none": "none"}
    chosen = skus.get(str(sku).lower())
    if chosen is None:
        raise InvalidInput("loadBalancerSku", sku, "it must be HAProxy or none.")
    size = vm_size(vm_size_name or DEFAULT_LOAD_BALANCER_SIZE, "loadBalancerVmSize").name
    if chosen == "HAProxy":
        check_int_range("loadBalancerCount", count, 1, 8)
    return LoadBalancerSetting(name, chosen, size, count if chosen == "HAProxy" else 0)


def node_pool_spec(
    *,
    name: str,
    count: int = 1,
    os_type: str = "Linux",
    vm_size_name: str | None = None,
    max_pod_count: int = DEFAULT_MAX_PODS,
    taints: Sequence[str] = (),
    node_cidr_mask: int = DEFAULT_NODE_CIDR_MASK,
    max_pods_parameter: str = "maxPodCount",
) -> NodePoolSpec:
    """Validate `New-AksHciNodePool` parameters (New-AksHciCluster calls maxPodCount
    nodeMaxPodCount)."""
    if not isinstance(name, str) or not _POOL_NAME.match(name):
        raise InvalidInput(
            "name",
            name,
            "a node pool name must be lowercase letters, digits and hyphens, start with a letter, "
            "not end with a hyphen, at most 42 characters.",
        )
    check_int_range("count", count, 0, 200)
    os_types = {"linux": "Linux", "windows": "Windows"}
    os_name = os_types.get(str(os_type).lower())
    if os_name is None:
        raise InvalidInput("osType", os_type, "it must be either Linux or Windows.")
    size = vm_size(vm_size_name or DEFAULT_NODE_SIZE, "vmSize").name
    check_max_pods(max_pods_parameter, max_pod_count, node_cidr_mask)
    return NodePoolSpec(name, count, os_name, size, max_pod_count, tuple(taints))


def check_max_pods(parameter: str, value: int, node_cidr_mask: int) -> None:
    """§1.1: must be greater than 50; and it must fit the node's pod block (minus network and
    broadcast addresses)."""
    fits = 2 ** (32 - node_cidr_mask) - 2
    if isinstance(value, bool) or not isinstance(value, int) or not 50 < value <= fits:
        raise InvalidInput(
            parameter,
            value,
            f"it must be greater than 50 and at most {fits} (a /{node_cidr_mask} per node).",
        )


def check_int_range(parameter: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(parameter, value, f"it must be a whole number from {low} to {high}.")


def check_cluster_name(name: object) -> str:
    """§1.1: no hyphens; §1.3: alphanumeric. Lowercase, because it names VMs and DNS labels."""
    if not isinstance(name, str) or not _CLUSTER_NAME.match(name):
        raise InvalidInput(
            "name",
            name,
            "a cluster name must be lowercase letters and digits (no hyphens), start with a "
            "letter, at most 32 characters.",
        )
    return name


def cluster_spec(
    *,
    name: str,
    vnet: str,
    primary_network_plugin: str | None = None,
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
    control_plane_node_count: int = 1,
    control_plane_vm_size: str | None = None,
    load_balancer: LoadBalancerSetting | None = None,
    node_pools: Sequence[NodePoolSpec] | None = None,
    pod_cidr: str = DEFAULT_POD_CIDR,
    node_cidr_mask: int = DEFAULT_NODE_CIDR_MASK,
    service_cidr: str = DEFAULT_SERVICE_CIDR,
    encapsulation: str | None = None,
    network_policies: bool = False,
    ipv6: bool = False,
) -> ClusterSpec:
    """Validate a cluster on its own; `check_cluster_in_network` checks it against its network."""
    check_cluster_name(name)
    plugin = get_plugin(primary_network_plugin)
    if not _VERSION.match(str(kubernetes_version)):
        raise InvalidInput("kubernetesVersion", kubernetes_version, "it must look like v1.29.4.")
    if control_plane_node_count not in CONTROL_PLANE_COUNTS:
        raise InvalidInput(
            "controlPlaneNodeCount",
            control_plane_node_count,
            "it must be 1, 3 or 5 (etcd needs an odd number of members).",
        )
    cp_size = vm_size(control_plane_vm_size or DEFAULT_CONTROL_PLANE_SIZE, "controlPlaneVmSize")
    pools = tuple(node_pools) if node_pools is not None else default_node_pools(name)
    check_unique_pool_names(pools)
    for pool in pools:
        check_max_pods("nodeMaxPodCount", pool.max_pod_count, node_cidr_mask)
    check_capabilities(plugin, network_policies=network_policies, ipv6=ipv6)
    has_windows = any(p.os_type == "Windows" for p in pools)
    encap = check_encapsulation(plugin, encapsulation, has_windows=has_windows)
    spec = ClusterSpec(
        name=name,
        vnet=vnet,
        primary_network_plugin=plugin.name,
        kubernetes_version=kubernetes_version,
        control_plane_node_count=control_plane_node_count,
        control_plane_vm_size=cp_size.name,
        load_balancer=load_balancer or LoadBalancerSetting(),
        node_pools=pools,
        pod_cidr=str(parse_prefix("podCidr", pod_cidr)),
        node_cidr_mask=node_cidr_mask,
        service_cidr=str(parse_prefix("serviceCidr", service_cidr)),
        encapsulation=encap,
        network_policies=network_policies,
        ipv6=ipv6,
    )
    check_cluster_cidrs(spec)
    return spec


def default_node_pools(cluster: str) -> tuple[NodePoolSpec, ...]:
    """§1.1: `New-AksHciCluster -name c` makes a Linux pool of 1 and an empty Windows pool."""
    return (
        NodePoolSpec(f"{cluster}-linux", 1, "Linux"),
        NodePoolSpec(f"{cluster}-windows", 0, "Windows"),
    )


def check_unique_pool_names(pools: Sequence[NodePoolSpec]) -> None:
    seen: set[str] = set()
    for pool in pools:
        if pool.name in seen:
            raise InvalidInput(
                "nodePoolName", pool.name, "it must not equal another node pool's name."
            )
        seen.add(pool.name)


def check_cluster_cidrs(spec: ClusterSpec) -> None:
    """Pod and service CIDRs apart, and the pod CIDR holds a block for every node."""
    pod, service = IPv4Network(spec.pod_cidr), IPv4Network(spec.service_cidr)
    if pod.overlaps(service):
        raise InvalidInput(
            "serviceCidr", spec.service_cidr, f"it must not overlap the pod CIDR {pod}."
        )
    if not pod.prefixlen <= spec.node_cidr_mask <= 28:
        raise InvalidInput(
            "nodeCidrMask",
            spec.node_cidr_mask,
            f"it must be between the pod CIDR's /{pod.prefixlen} and /28.",
        )
    blocks = 2 ** (spec.node_cidr_mask - pod.prefixlen)
    nodes = spec.control_plane_node_count + spec.worker_count
    if nodes > blocks:
        raise InvalidInput(
            "podCidr",
            spec.pod_cidr,
            f"it holds {blocks} /{spec.node_cidr_mask} node blocks; the cluster has {nodes} nodes.",
        )


def with_node_pool(spec: ClusterSpec, pool: NodePoolSpec) -> ClusterSpec:
    """The spec with one more node pool, checked as `New-AksHciNodePool` would."""
    check_unique_pool_names((*spec.node_pools, pool))
    plugin = get_plugin(spec.primary_network_plugin)
    if pool.os_type == "Windows":
        check_encapsulation(plugin, spec.encapsulation, has_windows=True)
    updated = replace(spec, node_pools=(*spec.node_pools, pool))
    check_cluster_cidrs(updated)
    return updated
