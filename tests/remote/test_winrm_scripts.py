"""WinRM: steps longer than one run_ps script are split when they can be, refused otherwise."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from aksnet.errors import InvalidInput
from aksnet.remote.base import Cmdlet
from aksnet.remote.render import MAX_SCRIPT, decode_script, render_script
from aksnet.remote.winrm import WinRMSession, command_line, split_into_scripts
from tests.remote.machine import FakeMachine


def _echo(text: str) -> Cmdlet:
    return Cmdlet.of("Write-Output", InputObject=text)


def test_command_line_is_what_run_ps_sends() -> None:
    script = render_script([_echo("x")])
    line = command_line(script)
    prefix = "powershell -encodedcommand "
    assert line.startswith(prefix)
    assert base64.b64decode(line[len(prefix) :]).decode("utf-16-le") == script


def test_a_step_that_fits_is_one_script() -> None:
    statements = [_echo("a"), _echo("b")]
    assert split_into_scripts(statements) == [statements]


def test_a_long_step_is_split_in_order_and_every_script_fits() -> None:
    statements = [_echo(f"{i}-" + "x" * 700) for i in range(6)]
    assert len(render_script(statements)) > MAX_SCRIPT
    batches = split_into_scripts(statements)
    assert len(batches) > 1
    assert [s for batch in batches for s in batch] == statements
    for batch in batches:
        script = render_script(batch)
        assert len(script) <= MAX_SCRIPT
        assert decode_script(script) is not None


def test_a_statement_that_cannot_fit_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        split_into_scripts([_echo("short"), Cmdlet.of("Set-Secret", Value="y" * 4000)])
    assert caught.value.parameter == "statements[1]"
    assert "Set-Secret" in str(caught.value) and "3061" in str(caught.value)
    assert "yyyy" not in str(caught.value)  # values (maybe secrets) are not shown


def test_split_step_runs_as_several_round_trips(
    winrm: WinRMSession, server: Any, machine: FakeMachine
) -> None:
    values = [f"{i}-" + "x" * 700 for i in range(6)]
    expected_scripts = len(split_into_scripts([_echo(v) for v in values]))
    winrm.invoke(_echo("warm-up"))
    server.stats.reset()
    assert winrm.invoke(*[_echo(v) for v in values]) == values
    assert server.stats.round_trips == expected_scripts > 1
    assert machine.values("InputObject")[1:] == values


def test_too_long_step_sends_nothing(winrm: WinRMSession, server: Any) -> None:
    server.stats.reset()
    with pytest.raises(InvalidInput):
        winrm.invoke(_echo("fine"), _echo("z" * 5000))
    assert server.stats.requests == 0


def test_pipeline_input_is_refused_over_winrm(winrm: WinRMSession, server: Any) -> None:
    server.stats.reset()
    with pytest.raises(InvalidInput) as caught:
        winrm.invoke(Cmdlet.of("Get-Input"), input=["a"])
    assert caught.value.parameter == "input"
    assert server.stats.requests == 0
