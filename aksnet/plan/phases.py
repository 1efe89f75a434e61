"""Phases: ordered, titled steps of an operation, and the list users splice their own into.

A phase decides in `prepare` whether it has anything to do (from facts, re-read), then `run`
either yields Actions for the runner's gate or calls `ctx.wet` itself (for per-host parallel
work). Optional hooks are separate protocols, as in k0sctl: `cleanup` runs, newest first, on the
phases that ran when a later one fails. Titles are how a library user finds a phase to insert
before, after or replace, so they must be unique within a list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from aksnet.errors import InvalidInput, StateConflict
from aksnet.plan.actions import Action

if TYPE_CHECKING:
    from aksnet.plan.runner import RunContext


class Phase(Protocol):
    """One step of an operation, e.g. "Create VMs"."""

    @property
    def title(self) -> str: ...

    def prepare(self, ctx: RunContext) -> bool:
        """Read facts and say whether the phase has anything to do."""
        ...

    def run(self, ctx: RunContext) -> Iterable[Action] | None:
        """Yield actions (each executed before the next is asked for), or call ctx.wet."""
        ...


@runtime_checkable
class SupportsCleanup(Protocol):
    """A phase that can undo or tidy what it did when a later phase fails."""

    def cleanup(self, ctx: RunContext) -> None: ...


class Phases:
    """An ordered list of phases with unique titles."""

    def __init__(self, phases: Iterable[Phase] = ()) -> None:
        self._phases: list[Phase] = []
        for phase in phases:
            self.append(phase)

    def __iter__(self) -> Iterator[Phase]:
        return iter(list(self._phases))

    def __len__(self) -> int:
        return len(self._phases)

    @property
    def titles(self) -> list[str]:
        return [p.title for p in self._phases]

    def append(self, phase: Phase) -> None:
        self._insert(len(self._phases), phase)

    def insert_before(self, title: str, phase: Phase) -> None:
        self._insert(self._index(title), phase)

    def insert_after(self, title: str, phase: Phase) -> None:
        self._insert(self._index(title) + 1, phase)

    def replace(self, title: str, phase: Phase) -> None:
        index = self._index(title)
        if phase.title != title:
            self._refuse_duplicate(phase.title)
        self._phases[index] = phase

    def remove(self, title: str) -> Phase:
        return self._phases.pop(self._index(title))

    def _insert(self, index: int, phase: Phase) -> None:
        self._refuse_duplicate(phase.title)
        self._phases.insert(index, phase)

    def _refuse_duplicate(self, title: str) -> None:
        if not title.strip():
            raise InvalidInput("title", title, "a phase needs a human-readable title.")
        if title in self.titles:
            raise StateConflict(f"A phase titled '{title}' is already in the list.", target=title)

    def _index(self, title: str) -> int:
        for index, phase in enumerate(self._phases):
            if phase.title == title:
                return index
        known = ", ".join(repr(t) for t in self.titles) or "none"
        raise InvalidInput("title", title, f"it must be the title of a phase in the list: {known}.")
