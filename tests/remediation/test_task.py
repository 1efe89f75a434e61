"""The scheduled task's definition (Register-AksHciRemediationTask): intervals as PowerShell
writes a TimeSpan, the task for every cluster, and the script's shape (tree-sitter)."""

from __future__ import annotations

import pytest

from aksnet.errors import InvalidInput
from aksnet.lab import psparse
from aksnet.remediation.task import parse_interval, ps_literal, task_definition


@pytest.mark.parametrize(
    ("text", "seconds"), [("00:15:00", 900), ("1:00:00", 3600), ("1.02:00:30", 93630)]
)
def test_intervals(text: str, seconds: int) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["00:60:00", "00:00:59", "15", "", "00:15"])
def test_bad_intervals_name_the_parameter(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_interval(text)
    assert caught.value.parameter == "interval"


def test_the_task_for_every_cluster_repairs_without_a_name() -> None:
    task = task_definition(None, "01:00:00", deadline=600)
    assert task.task_name == "AksNet remediation"
    assert "$arguments['name']" not in task.script
    assert psparse.has_error(task.script) is None


def test_a_literal_doubles_every_kind_of_single_quote() -> None:
    assert ps_literal("it's ‘a’", "logPath") == "'it''s ‘‘a’’'"
