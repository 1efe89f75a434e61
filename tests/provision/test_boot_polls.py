"""The boot polls: a session (SSH handshake, or TLS + NTLM + a runspace pool for WinRM) is only
built once the guest's port accepts TCP; refusals that retrying cannot fix end the wait at once.

Local sockets on 127.0.0.1 stand in for the guest; the sessions are recorded fakes.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from aksnet.errors import (
    AuthenticationFailed,
    HostUnreachable,
    OperationTimedOut,
)
from aksnet.infra import provision
from aksnet.infra.nodeseed import NodeSeed
from aksnet.infra.provision import NodeVm, ProvisionSettings, wait_for_winrm
from aksnet.remote.base import Credential, Endpoint
from aksnet.remote.classify import TLSFailure

LOCAL = "127.0.0.1"


@pytest.fixture
def listening() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections (the kernel completes them unaccepted)."""
    with socket.create_server((LOCAL, 0)) as server:
        yield server.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound once to find it, then closed)."""
    with socket.create_server((LOCAL, 0)) as server:
        return int(server.getsockname()[1])


class Attempts:
    """An attempt that fails with the given errors first, then returns 'answered'."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "answered"


def _poll(attempt: Attempts, port: int, timeout: float = 30.0) -> str:
    return provision._poll_guest(
        attempt, LOCAL, port, timeout=timeout, cap=0.05, failure="VM 'c1-cp-0' did not answer"
    )


def test_no_session_is_tried_while_the_port_refuses(closed_port: int) -> None:
    attempt = Attempts()
    with pytest.raises(OperationTimedOut, match=r"VM 'c1-cp-0' did not answer in 0.3 s"):
        _poll(attempt, closed_port, timeout=0.3)
    assert attempt.calls == 0


def test_a_guest_not_ready_behind_an_open_port_is_polled_again(listening: int) -> None:
    attempt = Attempts(HostUnreachable(LOCAL, "reset"), OperationTimedOut(LOCAL, "banner"))
    assert _poll(attempt, listening) == "answered"
    assert attempt.calls == 3


@pytest.mark.parametrize(
    "refusal",
    [
        TLSFailure(LOCAL, "certificate not trusted"),
        AuthenticationFailed(LOCAL, "password refused"),
    ],
)
def test_a_wrong_certificate_or_password_ends_the_wait_at_once(
    listening: int, refusal: Exception
) -> None:
    attempt = Attempts(refusal, refusal)
    with pytest.raises(type(refusal)):
        _poll(attempt, listening)
    assert attempt.calls == 1


class FakePSRPSession:
    """Records each session built and what it ran; its Test-Path answers."""

    made: ClassVar[list[FakePSRPSession]] = []

    def __init__(self, endpoint: Endpoint, credential: Credential, **options: Any) -> None:
        self.endpoint, self.options, self.closed = endpoint, options, False
        self.ran: list[str] = []
        FakePSRPSession.made.append(self)

    def invoke(self, *statements: Any) -> list[bool]:
        self.ran.extend(s.name for s in statements)
        return [True]

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_psrp(monkeypatch: pytest.MonkeyPatch) -> list[FakePSRPSession]:
    FakePSRPSession.made = []
    monkeypatch.setattr(provision, "PSRPSession", FakePSRPSession)
    return FakePSRPSession.made


def _windows_vm(tmp_path: Path) -> NodeVm:
    seed = NodeSeed({"instance-id": "c1-win-0"}, {}, {"version": 2})
    cert = str(tmp_path / "winrm.pem")
    return NodeVm(
        "c1-win-0", "worker", 2, 8 << 30, 0x02A54B000009, LOCAL, seed, "", "Windows", cert
    )


def _settings(timeout: float) -> ProvisionSettings:
    unused: Any = None  # no Linux VM is reached here
    return ProvisionSettings(
        "sw",
        None,
        "clouduser",
        admin_key=unused,
        known_hosts=unused,
        windows_credential=Credential("Administrator", "not-a-real-secret"),
        winrm_timeout=timeout,
    )


def test_winrm_wait_builds_no_session_until_the_listener_accepts(
    tmp_path: Path,
    closed_port: int,
    fake_psrp: list[FakePSRPSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(provision, "WINRM_PORT", closed_port)
    with pytest.raises(OperationTimedOut, match=r"did not answer WinRM on 127.0.0.1:\d+ in 0.3 s"):
        wait_for_winrm(_windows_vm(tmp_path), LOCAL, "hci1", _settings(0.3))
    assert fake_psrp == []


def test_winrm_wait_checks_the_listener_once_it_accepts(
    tmp_path: Path,
    listening: int,
    fake_psrp: list[FakePSRPSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(provision, "WINRM_PORT", listening)
    wait_for_winrm(_windows_vm(tmp_path), LOCAL, "hci1", _settings(30.0))
    (session,) = fake_psrp
    assert session.ran == ["Test-Path"] and session.closed
    assert session.endpoint.port == listening and session.endpoint.ssl
