"""Test- and Repair-AksHciClusterNetwork: every cluster (or one) checked in parallel, by deadline.

Test: for each cluster, the remediation checks (aksnet.remediation.checks) and create's own
checks (aksnet.remediation.converge) run as dry runs; nothing changes. Repair: under the
cluster's remediation lease (`remediation:<name>`, so two repairs never both act; the second is
refused and listed in `refused`), the checks' fixes are applied under the cluster's lease, then
create itself runs (its journal takes the cluster's lease: it converges what it finds). With
what_if, Repair is Test with the actions it would take.

Clusters run in parallel threads, each on a set of host sessions leased from the run's pool
for its whole check or repair (aksnet.remediation.sessions: reused by the next cluster, not
opened twice per cluster); per-host limits are the runner's (options.per_host). A cluster
whose checks have not finished by the deadline gets an error row and is not waited on (its
thread is a daemon and ends when its hosts answer or time out). One host failing is an error row
for that host; the other hosts' and clusters' checks go on.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from aksnet.cluster.create import CreateOptions, create_cluster
from aksnet.cluster.hosts import HostConnections, close_all
from aksnet.cluster.keys import ClusterKeys
from aksnet.errors import HostFailures, InvalidInput, StateConflict
from aksnet.infra.windowsseed import WINRM_PORT
from aksnet.model.cluster import ClusterSpec
from aksnet.network.plugins import get_plugin
from aksnet.plan import ProgressListener, apply, dry_run
from aksnet.remediation import services
from aksnet.remediation.checks import ClusterChecks, Expected
from aksnet.remediation.converge import PlannedByPhase, create_rows, rows_of
from aksnet.remediation.names import VmNames
from aksnet.remediation.report import DRIFT, ERROR, OK, Report, Row
from aksnet.remediation.sessions import HostSessionPool
from aksnet.remote.base import Credential, Endpoint, PowerShellSession, ShellSession
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.psrp import PSRPSession
from aksnet.remote.ssh import SSHSession
from aksnet.state.lease import HeldLease
from aksnet.state.macs import macs_of
from aksnet.state.store import Store

log = logging.getLogger(__name__)

DEFAULT_DEADLINE = 600.0
# Clusters checked at once; within one, the runner's per-host limit (options.per_host) holds.
CLUSTERS_AT_ONCE = 8


@dataclass(frozen=True)
class ClusterResult:
    rows: list[Row]
    actions: list[tuple[str, str]]
    refused: bool = False


def test_cluster_network(
    store: Store,
    hosts: HostConnections,
    name: str | None = None,
    *,
    deadline: float = DEFAULT_DEADLINE,
    options: CreateOptions | None = None,
) -> Report:
    """Check every cluster (or `name`); change nothing. Report.exit_code: 0 / 1 / 2."""
    opts = options or CreateOptions()
    with _shared(hosts) as pool:
        return _each_cluster(store, name, deadline, _leasing(pool, _test, opts))


def repair_cluster_network(
    store: Store,
    hosts: HostConnections,
    name: str | None = None,
    *,
    what_if: bool = False,
    deadline: float = DEFAULT_DEADLINE,
    options: CreateOptions | None = None,
) -> Report:
    """Repair the drift of every cluster (or `name`) on objects aksnet created; with what_if,
    list what would be done and change nothing."""
    opts = options or CreateOptions()
    with _shared(hosts) as pool:
        if what_if:
            report = _each_cluster(store, name, deadline, _leasing(pool, _test, opts))
            report.what_if = True
            return report
        return _each_cluster(store, name, deadline, _leasing(pool, _repair, opts))


ClusterWork = Callable[[Store, ClusterSpec, HostConnections, CreateOptions], ClusterResult]


@contextmanager
def _shared(hosts: HostConnections) -> Iterator[HostSessionPool]:
    """The run's host sessions, shared by its clusters (aksnet.remediation.sessions)."""
    pool = HostSessionPool(hosts)
    try:
        yield pool
    finally:
        pool.close()


