"""File put/get over both transports: typed cmdlets, checksum verified, atomic rename."""

from __future__ import annotations

import os
from typing import Any

import pytest

from aksnet.errors import InvalidInput, ProtocolError
from aksnet.remote import psfiles
from aksnet.remote.base import PowerShellSession
from aksnet.remote.psrp import PSRPSession
from tests.remote.machine import FakeMachine

PATH = "C:\\ProgramData\\aksnet\\Virtual Hard Disks\\汉语-['foo bar'] $(x).txt"
TEMP = PATH + psfiles.TEMP_SUFFIX


def _data(session: PowerShellSession) -> bytes:
    # Several chunks and, over PSRP, several round trips; over WinRM several scripts.
    size = 200_000 if isinstance(session, PSRPSession) else 3_000
    return os.urandom(size)


def test_put_then_get_round_trip(session: PowerShellSession, machine: FakeMachine) -> None:
    data = _data(session)
    psfiles.put(session, data, PATH, chunk_size=32 * 1024, step_budget=64 * 1024)
    assert machine.files == {PATH: data}  # in place, no temporary file left
    assert psfiles.get(session, PATH) == data


def test_put_uses_only_the_typed_file_cmdlets(
    session: PowerShellSession, machine: FakeMachine
) -> None:
    psfiles.put(session, _data(session), PATH, chunk_size=32 * 1024, step_budget=64 * 1024)
    names = [c.name for step in machine.received for p in step for c in p]
    assert names[0] == "Set-Content"
    assert set(names[1:-2]) <= {"Add-Content"}
    assert names[-2:] == ["Get-FileHash", "Move-Item"]
    assert set(machine.values("LiteralPath")) == {TEMP}
    assert machine.values("Destination") == [PATH]


def test_put_batches_chunks_within_the_step_budget(psrp: PSRPSession, machine: FakeMachine) -> None:
    psfiles.put(psrp, bytes(100_000), PATH, chunk_size=10_000, step_budget=40_000)
    chunk_steps = [step for step in machine.received if step[0][0].name.endswith("-Content")]
    assert [len(step) for step in chunk_steps] == [4, 4, 3]  # + Get-FileHash on the last
    assert chunk_steps[-1][-1][0].name == "Get-FileHash"


def test_empty_file_round_trip(session: PowerShellSession, machine: FakeMachine) -> None:
    psfiles.put(session, b"", PATH)
    assert machine.files == {PATH: b""}
    assert psfiles.get(session, PATH) == b""


def test_tampered_hash_on_put_removes_the_temporary_file(
    session: PowerShellSession, machine: FakeMachine
) -> None:
    machine.files[PATH] = b"old content"
    machine.tamper_hash = True
    with pytest.raises(ProtocolError) as caught:
        psfiles.put(session, b"new content", PATH)
    assert "checksum mismatch" in str(caught.value)
    assert machine.files == {PATH: b"old content"}  # not replaced, temporary file removed


def test_tampered_hash_on_get_is_detected(session: PowerShellSession, machine: FakeMachine) -> None:
    machine.files[PATH] = b"content"
    machine.tamper_hash = True
    with pytest.raises(ProtocolError, match="checksum mismatch"):
        psfiles.get(session, PATH)


def test_bad_parameters_are_refused(psrp: PSRPSession, server: Any) -> None:
    server.stats.reset()
    with pytest.raises(InvalidInput) as caught:
        psfiles.put(psrp, b"x", "")
    assert caught.value.parameter == "path"
    with pytest.raises(InvalidInput) as caught:
        psfiles.put(psrp, b"x", PATH, chunk_size=0)
    assert caught.value.parameter == "chunk_size"
    assert server.stats.requests == 0
