"""Create's own checks: create's phases run as a dry run against the real hosts (one code path).

Every action create would take is a drift item: its phase is the check, the VM it names is the
node, the action is the desired state (create's facts say only "differs", so observed is that
create's fact differed). An entry create defers until a VM runs ("... (once its VM runs)") is not
a finding about that node: it becomes a `not-checked` row saying why. Each node of each phase
that planned nothing is an `ok` row. Repair runs create itself (it converges).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from aksnet.cluster.create import CreateOptions, create_cluster
from aksnet.cluster.hosts import HostConnections
from aksnet.model.cluster import ClusterSpec
from aksnet.plan.progress import ActionFinished, PhaseStarted, ProgressEvent, ProgressListener
from aksnet.remediation.names import VmNames
from aksnet.remediation.report import DRIFT, NOT_CHECKED, OK, Row
from aksnet.state.store import Store

DEFERRED = "(once its VM runs)"
OBSERVED = "differs (create's fact)"


@dataclass
class PlannedByPhase:
    """A progress listener: each action with `outcome` ('planned' in a dry run, 'done' in an
    apply) and the phase it came from."""

    outcome: str = "planned"
    phases: list[str] = field(default_factory=list)
    planned: list[tuple[str, str, str]] = field(default_factory=list)  # phase, host, title
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on_event(self, event: ProgressEvent) -> None:
        with self._lock:
            if isinstance(event, PhaseStarted):
                self.phases.append(event.title)
            elif isinstance(event, ActionFinished) and event.outcome == self.outcome:
                phase = self.phases[-1] if self.phases else ""
                self.planned.append((phase, event.host, event.title))


def create_rows(
    store: Store,
    spec: ClusterSpec,
    hosts: HostConnections,
    names: VmNames,
    options: CreateOptions,
) -> list[Row]:
    """Create's what-if (on a scratch copy of the store and keys) as report rows."""
    listener = PlannedByPhase()
    listeners: list[ProgressListener] = [*options.listeners, listener]
    create_cluster(store, spec, hosts, what_if=True, options=replace(options, listeners=listeners))
    return rows_of(spec.name, listener, names)


def rows_of(cluster: str, listener: PlannedByPhase, names: VmNames) -> list[Row]:
    vm_names = names.all
    find_node = NodeFinder(vm_names)
    rows: list[Row] = []
    flagged: set[tuple[str, str]] = set()
    for phase, host, title in listener.planned:
        node = find_node(title) or host
        flagged.add((phase, node))
        if title.endswith(DEFERRED):
            why = "not checked: a VM this run must first start or create"
            rows.append(Row(cluster, node, phase, NOT_CHECKED, why, title))
        else:
            rows.append(Row(cluster, node, phase, DRIFT, OBSERVED, title))
    for phase in listener.phases:
        for node in vm_names:
            if (phase, node) not in flagged and _covers(phase, node, names):
                rows.append(Row(cluster, node, phase, OK, "as create wants", "as create wants"))
    return rows


class NodeFinder:
    """The VM a title names (the longest match, so c1-cp-10 is not c1-cp-1; of two as long, the
    first listed). One pattern for all the names, compiled once per report: a pattern per name
    and title (20 x 40 per cluster, 20 clusters) overflowed re's cache and was compiled again
    and again."""

    def __init__(self, vm_names: Sequence[str]) -> None:
        self._canonical: dict[str, str] = {}
        for name in sorted(vm_names, key=len, reverse=True):
            self._canonical.setdefault(name.lower(), name)
        self._rank = {name: rank for rank, name in enumerate(self._canonical.values())}
        either = "|".join(re.escape(name) for name in self._canonical)
        self._pattern = re.compile(rf"(?<![\w-])(?:{either})(?![\w-])", re.IGNORECASE)

    def __call__(self, title: str) -> str | None:
        if not self._canonical:
            return None
        found = [self._canonical[m.group(0).lower()] for m in self._pattern.finditer(title)]
        return min(found, key=self._rank.__getitem__, default=None)


def _covers(phase: str, node: str, names: VmNames) -> bool:
    """Which nodes a create phase checks (the CNI: the first control plane only)."""
    if "Windows" in phase:
        return node in names.windows
    if phase == "Apply the CNI":
        return bool(names.linux) and node == names.linux[0]
    if phase == "Set up Linux nodes":
        return node in names.linux
    if "load balancer" in phase:
        return node in names.load_balancers
    return True