def _leasing(pool: HostSessionPool, work: ClusterWork, opts: CreateOptions) -> Work:
    """One cluster's work on a set of sessions leased from the pool for its whole run."""

    def run(store: Store, spec: ClusterSpec) -> ClusterResult:
        with pool.lease() as hosts:
            return work(store, spec, hosts, opts)

    return run


# ---- per cluster ----------------------------------------------------------------------------


def _test(
    store: Store, spec: ClusterSpec, hosts: HostConnections, opts: CreateOptions
) -> ClusterResult:
    names = VmNames.of(spec)
    with _checks(store, spec, hosts, opts) as checks:
        run = dry_run([checks], per_host=opts.per_host)
        rows = list(checks.rows)
    actions = [(r.host, r.title) for r in run.changes]
    try:
        created = create_rows(store, spec, hosts, names, opts)
    except Exception as error:
        return ClusterResult(rows + _error_rows(spec.name, "create's checks", error), actions)
    if services.has_services(store, spec):
        try:
            synced, _done = services.sync_rows(store, spec, hosts, names, opts, what_if=True)
        except Exception as error:
            synced = _error_rows(spec.name, "load balancer (sync)", error)
        created = services.without_lb_rows(created) + synced
    actions += [(r.node, r.desired) for r in created if r.status == DRIFT]
    return ClusterResult(rows + created, actions)


def _repair(
    store: Store, spec: ClusterSpec, hosts: HostConnections, opts: CreateOptions
) -> ClusterResult:
    try:
        lease = HeldLease(store.path, f"remediation:{spec.name}")
    except StateConflict as error:
        row = Row(spec.name, "", "lease", ERROR, str(error), "one repair at a time")
        return ClusterResult([row], [], refused=True)
    with lease:
        with _checks(store, spec, hosts, opts) as checks, HeldLease(store.path, spec.name):
            run = apply([checks], per_host=opts.per_host)
        result = ClusterResult(list(checks.rows), [(r.host, r.title) for r in run.changes])
        try:
            return _converge(store, spec, hosts, opts, result)
        except Exception as error:
            result.rows.extend(_error_rows(spec.name, "repair", error))
            return result


def _converge(
    store: Store,
    spec: ClusterSpec,
    hosts: HostConnections,
    opts: CreateOptions,
    into: ClusterResult,
) -> ClusterResult:
    """Create's run (it converges), then for a cluster with Services the sync's. With Services,
    create runs only when its what-if finds more than the load balancer to do: its run would set
    the API frontend alone, and the Services' would be missing until the sync's reload."""
    names, with_services = VmNames.of(spec), services.has_services(store, spec)
    if not with_services or _create_has_work(store, spec, hosts, names, opts):
        done = PlannedByPhase(outcome="done")
        listeners: list[ProgressListener] = [*opts.listeners, done]
        created = create_cluster(store, spec, hosts, options=replace(opts, listeners=listeners))
        into.rows.extend(rows_of(spec.name, done, names))
        into.actions.extend((r.host, r.title) for r in created.run.changes)
    if with_services:
        synced, done_by_sync = services.sync_rows(store, spec, hosts, names, opts, what_if=False)
        into.rows[:] = services.without_lb_rows(into.rows) + synced
        into.actions.extend(done_by_sync)
    return into


def _create_has_work(
    store: Store, spec: ClusterSpec, hosts: HostConnections, names: VmNames, opts: CreateOptions
) -> bool:
    planned = services.without_lb_rows(create_rows(store, spec, hosts, names, opts))
    return any(r.status != OK for r in planned)


