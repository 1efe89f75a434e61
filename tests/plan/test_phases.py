"""Phases list editing, lifecycle (prepare skips, cleanup on failure) and progress events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aksnet.errors import InvalidInput, StateConflict
from aksnet.plan import Action, Phases, RecordingListener, RunContext, apply
from aksnet.plan.progress import ActionFinished, ActionStarted, PhaseFinished, PhaseStarted


class Step:
    def __init__(self, title: str, *, runs: bool = True, fails: bool = False) -> None:
        self.title = title
        self.runs = runs
        self.fails = fails
        self.log: list[str] = []
        self.cleaned = False

    def prepare(self, ctx: RunContext) -> bool:
        return self.runs

    def run(self, ctx: RunContext) -> Iterator[Action]:
        if self.fails:
            raise RuntimeError(f"{self.title} broke")
        yield Action("h1", f"{self.title} action", lambda: self.log.append("did"))

    def cleanup(self, ctx: RunContext) -> None:
        self.cleaned = True


def test_insert_replace_remove_by_title() -> None:
    phases = Phases([Step("A"), Step("C")])
    phases.insert_before("C", Step("B"))
    phases.insert_after("C", Step("D"))
    phases.replace("D", Step("E"))
    assert phases.titles == ["A", "B", "C", "E"]
    assert phases.remove("A").title == "A"
    assert phases.titles == ["B", "C", "E"]


def test_unknown_title_names_the_allowed_ones() -> None:
    phases = Phases([Step("A")])
    with pytest.raises(InvalidInput, match=r"parameter 'title'\. The value 'Z'.*'A'"):
        phases.insert_after("Z", Step("B"))


def test_duplicate_title_is_refused() -> None:
    phases = Phases([Step("A"), Step("B")])
    with pytest.raises(StateConflict, match="'B' is already"):
        phases.append(Step("B"))
    with pytest.raises(StateConflict):
        phases.replace("A", Step("B"))


def test_events_in_order_and_skipped_phase_reported() -> None:
    listener = RecordingListener()
    apply([Step("A"), Step("B", runs=False)], listeners=[listener])
    assert listener.events == [
        PhaseStarted("A", 1, 2),
        ActionStarted("h1", "A action"),
        ActionFinished("h1", "A action", "done"),
        PhaseFinished("A", "done"),
        PhaseStarted("B", 2, 2),
        PhaseFinished("B", "skipped"),
    ]


def test_failure_cleans_up_phases_that_ran_and_stops() -> None:
    first, skipped, broken, later = (
        Step("A"),
        Step("B", runs=False),
        Step("C", fails=True),
        Step("D"),
    )
    listener = RecordingListener()
    with pytest.raises(RuntimeError, match="C broke"):
        apply([first, skipped, broken, later], listeners=[listener])
    assert (first.cleaned, skipped.cleaned, broken.cleaned, later.cleaned) == (
        True,
        False,
        True,
        False,
    )
    assert later.log == [] and PhaseFinished("C", "failed") in listener.events


def test_a_broken_listener_does_not_fail_the_run() -> None:
    class Broken:
        def on_event(self, event: object) -> None:
            raise ValueError("display gone")

    step = Step("A")
    apply([step], listeners=[Broken()])
    assert step.log == ["did"]
