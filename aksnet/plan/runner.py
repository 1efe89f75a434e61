"""The one runner, and the one gate every remote mutation passes: `RunContext.wet`.

`apply` and `dry_run` run the same phases. In an apply the gate journals each action as started,
does it, and journals it done or failed. In a dry run the gate records the action with its masked
title, calls its `simulate` so later phases plan against the predicted state (k0sctl's Wet), and
changes nothing: no host is touched and no operation is opened in the store.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from aksnet.plan.actions import Action, Do, Simulate, masked
from aksnet.plan.facts import Fact, Forecast
from aksnet.plan.journal import NullJournal, RunJournal
from aksnet.plan.parallel import HostWork, run_per_host
from aksnet.plan.phases import Phase, SupportsCleanup
from aksnet.plan.progress import (
    ActionFinished,
    ActionStarted,
    Emitter,
    PhaseFinished,
    PhaseStarted,
    ProgressListener,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
F = TypeVar("F", bound=Fact[Any])
# Reads facts of one host together (one round trip); their values in the order given.
ReadTogether = Callable[[str, Sequence[F]], Sequence[object]]


@dataclass(frozen=True)
class ActionRecord:
    """What became of one action: 'done', 'failed', 'planned' (dry run) or 'skipped'."""

    host: str
    title: str  # masked
    kind: str
    outcome: str


class FactValues:
    """Facts of one host read together (RunContext.facts), each value looked up by its fact."""

    def __init__(self, host: str, values: Mapping[str, object]) -> None:
        self.host = host
        self._values = dict(values)

    def __getitem__(self, fact: Fact[T]) -> T | None:
        if fact.key not in self._values:
            raise KeyError(f"fact {fact.key} of {self.host} was not among the facts read")
        # Stored under this key from a fact of the same key, hence of type T.
        return cast("T | None", self._values[fact.key])

    def __contains__(self, fact: Fact[Any]) -> bool:
        return fact.key in self._values


@dataclass
class RunResult:
    dry_run: bool
    records: list[ActionRecord] = field(default_factory=list)
    operation: int | None = None
    resumed: bool = False

    @property
    def changes(self) -> list[ActionRecord]:
        """Actions that changed (or, in a dry run, would change) something."""
        wanted = "planned" if self.dry_run else "done"
        return [r for r in self.records if r.outcome == wanted]


class RunContext:
    """What a phase sees: facts, the gate, per-host parallelism. Passed explicitly, never global."""

    def __init__(
        self,
        *,
        dry_run: bool,
        journal: RunJournal,
        emitter: Emitter,
        limit: int = 8,
        per_host: int = 2,
    ) -> None:
        self.dry_run = dry_run
        self.forecast = Forecast()
        self.limit = limit
        self.per_host = per_host
        self._journal = journal
        self._emitter = emitter
        self._lock = threading.Lock()
        self._records: list[ActionRecord] = []
        self._done_before = Counter[tuple[str, str]]() if dry_run else journal.completed()
        self._seen = Counter[tuple[str, str]]()

    @property
    def records(self) -> list[ActionRecord]:
        with self._lock:
            return list(self._records)

    def fact(self, host: str, fact: Fact[T], known: FactValues | None = None) -> T | None:
        """Read a fact now: never from a cache; in a dry run, the forecast value if predicted.
        With `known` (facts of this host read together before, ctx.facts), its value there
        when it was among them."""
        if known is not None and fact in known:
            return known[fact]
        if self.dry_run:
            predicted, value = self.forecast.lookup(host, fact)
            if predicted:
                return value
        log.debug("reading fact %s on %s", fact.key, host)
        return fact.read(host)

    def facts(self, host: str, facts: Sequence[F], read_together: ReadTogether[F]) -> FactValues:
        """Read several facts of one host now, the ones not forecast in one read_together call.

        The same as ctx.fact for each (in a dry run a forecast value still wins, per fact), in
        one round trip. Only for decisions that do not depend on each other's effects: a value
        read here is not read again after an action the same step takes.
        """
        values: dict[str, object] = {}
        unread: dict[str, F] = {}
        for fact in facts:
            if self.dry_run:
                predicted, value = self.forecast.lookup(host, fact)
                if predicted:
                    values[fact.key] = value
                    continue
            unread.setdefault(fact.key, fact)
        if unread:
            log.debug("reading facts %s on %s together", ", ".join(unread), host)
            read = read_together(host, list(unread.values()))
            if len(read) != len(unread):
                raise ValueError(f"{len(unread)} facts read, {len(read)} values returned")
            values.update(zip(unread, read, strict=True))
        return FactValues(host, values)

    def wet(
        self,
        host: str,
        title: str,
        do: Do,
        simulate: Simulate | None = None,
        *,
        kind: str = "change",
        secrets: Sequence[str] = (),
        repeatable: bool = False,
    ) -> None:
        """The gate: do the mutation, or in a dry run record and simulate it."""
        self.execute(Action(host, title, do, simulate, kind, tuple(secrets), repeatable))

    def execute(self, action: Action) -> None:
        """The gate for a prepared Action (what phases yield)."""
        if self.dry_run:
            self._plan(action)
        elif self._completed_before(action):
            self._finish(action, "skipped")
        else:
            self._do(action)

    def each_host(self, items: Sequence[HostWork[T]]) -> list[T]:
        """Run per-host work in parallel within this run's limits (HostFailures on failure)."""
        return run_per_host(items, limit=self.limit, per_host=self.per_host)

    def _plan(self, action: Action) -> None:
        self._emitter.emit(ActionStarted(action.host, action.shown_title))
        if action.simulate is not None:
            action.simulate(self.forecast)
        self._finish(action, "planned")

    def _completed_before(self, action: Action) -> bool:
        """True for the n-th occurrence of an action that an earlier run completed n times."""
        if action.repeatable:
            return False
        key = (action.host, action.shown_title)
        with self._lock:
            self._seen[key] += 1
            return self._seen[key] <= self._done_before[key]

    def _do(self, action: Action) -> None:
        title = action.shown_title
        self._emitter.emit(ActionStarted(action.host, title))
        self._journal.record(action.host, title, "started")
        log.debug("%s: %s", action.host, title)
        try:
            action.do()
        except Exception as error:
            detail = masked(f"{type(error).__name__}: {error}", action.secrets)
            self._journal.record(action.host, title, "failed", detail)
            self._finish(action, "failed", detail)
            raise
        self._journal.record(action.host, title, "done")
        self._finish(action, "done")

    def _finish(self, action: Action, outcome: str, detail: str | None = None) -> None:
        record = ActionRecord(action.host, action.shown_title, action.kind, outcome)
        with self._lock:
            self._records.append(record)
        self._emitter.emit(ActionFinished(action.host, record.title, outcome, detail))


