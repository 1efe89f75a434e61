"""NTLM with message encryption over HTTP, and HTTPS with certificate validation, end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aksnet.errors import AuthenticationFailed, HostUnreachable
from aksnet.remote.base import Cmdlet, Credential, Endpoint
from aksnet.remote.psrp import PSRPSession
from aksnet.remote.retry import NO_RETRY
from aksnet.remote.winrm import WinRMSession
from tests.remote.conftest import FAST_RETRY, PASSWORD, USER
from tests.remote.machine import FakeMachine

HOSTILE = 'it\'s "$(Stop-Computer)"; `n | Ünïcødé\n✓'
TIMEOUTS = {"operation_timeout": 2, "read_timeout": 5}


def _session(transport: Any, endpoint: Endpoint, password: str = PASSWORD, **kw: Any) -> Any:
    kw = {**TIMEOUTS, "retry": FAST_RETRY, **kw}
    return transport(endpoint, Credential(USER, password), **kw)


@pytest.fixture
def start_server(machine: FakeMachine) -> Iterator[Any]:
    wsman = pytest.importorskip("aksnet.lab.wsman")
    started: list[Any] = []

    def start(**kw: Any) -> Any:
        srv = wsman.WSManServer(machine, users={USER: PASSWORD}, **kw)
        srv.start()
        started.append(srv)
        return srv

    try:
        yield start
    finally:
        for srv in started:
            srv.stop()


@pytest.mark.parametrize("transport", [PSRPSession, WinRMSession])
def test_ntlm_over_http_with_message_encryption(
    transport: Any, start_server: Any, machine: FakeMachine
) -> None:
    server = start_server(auth="ntlm")
    endpoint = Endpoint("127.0.0.1", port=server.port, ssl=False, auth="ntlm")  # not lab
    session = _session(transport, endpoint)
    try:
        assert session.invoke(Cmdlet.of("Write-Output", InputObject=HOSTILE)) == [HOSTILE]
    finally:
        session.close()
    assert machine.values("InputObject") == [HOSTILE]


def _requests_of_failed_login(server: Any, transport: Any, retry: Any) -> int:
    endpoint = Endpoint("127.0.0.1", port=server.port, ssl=False, auth="ntlm")
    session = _session(transport, endpoint, password="Wr0ng-pa55word?", retry=retry)
    server.stats.reset()
    try:
        with pytest.raises(AuthenticationFailed) as caught:
            session.invoke(Cmdlet.of("Write-Output", InputObject="x"))
    finally:
        session.close()
    assert "Wr0ng-pa55word?" not in str(caught.value)
    requests: int = server.stats.requests
    return requests


@pytest.mark.parametrize("transport", [PSRPSession, WinRMSession])
def test_ntlm_wrong_password_is_not_retried(transport: Any, start_server: Any) -> None:
    server = start_server(auth="ntlm")
    one_handshake = _requests_of_failed_login(server, transport, NO_RETRY)
    assert one_handshake >= 1
    # FAST_RETRY would allow 4 attempts: the failed login still costs one handshake.
    assert _requests_of_failed_login(server, transport, FAST_RETRY) == one_handshake


@pytest.mark.parametrize("transport", [PSRPSession, WinRMSession])
def test_https_validated_against_the_lab_ca(
    transport: Any, start_server: Any, tmp_path: Path
) -> None:
    server = start_server(auth="basic", tls_dir=tmp_path)
    endpoint = Endpoint(
        "127.0.0.1", port=server.port, ssl=True, auth="basic", cert_validation=str(server.ca_path)
    )
    session = _session(transport, endpoint)
    try:
        assert session.invoke(Cmdlet.of("Write-Output", InputObject="over TLS")) == ["over TLS"]
    finally:
        session.close()


@pytest.mark.parametrize("transport", [PSRPSession, WinRMSession])
def test_https_with_an_unknown_ca_is_refused(
    transport: Any, start_server: Any, tmp_path: Path, machine: FakeMachine
) -> None:
    server = start_server(auth="basic", tls_dir=tmp_path)
    endpoint = Endpoint("127.0.0.1", port=server.port, ssl=True, auth="basic")  # system CAs
    session = _session(transport, endpoint, retry=NO_RETRY)
    try:
        with pytest.raises(HostUnreachable, match="TLS failure"):
            session.invoke(Cmdlet.of("Write-Output", InputObject="x"))
    finally:
        session.close()
    assert machine.received == []
