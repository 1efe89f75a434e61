"""Progress events and the listener protocol the CLI and the PowerShell bridge subscribe with.

The runner emits an event when a phase starts and finishes and when an action starts and
finishes on a host. Listeners are called from worker threads when hosts run in parallel, so the
runner serialises the calls (`Emitter`): a listener never needs its own lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

PHASE_OUTCOMES = ("done", "skipped", "failed")
# planned: recorded by a dry run; skipped: the journal says an earlier run completed it.
ACTION_OUTCOMES = ("done", "failed", "planned", "skipped")


@dataclass(frozen=True)
class PhaseStarted:
    title: str
    index: int = 0  # 1-based position of the phase in its run; 0 when not known
    total: int = 0  # how many phases the run has; 0 when not known


@dataclass(frozen=True)
class PhaseFinished:
    title: str
    outcome: str  # one of PHASE_OUTCOMES


@dataclass(frozen=True)
class ActionStarted:
    host: str
    title: str  # masked


@dataclass(frozen=True)
class ActionFinished:
    host: str
    title: str  # masked
    outcome: str  # one of ACTION_OUTCOMES
    detail: str | None = None  # masked error text when it failed


ProgressEvent = PhaseStarted | PhaseFinished | ActionStarted | ActionFinished


class ProgressListener(Protocol):
    def on_event(self, event: ProgressEvent) -> None: ...


class RecordingListener:
    """Keeps every event in order: for tests, and for callers that report at the end."""

    def __init__(self) -> None:
        self.events: list[ProgressEvent] = []

    def on_event(self, event: ProgressEvent) -> None:
        self.events.append(event)

    def of_type(self, kind: type[ProgressEvent]) -> list[ProgressEvent]:
        return [e for e in self.events if isinstance(e, kind)]


class Emitter:
    """Delivers each event to every listener, one event at a time.

    A listener that raises is logged and ignored: a broken progress bar must not fail a
    cluster creation halfway.
    """

    def __init__(self, listeners: Iterable[ProgressListener] = ()) -> None:
        self._listeners = list(listeners)
        self._lock = threading.Lock()

    def emit(self, event: ProgressEvent) -> None:
        with self._lock:
            for listener in self._listeners:
                try:
                    listener.on_event(event)
                except Exception:
                    log.warning("progress listener %r failed on %r", listener, event, exc_info=True)