@contextmanager
def _checks(
    store: Store, spec: ClusterSpec, hosts: HostConnections, opts: CreateOptions
) -> Iterator[ClusterChecks]:
    """The checks phase with its host sessions and Windows node sessions, all closed after."""
    names = VmNames.of(spec)
    network = store.get_network(spec.vnet)
    macs = {m.owner: m.mac for m in macs_of(store, cluster=spec.name)}
    plugin = get_plugin(spec.primary_network_plugin).windows
    expected = Expected(
        spec.name,
        spec.vnet,
        {n: macs[n] for n in names.all if n in macs},
        [n for n in names.windows if n in macs],
        [n for n in names.load_balancers if n in macs],
        network.vswitch_name,
        network.vlan_id,
        (plugin.bootstrap_network, plugin.hns_network_name),
    )
    sessions = hosts.open()
    opened: list[PSRPSession] = []
    addresses = {
        a.owner: str(a.address)
        for a in store.allocations(spec.vnet, cluster=spec.name)
        if a.owner_kind == "vm"
    }
    keys = ClusterKeys.beside(store.path, spec.name)

    def windows_session(vm: str) -> PowerShellSession | None:
        certificate = keys.winrm_certificate_path(vm)
        if vm not in addresses or not certificate.exists():
            return None  # not made yet: create's checks plan it
        endpoint = Endpoint(
            addresses[vm], port=WINRM_PORT, ssl=True, auth="ntlm", cert_validation=str(certificate)
        )
        session = PSRPSession(endpoint, Credential(opts.admin_user, keys.windows_password()))
        opened.append(session)
        return session

    shells: list[SSHSession] = []

    def lb_shell(vm: str) -> tuple[str, ShellSession] | None:
        if vm not in addresses:
            return None
        known = KnownHosts(folder / f"known_hosts_{vm}")  # pinned here: the key folder unchanged
        known.pin(addresses[vm], 22, keys.host_key(vm).public_line)
        admin = keys.admin().to_paramiko()
        shell = SSHSession(
            addresses[vm], username=opts.admin_user, private_key=admin, known_hosts=known
        )
        shells.append(shell)
        return addresses[vm], shell

    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aksnet-rem-")))
        stack.callback(close_all, sessions)
        stack.callback(_close_each, opened)
        stack.callback(_close_each, shells)
        yield ClusterChecks(expected, sessions, store, windows_session, lb_shell)


def _close_each(sessions: Sequence[PSRPSession | SSHSession]) -> None:
    for session in sessions:
        session.close()


def _error_rows(cluster: str, check: str, error: Exception) -> list[Row]:
    if isinstance(error, HostFailures):
        return [
            Row(cluster, host, check, ERROR, f"{type(e).__name__}: {e}")
            for host, e in sorted(error.by_host.items())
        ]
    return [Row(cluster, "", check, ERROR, f"{type(error).__name__}: {error}")]


# ---- every cluster, in parallel, by the deadline --------------------------------------------

Work = Callable[[Store, ClusterSpec], ClusterResult]


def _each_cluster(store: Store, name: str | None, deadline: float, work: Work) -> Report:
    if not deadline > 0:
        raise InvalidInput("deadline", deadline, "it must be a positive number of seconds.")
    specs = [store.get_cluster(name)] if name is not None else store.list_clusters()
    results: dict[str, ClusterResult] = {}
    slots = threading.BoundedSemaphore(CLUSTERS_AT_ONCE)
    threads = [
        threading.Thread(
            target=_run_one,
            args=(store.path, spec, work, results, slots),
            daemon=True,
            name=f"aksnet-remediation-{spec.name}",
        )
        for spec in specs
    ]
    for thread in threads:
        thread.start()
    end = time.monotonic() + deadline
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    report = Report()
    for spec in specs:
        result = results.get(spec.name)
        if result is None:
            why = f"its checks did not finish within the deadline of {deadline:g} s"
            report.add([Row(spec.name, "", "deadline", ERROR, why, "answers within the deadline")])
            continue
        report.add(result.rows)
        report.actions += result.actions
        if result.refused:
            report.refused.append(spec.name)
    return report


def _run_one(
    path: Path,
    spec: ClusterSpec,
    work: Work,
    results: dict[str, ClusterResult],
    slots: threading.BoundedSemaphore,
) -> None:
    """One cluster on its own store connection (sqlite connections stay in their thread)."""
    try:
        with slots, Store(path) as store:
            results[spec.name] = work(store, spec)
    except Exception as error:
        log.debug("remediation of %s failed: %s", spec.name, error)
        results[spec.name] = ClusterResult(_error_rows(spec.name, "cluster", error), [])
