"""One run of `Sync-AksHciLoadBalancer -name c1`: Services to VIPs to the load-balancer VMs.

A run connects to the cluster (its admin kubeconfig read over SSH from the first control plane,
as Get-AksHciCredential reads it, but kept in memory: no file is written; the API is reached
at the kubeconfig's server, the API-server VIP), then runs two phases under the plan runner:

1. "Synchronise the Services": sync_load_balancer() decides first without writing (dry_run);
   when it would change anything (a VIP allocated or released, a Service's status, an Event),
   one action, titled with those changes, runs it for real.
2. "Configure the load balancer": LoadBalancerSetup with the frontends phase 1 returned (the
   API server's and one per Service VIP and port) on the cluster's load-balancer VMs
   (`<cluster>-lb-<i>`, addresses from the store, the admin key and pinned host keys).

A real run holds the cluster's lease and is journaled (kind "sync"); a what-if run takes no
lease, lists the actions and changes nothing; a second run performs zero actions.
loadBalancerSku none: there is no load-balancer VM; the Services are reported and get no
address (a custom load balancer serves them), so phase 2 is skipped.
watch_cluster_load_balancer() runs again after every change of a Service until stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client as k8s

from aksnet.cluster.create import CreateOptions
from aksnet.cluster.hosts import HostConnections
from aksnet.cluster.keys import ClusterKeys
from aksnet.cluster.records import API_VIP_OWNER_KIND
from aksnet.cluster.scale import first_control_plane, reported_address
from aksnet.errors import RemoteError, StateConflict
from aksnet.infra.provision import DEFAULT_ROOT
from aksnet.loadbalancer.frontends import API_FRONTEND
from aksnet.loadbalancer.saved import save_service_frontends
from aksnet.loadbalancer.setup import LoadBalancerSetup, LoadBalancerVm
from aksnet.loadbalancer.sync import (
    API_UNAVAILABLE,
    SyncResult,
    api_client_for,
    sync_load_balancer,
    wait_for_service_change,
)
from aksnet.plan import Phase, ProgressListener, RunContext, apply, dry_run
from aksnet.plan.journal import StoreJournal
from aksnet.remote.ssh import SSHSession
from aksnet.state.store import Store

log = logging.getLogger(__name__)

JOURNAL_KIND = "sync"
API_HOST = "api"  # the host name of the Services' action (the cluster's API, not a VM)


@dataclass
class ClusterConnections:
    """The cluster's API client and its load-balancer VMs' sessions; close() ends them."""

    api_client: k8s.ApiClient
    vms: list[LoadBalancerVm] = field(default_factory=list)
    sessions: list[SSHSession] = field(default_factory=list)

    def close(self) -> None:
        for session in self.sessions:
            session.close()
        self.api_client.close()  # type: ignore[no-untyped-call]


@dataclass
class LoadBalancerSyncResult:
    """One run: what the sync decided and the actions performed (or, in what-if, planned)."""

    cluster: str
    what_if: bool
    sync: SyncResult
    actions: list[str]
    operation: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.sync.to_dict(),
            "WhatIf": self.what_if,
            "Actions": self.actions,
            "ActionCount": len(self.actions),
            "Operation": self.operation,
        }


def connect(
    store: Store,
    name: str,
    *,
    admin_user: str = CreateOptions.admin_user,
    hosts: HostConnections | None = None,
) -> ClusterConnections:
    """The API client (kubeconfig read over SSH, kept in memory) and the load-balancer VMs."""
    from aksnet.cluster.credential import _fetch  # Get-AksHciCredential's reader

    spec = store.get_cluster(name)
    keys = ClusterKeys.beside(store.path, spec.name)
    first = first_control_plane(store, spec, keys, admin_user, hosts)
    try:
        kubeconfig = _fetch(first.shell, first.name).decode("utf-8", "replace")
    finally:
        first.shell.close()
    connections = ClusterConnections(api_client_for(kubeconfig))
    if spec.load_balancer.sku == "none":
        return connections
    for vm, address in load_balancer_addresses(store, name, hosts):
        keys.known_hosts.pin(address, 22, keys.host_key(vm).public_line)
        session = SSHSession(
            address,
            username=admin_user,
            private_key=keys.admin().to_paramiko(),
            known_hosts=keys.known_hosts,
        )
        connections.sessions.append(session)
        connections.vms.append(LoadBalancerVm(vm, address, session))
    return connections


def load_balancer_addresses(
    store: Store, name: str, hosts: HostConnections | None = None
) -> list[tuple[str, str]]:
    """(VM name, address) of the cluster's load-balancer VMs `<cluster>-lb-<i>`, in order: the
    store's address (static model), else the one its host reports (DHCP model, given hosts)."""
    spec = store.get_cluster(name)
    held = {
        a.owner: str(a.address)
        for a in store.allocations(spec.vnet, cluster=spec.name)
        if a.owner_kind == "vm"
    }
    found = []
    for index in range(spec.load_balancer.vm_count):
        vm = f"{spec.name}-lb-{index}"
        address = held.get(vm)
        if address is None and hosts is not None:
            address = reported_address(store, spec, vm, hosts, DEFAULT_ROOT)
        if address is None:
            raise StateConflict(
                f"No address is known for {vm}, a load-balancer VM of cluster '{spec.name}': "
                "create the cluster first (New-AksHciCluster), or, in the DHCP model, start "
                "its VM.",
                target=vm,
            )
        found.append((vm, address))
    return found


