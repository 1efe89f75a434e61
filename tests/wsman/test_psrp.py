"""pypsrp (unchanged) against the lab WSMan server over Basic/HTTP: outputs, statements, input,
errors, hostile strings, large output."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pypsrp.complex_objects import GenericComplexObject, PSInvocationState
from pypsrp.powershell import PowerShell, RunspacePool

from aksnet.lab.wsman import WSManServer
from tests.wsman.conftest import FakeMachine, basic_wsman

HOSTILE = [
    "it's",
    'say "hi"',
    "$(Remove-Item C:\\ -Recurse)",
    "`n`t back`tick",
    "a; Stop-Computer",
    "x | Out-Null",
    "line1\nline2\r\nline3",
    "日本語 ü ß — 😀",
    "@{a=1}",
    "",
    " leading and trailing ",
]


def test_dict_output_becomes_object_with_properties(pool: RunspacePool) -> None:
    ps = PowerShell(pool)
    ps.add_cmdlet("Get-Item").add_parameter("Name", "vm1").add_parameter("Count", 3)
    out = ps.invoke()
    assert not ps.had_errors and ps.streams.error == []
    assert len(out) == 1 and isinstance(out[0], GenericComplexObject)
    props = out[0].extended_properties
    assert props["Command"] == "Get-Item"
    assert props["Commands"] == 1
    assert props["Parameters"].extended_properties == {"Name": "vm1", "Count": 3}


def test_primitives_and_bytes(pool: RunspacePool, machine: FakeMachine) -> None:
    ps = PowerShell(pool)
    ps.add_cmdlet("Get-Bytes")
    assert ps.invoke() == [bytes(range(256))]


def test_statements_split_at_add_statement(pool: RunspacePool, machine: FakeMachine) -> None:
    ps = PowerShell(pool)
    ps.add_cmdlet("Get-VM").add_parameter("Name", "a").add_cmdlet("Stop-VM")
    ps.add_statement()
    ps.add_cmdlet("Get-Item").add_parameter("Name", "b")
    out = ps.invoke()
    statements, _ = machine.calls[-1]
    assert [[c.name for c in s] for s in statements] == [["Get-VM", "Stop-VM"], ["Get-Item"]]
    assert [o.extended_properties["Command"] for o in out] == ["Get-VM", "Get-Item"]
    assert out[0].extended_properties["Commands"] == 2


def test_pipeline_input_reaches_machine(pool: RunspacePool, machine: FakeMachine) -> None:
    ps = PowerShell(pool)
    ps.add_cmdlet("Echo-Input")
    values: Any = ["one", 2, True]  # pypsrp's annotation says Iterator; it wants a list
    out = ps.invoke(input=values)
    assert machine.calls[-1][1] == ["one", 2, True]
    assert [o.extended_properties["Got"] for o in out] == ["one", 2, True]


def test_positional_argument_has_no_name(pool: RunspacePool, machine: FakeMachine) -> None:
    ps = PowerShell(pool)
    ps.add_cmdlet("Get-Item").add_argument("pos")
    ps.invoke()
    assert machine.calls[-1][0][0][0].parameters == ((None, "pos"),)


def test_non_terminating_error_record(pool: RunspacePool) -> None:
    ps = PowerShell(pool)
    ps.add_cmdlet("Warn")
    out = ps.invoke()
    assert not ps.had_errors  # pypsrp: only a Failed pipeline sets had_errors
    assert [o.extended_properties["Name"] for o in out] == ["after-warning"]
    (err,) = ps.streams.error
    assert str(err) == "A VM named 'dup' already exists."
    assert err.fq_error == "VMAlreadyExists,New-VM"
    assert err.target_name == "dup"
    assert "ResourceExists" in str(err.message)


def test_terminating_error_fails_pipeline(pool: RunspacePool) -> None:
    ps = PowerShell(pool)
    ps.add_cmdlet("Get-Item").add_statement().add_cmdlet("Fail")
    out = ps.invoke()
    assert ps.had_errors and out == []
    (err,) = ps.streams.error
    assert str(err) == "VM 'vm9' cannot be started."
    assert err.fq_error == "InvalidState,Start-VM"
    assert err.target_name == "vm9"
    assert "InvalidOperation" in str(err.message)


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_arrive_literally(
    pool: RunspacePool, machine: FakeMachine, value: str
) -> None:
    ps = PowerShell(pool)
    ps.add_cmdlet("Get-Item").add_parameter("Name", value).add_parameter("List", [value, "b"])
    out = ps.invoke()
    params = machine.all_parameters()[-1]
    assert params["Name"] == value and type(params["Name"]) is str
    assert params["List"] == [value, "b"]
    assert out[0].extended_properties["Parameters"].extended_properties["Name"] == value


def test_script_text_is_refused_not_run(pool: RunspacePool, machine: FakeMachine) -> None:
    ps = PowerShell(pool)
    ps.add_script("Get-VM -Name x | Stop-VM -Force")
    ps.invoke()
    assert ps.had_errors and machine.calls == []
    (err,) = ps.streams.error
    assert "typed cmdlet calls and aksnet WinRM envelopes only" in str(err)
    assert "Get-VM, Stop-VM" in str(err)


def test_unparsable_script_gets_parser_error(pool: RunspacePool) -> None:
    ps = PowerShell(pool)
    ps.add_script("Get-VM | Where-Object { $_.Name -eq 'x'")
    ps.invoke()
    assert ps.had_errors
    (err,) = ps.streams.error
    assert err.fq_error == "ParseException" and "ParserError" in str(err.message)
    assert "At line:1" in str(err)


def test_large_output_across_many_objects(pool: RunspacePool) -> None:
    ps = PowerShell(pool)
    ps.add_cmdlet("Emit").add_parameter("Count", 500).add_parameter("Size", 10_000)
    out = ps.invoke()
    assert len(out) == 500
    assert [o.extended_properties["Index"] for o in out] == list(range(500))
    assert all(o.extended_properties["Data"] == "x" * 10_000 for o in out)


def test_pool_is_alive_and_reused(pool: RunspacePool, machine: FakeMachine) -> None:
    assert pool.is_alive()
    for n in range(3):
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-Item").add_parameter("N", n)
        ps.invoke()
    assert [p["N"] for p in machine.all_parameters()] == [0, 1, 2]


def test_stop_signal_stops_running_pipeline(pool: RunspacePool, machine: FakeMachine) -> None:
    ps = PowerShell(pool)
    ps.add_cmdlet("Block")
    ps.begin_invoke()
    ps.stop()  # Signal .../signal/ctrl_c
    assert ps.state == PSInvocationState.STOPPED
    machine.release.set()
    ps = PowerShell(pool)
    ps.add_cmdlet("Get-Item")
    assert len(ps.invoke()) == 1  # the pool goes on serving


def test_concurrent_pools_keep_their_own_state(basic_server: WSManServer) -> None:
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def client(n: int) -> None:
        try:
            with basic_wsman(basic_server) as wsman, RunspacePool(wsman) as pool:
                names = []
                for i in range(5):
                    ps = PowerShell(pool)
                    ps.add_cmdlet("Get-Item").add_parameter("Name", f"c{n}-{i}")
                    params = ps.invoke()[0].extended_properties["Parameters"]
                    names.append(params.extended_properties["Name"])
                results[n] = names
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert results == {n: [f"c{n}-{i}" for i in range(5)] for n in range(4)}
    assert basic_server.stats.by_action["Create"] == 4


def test_large_parameter_spans_several_fragments(
    basic_server: WSManServer, pool: RunspacePool, machine: FakeMachine
) -> None:
    blob = "y" * 400_000  # more than one envelope: pypsrp sends the rest with Send
    ps = PowerShell(pool)
    ps.add_cmdlet("Get-Item").add_parameter("Blob", blob)
    ps.invoke()
    assert machine.all_parameters()[-1]["Blob"] == blob
    assert basic_server.stats.by_action["Send"] >= 1
    assert basic_server.stats.faults == {}  # every envelope fitted MaxEnvelopeSize
