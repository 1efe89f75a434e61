"""Both transports: what is retried (only what is safe to resend), what is not, classified."""

from __future__ import annotations

from typing import Any

import pytest

from aksnet.errors import HostUnreachable, OperationTimedOut
from aksnet.remote.base import Cmdlet
from aksnet.remote.classify import (
    WSMAN_BUSY,
    WSMAN_OPERATION_TIMEOUT,
    WSMAN_QUOTA_MAX_OPERATIONS,
    HostBusy,
    QuotaExceeded,
)
from aksnet.remote.retry import NO_RETRY
from tests.remote.conftest import make_psrp, make_winrm
from tests.remote.machine import FakeMachine

ECHO = Cmdlet.of("Write-Output", InputObject="ran")


@pytest.mark.parametrize("make", [make_psrp, make_winrm])
def test_busy_command_is_resent_and_runs_once(make: Any, server: Any, machine: FakeMachine) -> None:
    session = make(server.port)
    try:
        session.invoke(Cmdlet.of("Write-Output", InputObject="warm-up"))
        machine.received.clear()
        server.faults.fail_next(2, "wsman_fault", code=WSMAN_BUSY, action="Command")
        assert session.invoke(ECHO) == ["ran"]
    finally:
        session.close()
    assert len(machine.received) == 1


@pytest.mark.parametrize("make", [make_psrp, make_winrm])
def test_busy_without_retries_is_classified(make: Any, server: Any, machine: FakeMachine) -> None:
    session = make(server.port, retry=NO_RETRY)
    try:
        server.faults.fail_next(1, "wsman_fault", code=WSMAN_BUSY, action="Command")
        with pytest.raises(HostBusy) as caught:
            session.invoke(ECHO)
    finally:
        session.close()
    assert caught.value.code == WSMAN_BUSY
    assert machine.received == []


@pytest.mark.parametrize("make", [make_psrp, make_winrm])
def test_quota_fault_opens_a_new_shell_and_resends(
    make: Any, server: Any, machine: FakeMachine
) -> None:
    session = make(server.port, retry=NO_RETRY)  # the quota path is not a RetryPolicy retry
    try:
        session.invoke(Cmdlet.of("Write-Output", InputObject="warm-up"))
        server.stats.reset()
        machine.received.clear()
        server.faults.fail_next(1, "wsman_fault", code=WSMAN_QUOTA_MAX_OPERATIONS, action="Command")
        assert session.invoke(ECHO) == ["ran"]
    finally:
        session.close()
    assert server.stats.by_action.get("Create") == 1  # the new pool / shell
    assert len(machine.received) == 1


def test_quota_fault_twice_in_a_row_is_reported(server: Any, machine: FakeMachine) -> None:
    session = make_psrp(server.port)
    try:
        server.faults.fail_next(2, "wsman_fault", code=WSMAN_QUOTA_MAX_OPERATIONS, action="Command")
        with pytest.raises(QuotaExceeded):
            session.invoke(ECHO)
    finally:
        session.close()
    assert machine.received == []


def test_operation_timeout_while_opening_the_pool_is_retried(
    server: Any, machine: FakeMachine
) -> None:
    # pypsrp re-polls a pipeline's Receive on this fault itself, but not the pool's.
    session = make_psrp(server.port)
    try:
        server.faults.fail_next(1, "wsman_fault", code=WSMAN_OPERATION_TIMEOUT, action="Receive")
        assert session.invoke(ECHO) == ["ran"]
    finally:
        session.close()
    assert server.stats.by_action.get("Create") == 2
    assert len(machine.received) == 1


def test_operation_timeout_while_opening_without_retries_is_classified(server: Any) -> None:
    session = make_psrp(server.port, retry=NO_RETRY)
    try:
        server.faults.fail_next(1, "wsman_fault", code=WSMAN_OPERATION_TIMEOUT, action="Receive")
        with pytest.raises(OperationTimedOut):
            session.invoke(ECHO)
    finally:
        session.close()


@pytest.mark.parametrize("make", [make_psrp, make_winrm])
def test_a_silent_host_is_classified_as_timed_out(make: Any, server: Any) -> None:
    session = make(server.port, retry=NO_RETRY, operation_timeout=1, read_timeout=2)
    server.faults.set_latency(3)  # longer than read_timeout
    try:
        with pytest.raises(OperationTimedOut) as caught:
            session.invoke(ECHO)
    finally:
        server.faults.set_latency(0)
        session.close()
    assert caught.value.retryable


def test_dropped_connection_on_command_is_not_resent(server: Any, machine: FakeMachine) -> None:
    # The command may have run: a lost answer to it is never retried. Had it been resent,
    # the second Command would have succeeded and invoke would have returned.
    session = make_psrp(server.port)  # FAST_RETRY: resending would be allowed if it were safe
    try:
        session.invoke(Cmdlet.of("Write-Output", InputObject="warm-up"))
        server.faults.fail_next(1, "drop", action="Command")
        with pytest.raises(HostUnreachable):
            session.invoke(ECHO)
        assert session.invoke(ECHO) == ["ran"]  # a new pool serves the next step
    finally:
        session.close()


@pytest.mark.parametrize("make", [make_psrp, make_winrm])
def test_connection_setup_is_retried(make: Any, server: Any, machine: FakeMachine) -> None:
    session = make(server.port)  # FAST_RETRY: 4 attempts
    try:
        server.faults.fail_next(2, "drop", action="Create")
        assert session.invoke(ECHO) == ["ran"]
    finally:
        session.close()
    assert len(machine.received) == 1


@pytest.mark.parametrize("make", [make_psrp, make_winrm])
def test_a_host_that_comes_back_is_used_again(make: Any, server: Any) -> None:
    session = make(server.port, retry=NO_RETRY)
    try:
        assert session.invoke(ECHO) == ["ran"]
        server.faults.set_down(True)
        with pytest.raises(HostUnreachable):
            session.invoke(ECHO)
        server.faults.set_down(False)
        assert session.invoke(ECHO) == ["ran"]
    finally:
        server.faults.set_down(False)
        session.close()


@pytest.mark.parametrize("make", [make_psrp, make_winrm])
def test_operation_timeout_while_waiting_for_output_is_polled_again(
    make: Any, server: Any, machine: FakeMachine
) -> None:
    # pypsrp's poll_invoke and pywinrm's get_command_output re-poll on this fault themselves;
    # the command is not sent again.
    session = make(server.port, retry=NO_RETRY)
    try:
        session.invoke(Cmdlet.of("Write-Output", InputObject="warm-up"))
        machine.received.clear()
        server.stats.reset()
        server.faults.fail_next(2, "wsman_fault", code=WSMAN_OPERATION_TIMEOUT, action="Receive")
        assert session.invoke(ECHO) == ["ran"]
        assert server.stats.by_action.get("Receive", 0) >= 3  # two faults, then the output
    finally:
        session.close()
    assert len(machine.received) == 1
