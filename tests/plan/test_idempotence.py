"""A second apply of the same desired state performs zero actions and says so; facts are live."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from aksnet.plan import Action, RunContext, apply, dry_run, format_result
from aksnet.plan.report import NO_CHANGES_MADE
from tests.plan.fakehost import Entry, Fleet, expected_effects, phases


def test_apply_converges_then_second_apply_does_nothing(fleet: Fleet) -> None:
    first = apply(phases(fleet))
    assert len(first.changes) == 12
    state = fleet.state()
    assert sorted(state["effects"]) == expected_effects()
    assert state["hosts"]["h2"]["services"] == {"web": "running"}
    second = apply(phases(fleet))
    assert second.records == []
    assert format_result(second) == NO_CHANGES_MADE
    assert sorted(fleet.state()["effects"]) == expected_effects()


def test_partial_drift_is_repaired_alone(fleet: Fleet) -> None:
    apply(phases(fleet))
    fleet.change("h2", "files", "b.conf", "tampered", "drift")
    result = apply(phases(fleet))
    assert [(r.host, r.title) for r in result.changes] == [("h2", "write b.conf on h2")]


class WriteTwiceChecking:
    """Reads a fact, changes it, and reads it again within one phase."""

    title = "Write and re-check"

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.seen: list[str | None] = []

    def prepare(self, ctx: RunContext) -> bool:
        return True

    def run(self, ctx: RunContext) -> Iterator[Action]:
        fact = Entry(self.fleet, "files", "x")
        for value in ("1", "2"):
            self.seen.append(ctx.fact("h1", fact))
            yield Action("h1", f"write x={value}", self._writer(value))
        self.seen.append(ctx.fact("h1", fact))

    def _writer(self, value: str) -> Callable[[], None]:
        return lambda: self.fleet.change("h1", "files", "x", value, f"x={value}")


def test_facts_are_read_again_before_each_decision(fleet: Fleet) -> None:
    phase = WriteTwiceChecking(fleet)
    apply([phase])
    assert phase.seen == [None, "1", "2"]
    assert fleet.reads == 3  # one host read per ctx.fact call: nothing cached


def test_dry_run_facts_come_from_the_forecast_only_where_predicted(fleet: Fleet) -> None:
    phase = WriteTwiceChecking(fleet)
    dry_run([phase])
    # Those actions have no simulate: the dry run cannot predict them, and says the truth.
    assert phase.seen == [None, None, None]
    assert fleet.state()["hosts"]["h1"]["files"] == {}
