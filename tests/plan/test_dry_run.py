"""Dry run: the same phases, actions recorded and simulated, nothing changed, secrets masked."""

from __future__ import annotations

import json

import pytest

from aksnet.errors import InvalidInput
from aksnet.plan import (
    Action,
    Forecast,
    RecordingListener,
    apply,
    dry_run,
    format_plan,
    format_result,
)
from aksnet.plan.progress import ActionFinished
from tests.plan.fakehost import DESIRED, Entry, Fleet, phases


def test_dry_run_changes_nothing_and_lists_actions_per_host(fleet: Fleet) -> None:
    before = fleet.path.read_text()
    result = dry_run(phases(fleet))
    assert fleet.path.read_text() == before
    assert [r.outcome for r in result.records] == ["planned"] * 12
    text = format_plan(result)
    h1, h2 = text.index("  h1:"), text.index("  h2:")
    assert "write a.conf on h1" in text[h1:h2] and "write a.conf on h2" in text[h2:]
    assert "start web on h2" in text[h2:]
    assert text.endswith("12 action(s) on 2 host(s) would be performed")


def test_later_phases_plan_against_simulated_effects(fleet: Fleet) -> None:
    # "Start services" refuses when web.conf is missing: only the simulated write lets it plan.
    result = dry_run(phases(fleet))
    titles = [r.title for r in result.records]
    assert titles.index("write web.conf on h1") < titles.index("start web on h1")
    assert fleet.state()["hosts"]["h1"]["files"] == {}


def test_dry_run_after_apply_says_no_changes_would_be_made(fleet: Fleet) -> None:
    apply(phases(fleet))
    result = dry_run(phases(fleet))
    assert result.changes == []
    assert format_plan(result) == "no changes would be made"


def test_secret_appears_only_as_its_length(fleet: Fleet) -> None:
    listener = RecordingListener()
    plan = dry_run(phases(fleet), listeners=[listener])
    shown = format_plan(plan) + repr(listener.events) + repr(plan)
    assert DESIRED.token not in shown
    assert f"kubeadm init on h1 --token <{len(DESIRED.token)} characters>" in shown
    applied = apply(phases(fleet))
    assert DESIRED.token not in format_result(applied) + repr(applied)


def test_dry_run_emits_planned_action_events(fleet: Fleet) -> None:
    listener = RecordingListener()
    dry_run(phases(fleet), listeners=[listener])
    finished = [e for e in listener.events if isinstance(e, ActionFinished)]
    assert {e.outcome for e in finished} == {"planned"}
    assert len(finished) == 12
    assert json.loads(fleet.path.read_text())["effects"] == []


def test_forecast_tells_predicted_absence_from_no_prediction(fleet: Fleet) -> None:
    forecast = Forecast()
    fact = Entry(fleet, "files", "a.conf")
    assert forecast.lookup("h1", fact) == (False, None)
    forecast.set("h1", fact, None)  # e.g. a planned Remove-VM
    assert forecast.lookup("h1", fact) == (True, None)
    assert forecast.lookup("h2", fact) == (False, None)


def test_action_refuses_bad_kind_naming_the_parameter() -> None:
    with pytest.raises(InvalidInput, match=r"parameter 'kind'.*'wipe'.*create, change"):
        Action("h1", "x", lambda: None, kind="wipe")
