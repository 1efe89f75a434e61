"""RunContext.facts: several facts of one host in one read, the forecast still winning per fact
in a dry run, each value looked up by its fact."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from aksnet.plan import RunContext
from aksnet.plan.journal import NullJournal
from aksnet.plan.progress import Emitter

HOST = "h1"


@dataclass(frozen=True)
class Setting:
    """A fact whose value is the name's upper case; None for names starting with 'absent'."""

    name: str

    @property
    def key(self) -> str:
        return f"setting:{self.name}"

    def read(self, host: str) -> str | None:
        raise AssertionError("a fact read together is never read alone")


@dataclass
class Together:
    """A read_together that records each call (one call: one round trip)."""

    calls: list[list[str]] = field(default_factory=list)
    short: bool = False

    def __call__(self, host: str, facts: Sequence[Setting]) -> list[str | None]:
        assert host == HOST
        self.calls.append([f.name for f in facts])
        values = [None if f.name.startswith("absent") else f.name.upper() for f in facts]
        return values[:-1] if self.short else values


def context(dry_run: bool) -> RunContext:
    return RunContext(dry_run=dry_run, journal=NullJournal(), emitter=Emitter(()))


def test_the_facts_are_read_in_one_call_and_looked_up_by_fact() -> None:
    together = Together()
    a, b, absent = Setting("a"), Setting("b"), Setting("absent-c")
    values = context(False).facts(HOST, [a, b, Setting("a"), absent], together)
    assert together.calls == [["a", "b", "absent-c"]]  # the same key is read once
    assert (values[a], values[b], values[absent]) == ("A", "B", None)
    assert absent in values and Setting("d") not in values
    with pytest.raises(KeyError, match="setting:d of h1"):
        values[Setting("d")]


def test_in_a_dry_run_a_forecast_value_wins_and_only_the_others_are_read() -> None:
    ctx, together = context(True), Together()
    a, b, c = Setting("a"), Setting("b"), Setting("c")
    ctx.forecast.set(HOST, a, "predicted")
    ctx.forecast.set(HOST, c, None)  # predicted absent
    values = ctx.facts(HOST, [a, b, c], together)
    assert together.calls == [["b"]]
    assert (values[a], values[b], values[c]) == ("predicted", "B", None)
    ctx.forecast.set(HOST, b, "also predicted")
    assert ctx.facts(HOST, [a, b], together)[b] == "also predicted"
    assert len(together.calls) == 1  # all forecast: nothing read


def test_an_apply_ignores_the_forecast() -> None:
    ctx, together = context(False), Together()
    ctx.forecast.set(HOST, Setting("a"), "predicted")
    assert ctx.facts(HOST, [Setting("a")], together)[Setting("a")] == "A"


def test_a_reader_that_returns_too_few_values_is_an_error() -> None:
    with pytest.raises(ValueError, match="2 facts read, 1 values returned"):
        context(False).facts(HOST, [Setting("a"), Setting("b")], Together(short=True))


@dataclass(frozen=True)
class Alone:
    """A fact read on its own: the number of reads it took."""

    name: str
    reads: list[str] = field(default_factory=list, compare=False)

    @property
    def key(self) -> str:
        return f"setting:{self.name}"

    def read(self, host: str) -> str | None:
        self.reads.append(host)
        return f"read {self.name}"


def test_a_fact_among_the_known_is_not_read_again_and_one_not_among_them_is() -> None:
    ctx = context(False)
    known = ctx.facts(HOST, [Setting("a")], Together())
    among, other = Alone("a"), Alone("e")
    assert ctx.fact(HOST, among, known) == "A" and among.reads == []
    assert ctx.fact(HOST, other, known) == "read e" and other.reads == [HOST]
    assert ctx.fact(HOST, other) == "read e" and other.reads == [HOST, HOST]
