"""`Sync-AksHciLoadBalancer`: give LoadBalancer Services their VIPs, as a cloud provider does.

sync_load_balancer() reads the cluster's Services and Nodes through its API with the official
kubernetes client, plans the VIPs (aksnet.loadbalancer.services), records them in the store's VIP
pool (owner_kind "service", owner "<namespace>/<name>", cluster = the cluster), writes
status.loadBalancer.ingress back to each Service, reports refusals and pool exhaustion as
Kubernetes Events on the Service and in the result, releases the VIPs no Service holds any
more, and returns the load balancer's desired frontends: the API server's (VIP:6443 to every
control-plane node) and one per VIP and TCP port to the workers' NodePorts (to a subset of
10 of them per Service with externalTrafficPolicy Cluster, to all with Local). Everything it
writes is compared with what is there first, so a second run changes nothing.
watch_load_balancer() runs it again whenever a Service changes, until a stop event is set.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Any

import urllib3
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException

from aksnet.cluster.records import API_VIP_OWNER_KIND
from aksnet.errors import InvalidInput, StateConflict
from aksnet.loadbalancer.frontends import API_FRONTEND, API_SERVER_PORT, Backend, Frontend
from aksnet.loadbalancer.services import (
    OWNER_KIND,
    HeldVip,
    InPool,
    NextFree,
    Refusal,
    ServiceView,
    VipPlan,
    backend_subset,
    plan_vips,
)
from aksnet.model.network import NetworkSetting
from aksnet.network.addressing import parse_address
from aksnet.state.store import Store

log = logging.getLogger(__name__)
API_UNAVAILABLE = (ApiException, urllib3.exceptions.HTTPError, OSError)
CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
EVENT_SOURCE = "aksnet-load-balancer"


@dataclass(frozen=True)
class ServiceOutcome:
    """One Service as the sync left it."""

    namespace: str
    name: str
    type: str
    vip: str | None = None
    ports: tuple[int, ...] = ()
    dns_name: str | None = None
    problem: Refusal | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "Namespace": self.namespace,
            "Name": self.name,
            "Type": self.type,
            "Vip": self.vip,
            "Ports": list(self.ports),
            "DnsName": self.dns_name,
            "Problem": None if self.problem is None else self.problem.__dict__,
        }


@dataclass
class SyncResult:
    """What one sync decided and changed. changed is False when it changed nothing."""

    cluster: str
    frontends: tuple[Frontend, ...] = ()
    services: list[ServiceOutcome] = field(default_factory=list)
    allocated: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    status_updated: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[ServiceOutcome]:
        return [s for s in self.services if s.problem is not None]

    @property
    def changed(self) -> bool:
        return bool(self.allocated or self.released or self.status_updated or self.events)

    def to_dict(self) -> dict[str, Any]:
        return {
            "Cluster": self.cluster,
            "Frontends": [
                {"Name": f.name, "Vip": f.vip, "Port": f.port, "Backends": len(f.backends)}
                for f in self.frontends
            ],
            "Services": [s.to_dict() for s in self.services],
            "Allocated": self.allocated,
            "Released": self.released,
            "StatusUpdated": self.status_updated,
            "Events": self.events,
            "Problems": [s.to_dict() for s in self.problems],
            "Notes": self.notes,
        }


def api_client_for(kubeconfig: str) -> k8s.ApiClient:
    """A client of the cluster whose kubeconfig (YAML text, e.g. Get-AksHciCredential's) is
    given; the caller closes it. The text holds a private key: it is never logged."""
    try:
        document = yaml.safe_load(kubeconfig)
    except yaml.YAMLError:
        document = None  # the parser's message quotes the text: not repeated here
    if not isinstance(document, dict) or "clusters" not in document:
        allowed = "it must be a kubeconfig document."
        raise InvalidInput("kubeconfig", kubeconfig, allowed, secret=True)
    made = k8s_config.new_client_from_config_dict(  # type: ignore[no-untyped-call]
        document, persist_config=False
    )
    assert isinstance(made, k8s.ApiClient)
    return made


def sync_load_balancer(
    store: Store, cluster: str, api_client: k8s.ApiClient, *, dry_run: bool = False
) -> SyncResult:
    """One pass: VIPs for the cluster's LoadBalancer Services, status, events, frontends.
    dry_run: decide the same and report it, but write nothing (store, Services, Events)."""
    core = k8s.CoreV1Api(api_client)
    for attempt in (1, 2):
        services = [
            ServiceView.from_api(s)
            for s in _items(api_client, core.list_service_for_all_namespaces())
        ]
        try:
            return _sync_once(store, cluster, core, api_client, services, dry_run)
        except StateConflict:
            if attempt == 2:
                raise
            log.debug("VIP taken by another writer during sync of %s; planning again", cluster)
    raise AssertionError("unreachable")


def _sync_once(
    store: Store,
    cluster: str,
    core: k8s.CoreV1Api,
    api_client: k8s.ApiClient,
    services: list[ServiceView],
    dry_run: bool = False,
) -> SyncResult:
    spec = store.get_cluster(cluster)
    if spec.load_balancer.sku == "none":
        return _without_load_balancer(cluster, services)
    held = {
        str(a.address): HeldVip(str(a.address), a.owner_kind, a.owner, a.cluster)
        for a in store.allocations(spec.vnet)
    }
    in_pool, next_free = _vip_pool(store.get_network(spec.vnet))
    plan = plan_vips(cluster, services, held, in_pool, next_free)
    result = SyncResult(cluster)
    _apply_allocations(store, spec.vnet, cluster, plan, result, dry_run)
    by_key = {s.key: s for s in services}
    for service in services:
        result.services.append(_reconcile(core, api_client, service, plan, result, dry_run))
    _release_unheld(store, spec.vnet, cluster, plan, held, by_key, result, dry_run)
    nodes = _items(api_client, core.list_node())
    api_vips = [
        a for a, h in held.items() if (h.owner_kind, h.cluster) == (API_VIP_OWNER_KIND, cluster)
    ]
    api_vip = api_vips[0] if api_vips else None
    if api_vip is None:
        result.notes.append(f"cluster '{cluster}' has no API server VIP in the store")
    result.frontends = desired_frontends(api_vip, nodes, services, plan, result)
    log.debug("load balancer sync of %s: %s", cluster, result.to_dict())
    return result


def _vip_pool(network: NetworkSetting) -> tuple[InPool, NextFree]:
    """Whether the network's VIP pool hands out an address, and its next free address."""
    pool, excluded = network.pool("vip"), network.never_handed_out()

    def in_pool(address: str) -> bool:
        try:
            value = int(IPv4Address(address))
        except ValueError:  # not an IPv4 address (loadBalancerIP is the user's text)
            return False
        return pool.first <= value <= pool.last and value not in excluded

    def next_free(taken: set[str]) -> str | None:
        used = {int(IPv4Address(a)) for a in taken}
        for value in range(pool.first, pool.last + 1):
            if value not in used and value not in excluded:
                return str(IPv4Address(value))
        return None

    return in_pool, next_free


def _without_load_balancer(cluster: str, services: list[ServiceView]) -> SyncResult:
    """loadBalancerSku none: no load balancer VM, so LoadBalancer Services get no address here
    (akshci-module.md §4.1: a custom load balancer, such as MetalLB, serves them); the sync
    reports them and writes nothing, leaving their status to that load balancer."""
    result = SyncResult(cluster)
    result.notes.append(
        f"cluster '{cluster}' has loadBalancerSku none: LoadBalancer Services get no address "
        "from aksnet; configure a custom load balancer for them"
    )
    for service in services:
        ports = tuple(p.port for p in service.ports)
        dns = service.external_name if service.type == "ExternalName" else None
        result.services.append(
            ServiceOutcome(service.namespace, service.name, service.type, ports=ports, dns_name=dns)
        )
    return result


def _apply_allocations(
    store: Store,
    network: str,
    cluster: str,
    plan: VipPlan,
    result: SyncResult,
    dry_run: bool,
) -> None:
    for address, owner in sorted(plan.new.items()):
        if not dry_run:
            store.allocate(
                network, "vip", owner_kind=OWNER_KIND, owner=owner, addresses=[address],
                cluster=cluster,
            )  # fmt: skip
        result.allocated.append(address)


def _release_unheld(
    store: Store,
    network: str,
    cluster: str,
    plan: VipPlan,
    held: Mapping[str, HeldVip],
    by_key: Mapping[str, ServiceView],
    result: SyncResult,
    dry_run: bool,
) -> None:
    """Free the VIPs no Service holds; a VIP whose owner is gone but still shared is handed
    to a remaining holder, so the store names a live Service."""
    ours = [h for h in held.values() if h.owner_kind == OWNER_KIND and h.cluster == cluster]
    for vip in ours:
        holders = sorted(k for k, a in plan.vip_of.items() if a == vip.address)
        if not holders:
            if not dry_run:
                store.release(network, [vip.address])
            result.released.append(vip.address)
        elif vip.owner not in holders and not dry_run:
            with store.transaction() as tx:
                tx.execute(
                    "UPDATE allocations SET owner = ? WHERE network = ? AND address = ?",
                    (holders[0], network, int(parse_address("address", vip.address))),
                )


def _reconcile(
    core: k8s.CoreV1Api,
    api_client: k8s.ApiClient,
    service: ServiceView,
    plan: VipPlan,
    result: SyncResult,
    dry_run: bool,
) -> ServiceOutcome:
    """Write the Service's status (and Event) as the plan says; returns its outcome."""
    ports = tuple(p.port for p in service.ports)
    if service.type == "ExternalName":
        return ServiceOutcome(
            service.namespace, service.name, service.type, dns_name=service.external_name
        )
    vip = plan.vip_of.get(service.key)
    wanted = (vip,) if vip else ()
    # A Service that stopped being a LoadBalancer loses its address, as with a cloud provider.
    if (service.type == "LoadBalancer" or service.ingress_ips) and service.ingress_ips != wanted:
        body = {"status": {"loadBalancer": {"ingress": [{"ip": a} for a in wanted]}}}
        if not dry_run:
            core.patch_namespaced_service_status(service.name, service.namespace, body)
        result.status_updated.append(service.key)
    refusal = plan.refused.get(service.key)
    if refusal is not None:
        if _ensure_event(core, api_client, service, refusal, dry_run):
            result.events.append(f"{service.key}: {refusal.reason}")
        return ServiceOutcome(
            service.namespace, service.name, service.type, ports=ports, problem=refusal
        )
    return ServiceOutcome(service.namespace, service.name, service.type, vip=vip, ports=ports)


def _ensure_event(
    core: k8s.CoreV1Api,
    api_client: k8s.ApiClient,
    service: ServiceView,
    refusal: Refusal,
    dry_run: bool = False,
) -> bool:
    """A Warning Event on the Service, unless the same one is there; True when created (or,
    in a dry run, when it would be)."""
    selector = f"involvedObject.name={service.name},involvedObject.kind=Service"
    existing = _items(
        api_client, core.list_namespaced_event(service.namespace, field_selector=selector)
    )
    for known in existing:
        same_object = (known.get("involvedObject") or {}).get("uid") == service.uid
        if (
            same_object
            and known.get("reason") == refusal.reason
            and known.get("message") == refusal.message
        ):
            return False
    if dry_run:
        return True
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{service.name}.", "namespace": service.namespace},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Service",
            "name": service.name,
            "namespace": service.namespace,
            "uid": service.uid,
        },
        "reason": refusal.reason,
        "message": refusal.message,
        "type": "Warning",
        "source": {"component": EVENT_SOURCE},
        "count": 1,
        "firstTimestamp": now,
        "lastTimestamp": now,
    }
    event = k8s.CoreV1Event.from_dict(body)
    assert event is not None  # from_dict returns None only for None
    core.create_namespaced_event(service.namespace, event)
    return True


