"""Test-/Repair-AksHciClusterNetwork and Register-/Unregister-AksHciRemediationTask over the
bridge, without a lab: what is refused before any host is reached, and the scheduled task's
definition (tests/remediation drives Test and Repair on the lab)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from aksnet import api
from aksnet.lab import psparse
from aksnet.state.store import Store
from tests.bridge.conftest import Bridge
from tests.bridge.test_bridge_commands import STATIC

HOSTILE_LOG = "C:\\Logs\\it's $(Stop-Computer) `; ‘x’.log"


@pytest.fixture
def recorded(bridge: Bridge, bridge_home: Path) -> Path:
    """A cluster c1 recorded in the bridge's store."""
    assert bridge("New-AksHciClusterNetwork", STATIC).exit_code == 0
    store_path = bridge_home / "home" / "aksnet.db"
    with Store(store_path) as store:
        store.add_cluster(api.new_cluster_spec(name="c1", vnet="static1"), state="provisioned")
    return store_path


@pytest.mark.parametrize("command", ["Test-AksHciClusterNetwork", "Repair-AksHciClusterNetwork"])
def test_an_unknown_cluster_is_not_found(bridge: Bridge, recorded: Path, command: str) -> None:
    answer = bridge(command, {"name": "c9"})
    assert answer.exit_code == 3
    assert answer.error["category"] == "ObjectNotFound"
    assert answer.error["targetObject"] == "c9"


def test_the_task_runs_repair_and_logs_with_every_value_a_literal(
    bridge: Bridge, recorded: Path
) -> None:
    parameters = {"name": "c1", "interval": "00:15:00", "deadline": 300, "logPath": HOSTILE_LOG}
    answer = bridge("Register-AksHciRemediationTask", parameters)
    assert answer.exit_code == 0, answer.lines
    (task,) = answer.results
    assert task["TaskName"] == "AksNet remediation c1" and task["TaskPath"] == "\\AksNet\\"
    assert task["IntervalSeconds"] == 900 and task["LogPath"] == HOSTILE_LOG
    assert task["Execute"] == "powershell.exe"
    encoded = task["Argument"].split("-EncodedCommand ")[1]
    script = base64.b64decode(encoded).decode("utf-16-le")
    assert script == task["Script"]
    assert psparse.has_error(script) is None
    used = {use.name for use in psparse.extract(script)}
    # The log path's $(...) stays text: Stop-Computer is not a command the script runs.
    assert "Stop-Computer" not in used
    assert {"Import-Module", "Repair-AksHciClusterNetwork", "Add-Content", "Write-EventLog"} <= used
    assert "$arguments['name'] = 'c1'" in script and "deadline = 300" in script


@pytest.mark.parametrize(
    ("parameters", "target"),
    [
        ({"interval": "15 minutes"}, "interval"),
        ({"interval": "00:00:30"}, "interval"),
        ({"interval": "00:15:00", "deadline": 900}, "deadline"),
        ({"name": "C1;x", "interval": "00:15:00"}, "name"),
        ({"interval": "00:15:00", "logPath": "a\nb"}, "logPath"),
    ],
)
def test_bad_task_parameters_are_refused_by_name(
    bridge: Bridge, parameters: dict[str, object], target: str
) -> None:
    answer = bridge("Register-AksHciRemediationTask", parameters)
    assert answer.exit_code == 2
    assert answer.error["targetObject"] == target


def test_a_task_for_an_unknown_cluster_is_not_found(bridge: Bridge, recorded: Path) -> None:
    answer = bridge("Register-AksHciRemediationTask", {"name": "c9"})
    assert answer.exit_code == 3 and answer.results == []


def test_unregister_names_the_task(bridge: Bridge) -> None:
    assert bridge("Unregister-AksHciRemediationTask", {"name": "c1"}).results == [
        {"Name": "c1", "TaskName": "AksNet remediation c1", "TaskPath": "\\AksNet\\"}
    ]
    assert bridge("Unregister-AksHciRemediationTask", {}).results[0]["TaskName"] == (
        "AksNet remediation"
    )