class SyncServices:
    """Phase 1: VIPs, status and Events of the cluster's Services (one action when needed)."""

    title = "Synchronise the Services"

    def __init__(self, store: Store, cluster: str, api_client: k8s.ApiClient) -> None:
        self.store, self.cluster, self.api_client = store, cluster, api_client
        self.result: SyncResult | None = None

    def prepare(self, ctx: RunContext) -> bool:
        return True

    def run(self, ctx: RunContext) -> None:
        planned = sync_load_balancer(self.store, self.cluster, self.api_client, dry_run=True)
        self.result = planned
        changes = describe_changes(planned)
        if not changes:
            return

        def sync() -> None:
            self.result = sync_load_balancer(self.store, self.cluster, self.api_client)

        title = f"update the Services of {self.cluster}: {'; '.join(changes)}"
        ctx.wet(API_HOST, title, sync, kind="change", repeatable=True)


def describe_changes(result: SyncResult) -> list[str]:
    """The sync's writes, as an action title lists them."""
    changes = [f"allocate VIP {a}" for a in result.allocated]
    changes += [f"release VIP {a}" for a in result.released]
    changes += [f"status of {key}" for key in result.status_updated]
    changes += [f"Event on {event}" for event in result.events]
    return changes


class ConfigureFrontends:
    """Phase 2: the frontends of phase 1 on the load-balancer VMs (LoadBalancerSetup)."""

    title = LoadBalancerSetup.title

    def __init__(
        self, services: SyncServices, vms: Sequence[LoadBalancerVm], api_vip: str | None
    ) -> None:
        self.services, self.vms, self.api_vip = services, list(vms), api_vip

    def prepare(self, ctx: RunContext) -> bool:
        return bool(self.vms)

    def run(self, ctx: RunContext) -> None:
        result = self.services.result
        assert result is not None  # phase 1 ran first
        if self.api_vip is None:
            raise StateConflict(
                f"cluster '{result.cluster}' holds no API server VIP in the store: create the "
                "cluster first (New-AksHciCluster)",
                target=result.cluster,
            )
        setup = LoadBalancerSetup(
            self.vms, result.frontends, cluster=result.cluster, api_vip=self.api_vip
        )
        setup.run(ctx)
        if not ctx.dry_run:  # for cluster create, which renders the same VMs' configuration
            folder = ClusterKeys.beside(self.services.store.path, result.cluster).folder
            save_service_frontends(folder, result.frontends, API_FRONTEND)