def desired_frontends(
    api_vip: str | None,
    nodes: list[dict[str, Any]],
    services: list[ServiceView],
    plan: VipPlan,
    result: SyncResult,
) -> tuple[Frontend, ...]:
    """The API server's frontend and one per VIP and TCP port, to the nodes' NodePorts: a
    Service with externalTrafficPolicy Cluster to a subset of the nodes (backend_subset: any
    node forwards to its pods, and HAProxy's cost follows the server lines), one with Local
    to every node (HAProxy's health check finds those with a local endpoint)."""
    control_plane = [n for n in nodes if _is_control_plane(n)]
    workers = [n for n in nodes if not _is_control_plane(n) and _ready(n)]
    targets = workers or [n for n in nodes if _ready(n)]  # control-plane nodes run kube-proxy too
    frontends = []
    if api_vip is not None:
        backends = tuple(sorted(_backend(n, API_SERVER_PORT) for n in control_plane))
        frontends.append(Frontend(API_FRONTEND, api_vip, API_SERVER_PORT, backends))
    for service in services:
        vip = plan.vip_of.get(service.key)
        if vip is None or service.type != "LoadBalancer":
            continue
        for port in service.ports:
            if port.protocol != "TCP" or port.node_port is None:
                result.notes.append(
                    f"{service.key} port {port.port}/{port.protocol}: not served (TCP only)"
                )
                continue
            name = frontend_name(service, port.port)
            chosen = targets
            if service.any_node_serves:
                subset = set(backend_subset(name, [_node_name(n) for n in targets]))
                chosen = [n for n in targets if _node_name(n) in subset]
            backends = tuple(sorted(_backend(n, port.node_port) for n in chosen))
            frontends.append(Frontend(name, vip, port.port, backends))
    return tuple(sorted(frontends))


