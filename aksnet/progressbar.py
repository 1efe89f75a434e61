"""Progress of a run for people at a terminal: a bar per phase, redrawn in place.

A ProgressListener (aksnet.plan.progress) for the command line. On a terminal each phase gets one
line that is redrawn as its actions start and finish:

    [2/4] Set up Linux nodes  [########--------]  5/8 actions  c1-linux-0: write /etc/hosts

The bar fills with the actions that finished out of those started so far (the runner learns what
a phase must do only as it reads facts, so there is no total to promise up front); the phase
counter [i/n] is the exact one. When the stream is not a terminal (a log file, CI), the same
events become one plain line each, so nothing is redrawn into a file. Titles arrive masked.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import TextIO

from aksnet.plan.progress import (
    ActionFinished,
    ActionStarted,
    PhaseFinished,
    PhaseStarted,
    ProgressEvent,
)

BAR_WIDTH = 16


@dataclass
class _Phase:
    title: str
    label: str  # "[2/4] " or ""
    started: int = 0
    finished: int = 0
    failed: int = 0
    last: str = ""


class ProgressBars:
    """Draws progress events on `stream` (usually stderr); never raises into the run."""

    def __init__(self, stream: TextIO, *, interactive: bool | None = None) -> None:
        self.stream = stream
        self.interactive = stream.isatty() if interactive is None else interactive
        self._phase: _Phase | None = None

    def on_event(self, event: ProgressEvent) -> None:
        if isinstance(event, PhaseStarted):
            self._start(event)
        elif isinstance(event, ActionStarted):
            self._action(event.host, event.title, finished=False, failed=False)
        elif isinstance(event, ActionFinished):
            self._action(event.host, event.title, finished=True, failed=event.outcome == "failed")
        elif isinstance(event, PhaseFinished):
            self._finish(event)

    def _start(self, event: PhaseStarted) -> None:
        label = f"[{event.index}/{event.total}] " if event.total else ""
        self._phase = _Phase(event.title, label)
        if self.interactive:
            self._redraw()
        else:
            self._line(f"{label}{event.title} ...")

    def _action(self, host: str, title: str, *, finished: bool, failed: bool) -> None:
        phase = self._phase
        if phase is None:
            return
        if finished:
            phase.finished += 1
            phase.failed += failed
        else:
            phase.started += 1
        phase.last = f"{host}: {title}"
        if self.interactive:
            self._redraw()
        elif finished:
            self._line(f"    {'FAILED' if failed else 'ok':6} {phase.last}")

    def _finish(self, event: PhaseFinished) -> None:
        phase = self._phase or _Phase(event.title, "")
        summary = f"{phase.label}{event.title}: {event.outcome} ({phase.finished} actions"
        summary += f", {phase.failed} failed)" if phase.failed else ")"
        if self.interactive:
            self.stream.write("\r\x1b[2K")
        self._line(summary)
        self._phase = None

    def _redraw(self) -> None:
        phase = self._phase
        assert phase is not None
        filled = BAR_WIDTH * phase.finished // phase.started if phase.started else 0
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        text = f"{phase.label}{phase.title}  [{bar}]  {phase.finished}/{phase.started} actions"
        if phase.last:
            text += f"  {phase.last}"
        columns = shutil.get_terminal_size((100, 20)).columns
        self.stream.write("\r\x1b[2K" + text[: max(columns - 1, 20)])
        self.stream.flush()

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