def apply(
    phases: Iterable[Phase],
    *,
    journal: RunJournal | None = None,
    listeners: Iterable[ProgressListener] = (),
    limit: int = 8,
    per_host: int = 2,
) -> RunResult:
    """Run the phases for real. The journal is finished 'succeeded' or 'failed' (resumable)."""
    journal = journal if journal is not None else NullJournal()
    emitter = Emitter(listeners)
    ctx = RunContext(
        dry_run=False, journal=journal, emitter=emitter, limit=limit, per_host=per_host
    )
    try:
        run_phases(phases, ctx, emitter)
    except BaseException:
        journal.finish("failed")
        raise
    journal.finish("succeeded")
    return RunResult(False, ctx.records, journal.operation, journal.resumed)


def dry_run(
    phases: Iterable[Phase],
    *,
    listeners: Iterable[ProgressListener] = (),
    limit: int = 8,
    per_host: int = 2,
) -> RunResult:
    """Run the same phases without changing anything; the result lists what would be done."""
    emitter = Emitter(listeners)
    ctx = RunContext(
        dry_run=True, journal=NullJournal(), emitter=emitter, limit=limit, per_host=per_host
    )
    run_phases(phases, ctx, emitter)
    return RunResult(True, ctx.records)


def run_phases(phases: Iterable[Phase], ctx: RunContext, emitter: Emitter) -> None:
    """prepare -> run for each phase in order; on failure, clean up the phases that ran."""
    ran: list[Phase] = []
    phases = list(phases)
    for index, phase in enumerate(phases, start=1):
        emitter.emit(PhaseStarted(phase.title, index, len(phases)))
        try:
            if not phase.prepare(ctx):
                emitter.emit(PhaseFinished(phase.title, "skipped"))
                continue
            ran.append(phase)
            produced = phase.run(ctx)
            for action in produced or ():
                ctx.execute(action)
        except BaseException as error:
            emitter.emit(PhaseFinished(phase.title, "failed"))
            _clean_up(reversed(ran), ctx, error)
            raise
        emitter.emit(PhaseFinished(phase.title, "done"))


def _clean_up(phases: Iterable[Phase], ctx: RunContext, cause: BaseException) -> None:
    """Give each phase that ran a chance to tidy up; a failing cleanup is noted, not raised."""
    for phase in phases:
        if isinstance(phase, SupportsCleanup):
            try:
                phase.cleanup(ctx)
            except Exception as error:
                log.warning("cleanup of phase %r failed: %s", phase.title, error)
                cause.add_note(f"cleanup of phase '{phase.title}' also failed: {error}")