def frontend_name(service: ServiceView, port: int) -> str:
    """ "svc-<namespace>.<name>-<port>": unique, because neither a namespace nor a Service
    name may hold a dot, and the port is the last part; safe as an HAProxy section name."""
    return f"svc-{service.namespace}.{service.name}-{port}"


def watch_load_balancer(
    store: Store,
    cluster: str,
    api_client: k8s.ApiClient,
    stop: threading.Event,
    on_result: Callable[[SyncResult], None] | None = None,
    *,
    poll_seconds: int = 5,
    resync_seconds: float = 60.0,
) -> None:
    """Sync, then sync again after every change of a Service, until `stop` is set.

    The watch is opened for at most poll_seconds at a time so that `stop` is honoured soon.
    Nodes are not watched: a full sync every resync_seconds picks up joined or removed nodes,
    as a controller's resync period does. An unreachable API is retried every poll_seconds.
    """
    core = k8s.CoreV1Api(api_client)
    while not stop.is_set():
        try:
            result = sync_load_balancer(store, cluster, api_client)
            listing = core.list_service_for_all_namespaces()
        except API_UNAVAILABLE as error:
            log.debug("load balancer sync of %s failed (%s); retrying", cluster, error)
            stop.wait(poll_seconds)
            continue
        if on_result is not None:
            on_result(result)
        version = None if listing.metadata is None else listing.metadata.resource_version
        wait_for_service_change(core, version, stop, poll_seconds, resync_seconds)


