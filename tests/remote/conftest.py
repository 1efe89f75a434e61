"""Fixtures: a lab WSMan server on 127.0.0.1 in front of a FakeMachine, and sessions to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aksnet.remote.base import Credential, Endpoint
from aksnet.remote.psrp import PSRPSession
from aksnet.remote.retry import RetryPolicy
from aksnet.remote.winrm import WinRMSession
from tests.remote.machine import FakeMachine

USER = "labadmin"
PASSWORD = "S3cret-pa55word!"  # distinctive, so a leak is easy to find
FAST_RETRY = RetryPolicy(attempts=4, initial_delay=0.01, max_delay=0.05, jitter=0.0, deadline=20)


@pytest.fixture
def machine() -> FakeMachine:
    return FakeMachine()


@pytest.fixture
def server(machine: FakeMachine) -> Iterator[Any]:
    wsman = pytest.importorskip("aksnet.lab.wsman")
    srv = wsman.WSManServer(machine, users={USER: PASSWORD}, auth="basic")
    srv.start()
    try:
        yield srv
    finally:
        srv.faults.set_latency(0)
        srv.stop()


def lab_endpoint(port: int) -> Endpoint:
    return Endpoint(host="127.0.0.1", port=port, ssl=False, auth="basic", lab=True)


def make_psrp(port: int, *, password: str = PASSWORD, **kw: Any) -> PSRPSession:
    kw.setdefault("retry", FAST_RETRY)
    kw.setdefault("operation_timeout", 2)
    kw.setdefault("read_timeout", 5)
    kw.setdefault("connection_timeout", 2)
    return PSRPSession(lab_endpoint(port), Credential(USER, password), **kw)


def make_winrm(port: int, *, password: str = PASSWORD, **kw: Any) -> WinRMSession:
    kw.setdefault("retry", FAST_RETRY)
    kw.setdefault("operation_timeout", 2)
    kw.setdefault("read_timeout", 5)
    return WinRMSession(lab_endpoint(port), Credential(USER, password), **kw)


@pytest.fixture(params=["psrp", "winrm"])
def session(request: pytest.FixtureRequest, server: Any) -> Iterator[PSRPSession | WinRMSession]:
    """The same contract over both transports."""
    made = make_psrp(server.port) if request.param == "psrp" else make_winrm(server.port)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def psrp(server: Any) -> Iterator[PSRPSession]:
    made = make_psrp(server.port)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def winrm(server: Any) -> Iterator[WinRMSession]:
    made = make_winrm(server.port)
    try:
        yield made
    finally:
        made.close()
