"""Fault injection, long-poll timeouts, envelope size, stats and lifecycle of the server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest
import requests
import winrm
from pypsrp.exceptions import AuthenticationError, WSManFaultError
from pypsrp.powershell import PowerShell, RunspacePool

from aksnet.lab.wsman import FaultPlan, WSManServer, faults
from aksnet.lab.wsman.faults import ENVELOPE_TOO_LARGE, OPERATION_TIMEOUT, SHELL_NOT_FOUND
from aksnet.remote.base import Cmdlet
from aksnet.remote.render import render_script
from tests.wsman.conftest import PASSWORD, USER, USERS, FakeMachine, basic_wsman


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.02)


def get_item(pool: RunspacePool) -> list[object]:
    ps = PowerShell(pool)
    ps.add_cmdlet("Get-Item")
    return list(ps.invoke())


def test_receive_long_poll_timeout_is_retried(
    basic_server: WSManServer, machine: FakeMachine
) -> None:
    wsman = basic_wsman(basic_server, operation_timeout=1, read_timeout=5)
    with wsman, RunspacePool(wsman) as pool:
        result: list[object] = []
        ps = PowerShell(pool)
        ps.add_cmdlet("Block")
        worker = threading.Thread(target=lambda: result.extend(ps.invoke()))
        worker.start()
        # each Receive waits OperationTimeout (1 s), answers fault 2150858793, is re-polled
        wait_for(lambda: basic_server.stats.faults.get(OPERATION_TIMEOUT, 0) >= 2)
        machine.release.set()
        worker.join(20)
    assert not worker.is_alive()
    assert result == ["released"] and not ps.had_errors


def test_injected_operation_timeout_faults_are_retried(
    basic_server: WSManServer, pool: RunspacePool
) -> None:
    basic_server.faults.fail_next(3, "wsman_fault", code=OPERATION_TIMEOUT, action="Receive")
    before = basic_server.stats.by_action.get("Receive", 0)
    assert len(get_item(pool)) == 1
    assert basic_server.stats.by_action["Receive"] - before == 4  # 3 faults + 1 answer


def test_injected_fault_code_reaches_client(basic_server: WSManServer, pool: RunspacePool) -> None:
    basic_server.faults.fail_next(1, "wsman_fault", code=SHELL_NOT_FOUND, action="Command")
    with pytest.raises(WSManFaultError) as caught:
        get_item(pool)
    assert caught.value.code == SHELL_NOT_FOUND
    assert basic_server.stats.faults == {SHELL_NOT_FOUND: 1}
    assert len(get_item(pool)) == 1  # only the next matching request failed


def test_injected_401(basic_server: WSManServer, pool: RunspacePool) -> None:
    basic_server.faults.fail_next(1, "http401", action="Command")
    with pytest.raises(AuthenticationError):
        get_item(pool)
    assert len(get_item(pool)) == 1


def test_injected_drop(basic_server: WSManServer, machine: FakeMachine) -> None:
    basic_server.faults.fail_next(1, "drop", action="Create")
    with basic_wsman(basic_server) as wsman, pytest.raises(requests.exceptions.ConnectionError):
        RunspacePool(wsman).open()
    with basic_wsman(basic_server) as wsman, RunspacePool(wsman) as pool:
        assert len(get_item(pool)) == 1


def test_latency_beyond_read_timeout(basic_server: WSManServer) -> None:
    basic_server.faults.set_latency(3.0)
    wsman = basic_wsman(basic_server, operation_timeout=1, read_timeout=1.5)
    with wsman, pytest.raises(requests.exceptions.ReadTimeout):
        RunspacePool(wsman).open()
    basic_server.faults.set_latency(0)
    with basic_wsman(basic_server) as wsman, RunspacePool(wsman) as pool:
        assert len(get_item(pool)) == 1


def test_set_down_refuses_then_comes_back(basic_server: WSManServer) -> None:
    port = basic_server.port
    basic_server.faults.set_down(True)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with basic_wsman(basic_server) as wsman, pytest.raises(requests.exceptions.ConnectionError):
        RunspacePool(wsman).open()
    basic_server.faults.set_down(False)
    assert basic_server.port == port
    with basic_wsman(basic_server) as wsman, RunspacePool(wsman) as pool:
        assert len(get_item(pool)) == 1


def test_envelope_larger_than_max_envelope_size(basic_server: WSManServer) -> None:
    session = winrm.Session(basic_server.url, auth=(USER, PASSWORD), transport="basic")
    with pytest.raises(winrm.exceptions.WSManFaultError) as caught:
        session.run_cmd("echo", ["x" * 200_000])  # pywinrm announces MaxEnvelopeSize 153600
    assert caught.value.wsman_fault_code == ENVELOPE_TOO_LARGE
    assert "MaxEnvelopeSize" in str(caught.value)


def test_stats_count_actions_and_round_trips(basic_server: WSManServer) -> None:
    basic_server.stats.reset()
    with basic_wsman(basic_server) as wsman, RunspacePool(wsman) as pool:
        get_item(pool)
        get_item(pool)
    stats = basic_server.stats
    assert stats.round_trips == 2
    assert stats.by_action["Create"] == 1 and stats.by_action["Command"] == 2
    assert stats.by_action["Delete"] == 1
    assert stats.requests == sum(stats.by_action.values())
    session = winrm.Session(basic_server.url, auth=(USER, PASSWORD), transport="basic")
    session.run_cmd("hostname")
    assert stats.round_trips == 3
    stats.reset()
    assert (stats.requests, stats.round_trips, stats.by_action) == (0, 0, {})


def test_fault_plan_validates_arguments() -> None:
    plan = FaultPlan()
    with pytest.raises(ValueError, match="kind 'explode'"):
        plan.fail_next(1, "explode")
    with pytest.raises(ValueError, match="needs code"):
        plan.fail_next(1, "wsman_fault")
    with pytest.raises(ValueError, match="n must be >= 1"):
        plan.fail_next(0, "drop")
    with pytest.raises(ValueError, match="latency"):
        plan.set_latency(-1)


def test_server_validates_arguments(machine: FakeMachine) -> None:
    with pytest.raises(ValueError, match="auth 'kerberos'"):
        WSManServer(machine, users=USERS, auth="kerberos")
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8"):
        WSManServer(machine, users=USERS, host="192.0.2.10")
    with pytest.raises(ValueError, match="users"):
        WSManServer(machine, users={})


def test_stop_frees_port_and_leaves_no_thread(machine: FakeMachine) -> None:
    threads_before = set(threading.enumerate())
    server = WSManServer(machine, users=USERS, auth="ntlm").start()
    port = server.port
    with basic_wsman(server) as wsman, pytest.raises(AuthenticationError):
        RunspacePool(wsman).open()
    session = requests.Session()
    assert session.post(server.url, data=b"", timeout=5).status_code == 401
    server.faults.set_down(True)
    server.faults.set_down(False)
    server.stop()
    session.close()
    assert set(threading.enumerate()) - threads_before == set()
    # TIME_WAIT of the closed connections may remain; a listener on the port would refuse this
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()
    with WSManServer(machine, users=USERS, port=port) as again:
        assert again.port == port


def test_stop_wakes_a_long_polling_receive(machine: FakeMachine) -> None:
    threads_before = set(threading.enumerate())
    server = WSManServer(machine, users=USERS, auth="basic").start()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            wsman = basic_wsman(server, operation_timeout=30, read_timeout=40)
            with wsman, RunspacePool(wsman) as pool:
                ps = PowerShell(pool)
                ps.add_cmdlet("Block")
                ps.invoke()
        except Exception as exc:  # the server goes away under the client
            errors.append(exc)

    client = threading.Thread(target=run)
    client.start()
    wait_for(lambda: server.stats.round_trips == 1)
    machine.release.set()  # let the pipeline worker finish so stop() can join it
    server.stop()
    client.join(30)
    assert not client.is_alive()
    assert set(threading.enumerate()) - threads_before == set()


def test_config_reports_max_envelope_size(basic_server: WSManServer) -> None:
    with basic_wsman(basic_server) as wsman:
        wsman.update_max_payload_size()
        assert wsman.max_envelope_size == 500 * 1024
        with RunspacePool(wsman) as pool:
            assert len(get_item(pool)) == 1


def test_pywinrm_retries_receive_timeouts(basic_server: WSManServer, machine: FakeMachine) -> None:
    session = winrm.Session(
        basic_server.url,
        auth=(USER, PASSWORD),
        transport="basic",
        operation_timeout_sec=1,
        read_timeout_sec=5,
    )
    script = render_script([Cmdlet.of("Block")])
    results: list[winrm.Response] = []
    worker = threading.Thread(target=lambda: results.append(session.run_ps(script)))
    worker.start()
    wait_for(lambda: basic_server.stats.faults.get(OPERATION_TIMEOUT, 0) >= 2)
    machine.release.set()
    worker.join(20)
    assert not worker.is_alive()
    assert results[0].status_code == 0
    assert results[0].std_out == b'{"output":["released"]}\r\n'


def test_default_latency_applies_to_plans_made_after_it() -> None:
    before = FaultPlan()
    try:
        faults.set_default_latency(0.05)
        assert FaultPlan().latency == 0.05 and before.latency == 0.0
        with pytest.raises(ValueError, match="latency"):
            faults.set_default_latency(float("nan"))
        assert faults.default_latency() == 0.05
    finally:
        faults.set_default_latency(0)
    assert FaultPlan().latency == 0.0