def wait_for_service_change(
    core: k8s.CoreV1Api,
    version: str | None,
    stop: threading.Event,
    poll_seconds: int,
    resync_seconds: float,
) -> None:
    """Return when a Service changed after `version`, `stop` is set, or resync_seconds passed."""
    next_resync = time.monotonic() + resync_seconds
    while not stop.is_set() and time.monotonic() < next_resync:
        if _changed_within(core, version, poll_seconds):
            return


def _changed_within(core: k8s.CoreV1Api, version: str | None, seconds: int) -> bool:
    """True when a Service changed after `version` (or the watch must start again)."""
    watcher = k8s_watch.Watch()  # type: ignore[no-untyped-call]
    try:
        for _event in watcher.stream(  # type: ignore[no-untyped-call]
            core.list_service_for_all_namespaces, resource_version=version, timeout_seconds=seconds
        ):
            return True
    except API_UNAVAILABLE as error:  # 410 Gone, or the connection dropped: sync again
        log.debug("service watch ended (%s); syncing again", error)
        return True
    finally:
        watcher.stop()  # type: ignore[no-untyped-call]
    return False


def _items(api_client: k8s.ApiClient, listing: Any) -> list[dict[str, Any]]:
    """The items of a client list response in their API (camelCase) form."""
    data = api_client.sanitize_for_serialization(listing)  # type: ignore[no-untyped-call]
    return list(data.get("items") or [])


def _is_control_plane(node: Mapping[str, Any]) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    return any(label in labels for label in CONTROL_PLANE_LABELS)


def _ready(node: Mapping[str, Any]) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _node_name(node: Mapping[str, Any]) -> str:
    return str(node["metadata"]["name"])


def _backend(node: Mapping[str, Any], port: int) -> Backend:
    name = _node_name(node)
    addresses = (node.get("status") or {}).get("addresses") or []
    internal = [a["address"] for a in addresses if a.get("type") == "InternalIP"]
    return Backend(name, internal[0] if internal else name, port)
