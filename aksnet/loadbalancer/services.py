"""Kubernetes Services as the load balancer sees them, and the plan of which VIP each one holds.

A LoadBalancer Service gets one VIP from its cluster network's VIP pool (akshci-module.md §2.3:
"1 per service"), written back to status.loadBalancer.ingress. Services may share a VIP when
their ports differ (§2.3: "the backend database can use any one of the three IP addresses as
long as it will use a different port"); sharing is opted into, never decided behind a user's
back, in one of two ways:

* the annotation ``aksnet.io/vip-sharing-key: <key>`` (SHARING_ANNOTATION): Services with the
  same key share one VIP as long as no two of them use the same port and protocol (a Service
  whose ports clash with every VIP of its key gets a VIP of its own);
* ``spec.loadBalancerIP`` naming a VIP another Service of the cluster holds: honoured when none
  of that VIP's Services uses the same port and protocol.

A requested VIP outside the pool, or held by anything else (the API server, a node, another
cluster, a Service with a clashing port), is refused and the Service gets no address. Services
keep the VIP they hold from one run to the next, so planning twice plans the same thing.
This module decides; aksnet.loadbalancer.sync reads the cluster and the store, and applies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aksnet.errors import InvalidInput

SHARING_ANNOTATION = "aksnet.io/vip-sharing-key"
OWNER_KIND = "service"  # owner_kind of a Service's VIP allocation; owner is "<namespace>/<name>"
REFUSED = "LoadBalancerIPNotAvailable"
EXHAUSTED = "LoadBalancerIPPoolExhausted"
BACKEND_SUBSET_SIZE = 10  # nodes behind one Service frontend with externalTrafficPolicy Cluster


@dataclass(frozen=True, order=True)
class ServicePort:
    port: int
    protocol: str
    node_port: int | None
    name: str = ""


@dataclass(frozen=True)
class ServiceView:
    """What the load balancer needs of one Service (read from the API's JSON form)."""

    namespace: str
    name: str
    type: str
    uid: str = ""
    created: str = ""
    ports: tuple[ServicePort, ...] = ()
    requested_ip: str | None = None
    sharing_key: str | None = None
    ingress_ips: tuple[str, ...] = ()
    external_name: str | None = None
    external_traffic_policy: str = "Cluster"  # Kubernetes' default for LoadBalancer Services

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> ServiceView:
        metadata, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        ports = tuple(
            ServicePort(
                int(p["port"]), p.get("protocol") or "TCP", p.get("nodePort"), p.get("name") or ""
            )
            for p in spec.get("ports") or []
        )
        return cls(
            namespace=metadata.get("namespace") or "default",
            name=metadata["name"],
            type=spec.get("type") or "ClusterIP",
            uid=metadata.get("uid") or "",
            created=str(metadata.get("creationTimestamp") or ""),
            ports=ports,
            requested_ip=spec.get("loadBalancerIP") or None,
            sharing_key=(metadata.get("annotations") or {}).get(SHARING_ANNOTATION) or None,
            ingress_ips=tuple(i["ip"] for i in ingress if i.get("ip")),
            external_name=spec.get("externalName"),
            external_traffic_policy=spec.get("externalTrafficPolicy") or "Cluster",
        )

    @property
    def any_node_serves(self) -> bool:
        """True when every node forwards the Service's NodePort to its pods (policy Cluster:
        kube-proxy sends the traffic on to a pod on any node); with Local, only the nodes
        running one of its pods answer."""
        return self.external_traffic_policy != "Local"


def backend_subset(
    frontend: str, nodes: Sequence[str], size: int = BACKEND_SUBSET_SIZE
) -> list[str]:
    """The `size` nodes (all of them when there are fewer) behind one Service frontend, by
    rendezvous hashing: each node scores sha256(frontend, node) and the highest scores win.

    Why: with externalTrafficPolicy Cluster any node reaches the Service's pods, so naming every
    node in every backend only costs HAProxy (1,000 Services over 100 nodes are 100,000 server
    lines, most of the time of a reload or `haproxy -c`). The choice is deterministic (every
    sync renders the same haproxy.cfg), spreads the Services evenly over the nodes, and is
    stable: a node that joins or leaves changes only the subsets it enters or leaves.
    """
    if size < 1:
        raise InvalidInput("size", size, "use at least 1 node per Service backend.")
    if len(nodes) <= size:
        return sorted(nodes)

    def score(node: str) -> bytes:
        return hashlib.sha256(f"{frontend}\0{node}".encode()).digest()

    return sorted(sorted(nodes, key=score, reverse=True)[:size])


def ports_clash(a: ServiceView, b: ServiceView) -> bool:
    """True when the two Services listen on one port with one protocol."""
    return bool({(p.port, p.protocol) for p in a.ports} & {(p.port, p.protocol) for p in b.ports})


@dataclass(frozen=True)
class HeldVip:
    """An address of the VIP pool as the store records it: who owns it, for which cluster."""

    address: str
    owner_kind: str
    owner: str
    cluster: str | None


@dataclass(frozen=True)
class Refusal:
    """Why a LoadBalancer Service gets no address: an Event reason and message."""

    reason: str
    message: str


@dataclass
class VipPlan:
    """The outcome of planning: VIP per Service key, new allocations, refusals."""

    vip_of: dict[str, str] = field(default_factory=dict)
    new: dict[str, str] = field(default_factory=dict)  # address -> first holder (to allocate)
    refused: dict[str, Refusal] = field(default_factory=dict)

    def holders(self, address: str, services: Mapping[str, ServiceView]) -> list[ServiceView]:
        return [services[k] for k, a in self.vip_of.items() if a == address]


InPool = Callable[[str], bool]
NextFree = Callable[[set[str]], str | None]


def plan_vips(
    cluster: str,
    services: Sequence[ServiceView],
    held: Mapping[str, HeldVip],
    in_pool: InPool,
    next_free: NextFree,
) -> VipPlan:
    """Decide the VIP of every LoadBalancer Service in `services`.

    held: the network's allocated addresses; in_pool(address): whether the VIP pool hands it
    out; next_free(also_taken): the next free pool address not in also_taken, None when the
    pool is exhausted. Services holding a VIP keep it; the others are served oldest first.
    """
    by_key = {s.key: s for s in services if s.type == "LoadBalancer"}
    plan = VipPlan()
    ours = {a for a, h in held.items() if h.owner_kind == OWNER_KIND and h.cluster == cluster}
    for service in sorted(by_key.values(), key=lambda s: s.key):
        current = _current_vip(service, ours, held)
        if current is not None and _may_hold(service, current, plan, by_key):
            plan.vip_of[service.key] = current
    waiting = [s for s in by_key.values() if s.key not in plan.vip_of]
    for service in sorted(waiting, key=lambda s: (s.created, s.key)):
        if service.requested_ip:
            _place_requested(service, cluster, held, in_pool, plan, by_key)
        else:
            _place_any(service, next_free, plan, by_key, set(held), ours)
    return plan


def _current_vip(service: ServiceView, ours: set[str], held: Mapping[str, HeldVip]) -> str | None:
    for address in service.ingress_ips:
        if address in ours:
            return address
    owned = [a for a in ours if held[a].owner == service.key]
    return min(owned) if owned else None


def _may_hold(
    service: ServiceView, address: str, plan: VipPlan, by_key: Mapping[str, ServiceView]
) -> bool:
    if service.requested_ip and service.requested_ip != address:
        return False  # the user asked for another VIP since: move
    return not any(ports_clash(service, h) for h in plan.holders(address, by_key))


def _place_requested(
    service: ServiceView,
    cluster: str,
    held: Mapping[str, HeldVip],
    in_pool: InPool,
    plan: VipPlan,
    by_key: Mapping[str, ServiceView],
) -> None:
    address = str(service.requested_ip)
    if not in_pool(address):
        why = "it is not an address of the cluster network's VIP pool"
        plan.refused[service.key] = Refusal(REFUSED, f"loadBalancerIP {address}: {why}")
        return
    holder = held.get(address)
    if holder is not None and not (holder.owner_kind == OWNER_KIND and holder.cluster == cluster):
        owner = f"{holder.owner_kind} '{holder.owner}'"
        if holder.cluster and holder.cluster != cluster:
            owner += f" of cluster '{holder.cluster}'"
        why = f"it is already allocated to {owner}"
        plan.refused[service.key] = Refusal(REFUSED, f"loadBalancerIP {address}: {why}")
        return
    clashing = [h.key for h in plan.holders(address, by_key) if ports_clash(service, h)]
    if clashing:
        why = f"it is held by Service {', '.join(clashing)} on the same port"
        plan.refused[service.key] = Refusal(REFUSED, f"loadBalancerIP {address}: {why}")
        return
    if holder is None and address not in plan.new:
        plan.new[address] = service.key
    plan.vip_of[service.key] = address


def _place_any(
    service: ServiceView,
    next_free: NextFree,
    plan: VipPlan,
    by_key: Mapping[str, ServiceView],
    held: set[str],
    ours: set[str],
) -> None:
    """A VIP shared by key, else the next free one; a VIP of this cluster's Services that no
    Service holds any more counts as free (it is re-owned instead of released)."""
    if service.sharing_key:
        for address in sorted(set(plan.vip_of.values())):
            holders = plan.holders(address, by_key)
            if all(h.sharing_key == service.sharing_key for h in holders) and not any(
                ports_clash(service, h) for h in holders
            ):
                plan.vip_of[service.key] = address
                return
    free = next_free((held - ours) | set(plan.new) | set(plan.vip_of.values()))
    if free is None:
        message = "no free address in the cluster network's VIP pool"
        plan.refused[service.key] = Refusal(EXHAUSTED, message)
        return
    if free not in ours:
        plan.new[free] = service.key
    plan.vip_of[service.key] = free