def _api_vip(store: Store, name: str) -> str | None:
    spec = store.get_cluster(name)
    for allocation in store.allocations(spec.vnet, cluster=spec.name):
        if allocation.owner_kind == API_VIP_OWNER_KIND:
            return str(allocation.address)
    return None


def sync_with(
    store: Store,
    name: str,
    connections: ClusterConnections,
    *,
    what_if: bool = False,
    listeners: Sequence[ProgressListener] = (),
) -> LoadBalancerSyncResult:
    """One run over open connections (see the module docstring)."""
    spec = store.get_cluster(name)
    services = SyncServices(store, spec.name, connections.api_client)
    phases: list[Phase] = [
        services,
        ConfigureFrontends(services, connections.vms, _api_vip(store, name)),
    ]
    if what_if:
        run = dry_run(phases, listeners=listeners)
    else:
        with StoreJournal(store.path, kind=JOURNAL_KIND, target=spec.name) as journal:
            run = apply(phases, journal=journal, listeners=listeners)
    assert services.result is not None
    titles = [r.title for r in run.changes]
    log.debug("load balancer sync of %s: %d action(s)", spec.name, len(titles))
    return LoadBalancerSyncResult(spec.name, what_if, services.result, titles, run.operation)


def sync_cluster_load_balancer(
    store: Store,
    name: str,
    *,
    what_if: bool = False,
    hosts: HostConnections | None = None,
    admin_user: str = CreateOptions.admin_user,
    listeners: Sequence[ProgressListener] = (),
) -> LoadBalancerSyncResult:
    """Sync-AksHciLoadBalancer -name: connect, run once, disconnect."""
    connections = connect(store, name, admin_user=admin_user, hosts=hosts)
    try:
        return sync_with(store, name, connections, what_if=what_if, listeners=listeners)
    finally:
        connections.close()


# What a watch loop waits out and tries again: the API or a VM unreachable, a foreign lease.
RETRIED = (*API_UNAVAILABLE, RemoteError, StateConflict)


def watch_with(
    store: Store,
    name: str,
    connections: ClusterConnections,
    stop: threading.Event,
    on_result: Callable[[LoadBalancerSyncResult], None],
    *,
    poll_seconds: int = 5,
    resync_seconds: float = 60.0,
    listeners: Sequence[ProgressListener] = (),
) -> None:
    """Run, then run again after every change of a Service (and every resync_seconds, for
    node changes), until `stop` is set; failures in RETRIED are retried every poll_seconds."""
    core = k8s.CoreV1Api(connections.api_client)
    while not stop.is_set():
        try:
            result = sync_with(store, name, connections, listeners=listeners)
            listing = core.list_service_for_all_namespaces()
        except RETRIED as error:
            log.warning("load balancer sync of %s failed (%s); retrying", name, error)
            stop.wait(poll_seconds)
            continue
        on_result(result)
        version = None if listing.metadata is None else listing.metadata.resource_version
        wait_for_service_change(core, version, stop, poll_seconds, resync_seconds)


def watch_cluster_load_balancer(
    store: Store,
    name: str,
    stop: threading.Event,
    on_result: Callable[[LoadBalancerSyncResult], None],
    *,
    hosts: HostConnections | None = None,
    admin_user: str = CreateOptions.admin_user,
    poll_seconds: int = 5,
    resync_seconds: float = 60.0,
    listeners: Sequence[ProgressListener] = (),
) -> None:
    """Sync-AksHciLoadBalancer -Watch: connect, then watch_with until `stop` is set."""
    connections = connect(store, name, admin_user=admin_user, hosts=hosts)
    try:
        watch_with(
            store,
            name,
            connections,
            stop,
            on_result,
            poll_seconds=poll_seconds,
            resync_seconds=resync_seconds,
            listeners=listeners,
        )
    finally:
        connections.close()
