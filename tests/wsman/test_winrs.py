"""pywinrm (unchanged) run_ps/run_cmd against the lab's WinRS cmd shell."""

from __future__ import annotations

import base64
import json

import pytest
import winrm

from aksnet.lab.wsman import WSManServer
from aksnet.remote.base import Cmdlet, Pipeline
from aksnet.remote.render import render_script
from tests.wsman.conftest import PASSWORD, USER, FakeMachine
from tests.wsman.test_psrp import HOSTILE


@pytest.fixture
def session(basic_server: WSManServer) -> winrm.Session:
    return winrm.Session(
        basic_server.url,
        auth=(USER, PASSWORD),
        transport="basic",
        operation_timeout_sec=5,
        read_timeout_sec=10,
    )


def test_run_ps_envelope_output(session: winrm.Session, machine: FakeMachine) -> None:
    script = render_script(
        [Pipeline.of(Cmdlet.of("Get-VM", Name="a"), Cmdlet.of("Stop-VM")), Cmdlet.of("Get-Bytes")]
    )
    result = session.run_ps(script)
    assert result.status_code == 0 and result.std_err == b""
    document = json.loads(result.std_out)
    assert document["output"][0] == {
        "Command": "Get-VM",
        "Parameters": {"Name": "a"},
        "Commands": 2,
    }
    assert document["output"][1] == list(range(256))
    assert [[c.name for c in s] for s in machine.calls[-1][0]] == [
        ["Get-VM", "Stop-VM"],
        ["Get-Bytes"],
    ]


def test_run_ps_hostile_values_arrive_literally(
    session: winrm.Session, machine: FakeMachine
) -> None:
    result = session.run_ps(render_script([Cmdlet.of("Get-Item", Names=HOSTILE)]))
    assert result.status_code == 0
    assert machine.all_parameters()[-1]["Names"] == HOSTILE
    assert json.loads(result.std_out)["output"][0]["Parameters"]["Names"] == HOSTILE


@pytest.mark.parametrize("cmdlet", ["Fail", "Warn"])
def test_run_ps_errors_exit_1(session: winrm.Session, cmdlet: str) -> None:
    result = session.run_ps(render_script([Cmdlet.of(cmdlet)]))
    assert result.status_code == 1
    error = json.loads(result.std_out)["error"]
    if cmdlet == "Fail":
        assert error == {
            "message": "VM 'vm9' cannot be started.",
            "category": "InvalidOperation",
            "fullyQualifiedErrorId": "InvalidState,Start-VM",
            "target": "vm9",
        }
    else:  # ErrorActionPreference Stop: the non-terminating error fails the script too
        assert error["fullyQualifiedErrorId"] == "VMAlreadyExists,New-VM"
        assert error["target"] == "dup"


def test_run_ps_other_script_refused(session: winrm.Session, machine: FakeMachine) -> None:
    result = session.run_ps("Get-VM | Stop-VM")
    assert result.status_code == 1 and machine.calls == []
    assert "typed cmdlet calls and aksnet WinRM envelopes only" in result.std_err.decode()
    tampered = render_script([Cmdlet.of("Get-VM")]).replace("Stop", "Continue")
    assert session.run_ps(tampered).status_code == 1
    assert machine.calls == []


def test_run_ps_unparsable_script(session: winrm.Session) -> None:
    result = session.run_ps("Get-VM | Where-Object {")
    assert result.status_code == 1
    assert "does not parse" in result.std_err.decode()


def test_other_command_not_recognized(session: winrm.Session) -> None:
    result = session.run_cmd("ipconfig", ["/all"])
    assert result.status_code == 1 and result.std_out == b""
    assert result.std_err.decode().startswith(
        "'ipconfig' is not recognized as an internal or external command"
    )


def test_command_line_too_long(session: winrm.Session, machine: FakeMachine) -> None:
    script = "#" * 4000
    encoded = base64.b64encode(script.encode("utf-16-le")).decode()
    result = session.run_cmd(f"powershell -encodedcommand {encoded}")
    assert result.status_code == 1
    assert b"too long" in result.std_err
    assert machine.calls == []
