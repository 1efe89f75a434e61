"""The PowerShellSession contract over PSRP and over WinRM, against the lab WSMan server."""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest

from aksnet.errors import AuthenticationFailed, HostUnreachable, RemoteCommandFailed
from aksnet.remote.base import Cmdlet, Pipeline, PowerShellSession
from aksnet.remote.psrp import PSRPSession
from aksnet.remote.retry import NO_RETRY
from aksnet.remote.winrm import WinRMSession
from tests.remote.conftest import FAST_RETRY, PASSWORD, make_psrp, make_winrm
from tests.remote.machine import FakeMachine

HOSTILE = [
    "it's",
    'say "hi"',
    "$(Remove-Item -Recurse C:\\)",
    "`$env:PATH`n",
    "a; Stop-Computer -Force",
    "a | Out-Null",
    "line1\nline2\r\nline3",
    "@{x=1}; ${env:USERNAME}",
    "Ünïcødé ✓ 日本語 🚀",
    "'; exit 1; '",
]


def test_session_implements_the_contract(session: PowerShellSession) -> None:
    assert isinstance(session, PowerShellSession)


def test_one_session_is_reused_across_invokes(session: PowerShellSession, server: Any) -> None:
    server.stats.reset()
    for value in ("a", "b", "c"):
        assert session.invoke(Cmdlet.of("Write-Output", InputObject=value)) == [value]
    assert server.stats.by_action.get("Create") == 1


def test_several_statements_cost_one_round_trip(
    session: PowerShellSession, server: Any, machine: FakeMachine
) -> None:
    session.invoke(Cmdlet.of("Write-Output", InputObject="warm-up"))
    server.stats.reset()
    machine.received.clear()
    output = session.invoke(
        Cmdlet.of("Write-Output", InputObject="one"),
        Cmdlet.of("Write-Output", InputObject=2),
        Pipeline.of(Cmdlet.of("Write-Output", InputObject="three"), Cmdlet.of("Write-Output")),
    )
    assert output == ["one", 2, "three"]
    assert server.stats.round_trips == 1
    assert len(machine.received) == 1 and len(machine.received[0]) == 3
    assert [c.name for c in machine.received[0][2]] == ["Write-Output", "Write-Output"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_strings_arrive_literally(
    session: PowerShellSession, machine: FakeMachine, hostile: str
) -> None:
    assert session.invoke(Cmdlet.of("Write-Output", InputObject=hostile)) == [hostile]
    assert machine.values("InputObject") == [hostile]


@pytest.mark.parametrize("value", [2**31, 8 * 1024**3, -(2**40), 2**63 + 5, 7])
def test_integers_of_every_size_arrive_intact(
    session: PowerShellSession, machine: FakeMachine, value: int
) -> None:
    """8 GiB of MemoryStartupBytes must reach the host as that number (an Int64 over PSRP)."""
    assert session.invoke(Cmdlet.of("Write-Output", InputObject=value)) == [value]
    assert machine.values("InputObject")[-1] == value


def test_complex_objects_become_dicts(session: PowerShellSession, machine: FakeMachine) -> None:
    machine.files["C:\\x.txt"] = b"abc"
    [item] = session.invoke(Cmdlet.of("Get-Item", LiteralPath="C:\\x.txt"))
    assert item == {"FullName": "C:\\x.txt", "Length": 3}


def test_non_terminating_error_is_surfaced_with_its_record(session: PowerShellSession) -> None:
    with pytest.raises(RemoteCommandFailed) as caught:
        session.invoke(Cmdlet.of("Get-Item", LiteralPath="C:\\missing dir\\f.txt"))
    [record] = caught.value.records
    assert record.message == "Cannot find path 'C:\\missing dir\\f.txt' because it does not exist."
    assert record.category == "ObjectNotFound"
    assert record.fully_qualified_error_id.startswith("PathNotFound,")
    assert record.target == "C:\\missing dir\\f.txt"
    # PSRP reports it as written (non-terminating); WinRM's template stops on it.
    assert record.terminating is isinstance(session, WinRMSession)


def test_terminating_error_is_surfaced_with_its_record(session: PowerShellSession) -> None:
    with pytest.raises(RemoteCommandFailed) as caught:
        session.invoke(Cmdlet.of("Remove-Everything", Force=True))
    [record] = caught.value.records
    assert record.terminating
    assert record.fully_qualified_error_id == "CommandNotFoundException"
    assert "Remove-Everything" in record.message
    assert "Remove-Everything" in str(caught.value)


def test_session_still_works_after_a_remote_error(session: PowerShellSession) -> None:
    with pytest.raises(RemoteCommandFailed):
        session.invoke(Cmdlet.of("Remove-Everything"))
    assert session.invoke(Cmdlet.of("Write-Output", InputObject="ok")) == ["ok"]


def test_pipeline_input_reaches_the_first_command(psrp: PSRPSession) -> None:
    assert psrp.invoke(Cmdlet.of("Get-Input"), input=["a", 1]) == ["a", 1]


@pytest.mark.parametrize("make", [make_psrp, make_winrm])
def test_authentication_failure_is_classified_and_not_retried(
    make: Any, server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wr0ng-pa55word?"
    session = make(server.port, password=wrong, retry=FAST_RETRY)
    server.stats.reset()
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(AuthenticationFailed) as caught:
            session.invoke(Cmdlet.of("Write-Output", InputObject="x"))
    finally:
        session.close()
    assert server.stats.requests == 1  # FAST_RETRY allows 4 attempts: none was used
    for text in (str(caught.value), repr(caught.value), repr(session), caplog.text):
        assert wrong not in text and PASSWORD not in text


@pytest.mark.parametrize("make", [make_psrp, make_winrm])
def test_password_never_shown_after_success(
    make: Any, server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session = make(server.port)
    try:
        session.invoke(Cmdlet.of("Write-Output", InputObject="x"))
        assert PASSWORD not in repr(session) and PASSWORD not in str(session)
    finally:
        session.close()
    assert PASSWORD not in caplog.text


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens on it any more


@pytest.mark.parametrize("make", [make_psrp, make_winrm])
def test_unreachable_host_is_classified(make: Any) -> None:
    session = make(_closed_port(), retry=NO_RETRY)
    with pytest.raises(HostUnreachable) as caught:
        session.invoke(Cmdlet.of("Write-Output", InputObject="x"))
    assert caught.value.host == "127.0.0.1"
    assert caught.value.retryable


def test_concurrent_invokes_share_one_session(session: PowerShellSession, server: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    server.stats.reset()
    values = [f"thread-{i}" for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(lambda v: session.invoke(Cmdlet.of("Write-Output", InputObject=v)), values)
        )
    assert results == [[v] for v in values]
    assert server.stats.by_action.get("Create") == 1
