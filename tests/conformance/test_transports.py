"""One conformance suite for every transport: PSRP, WinRM and SSH keep the same promises.

Each test is one behaviour, run once per transport through an adapter (adapters.py) that says
it in the transport's terms: over PowerShell a value echoes back through a file on the host
(Set-Content, then Get-Content), over SSH through ``printf %s``.

The lab: PSRP and WinRM talk to an emulated Hyper-V host (HyperVMachine on a HyperVHost, real
cmdlet contracts and error texts) behind aksnet's lab WSManServer on 127.0.0.1; SSH talks to a
Linux lab node (a network namespace on a LabNetwork bridge in 198.19.0.0/16 running a real
OpenSSH sshd, seeded by a NoCloud ISO). The Linux node needs root; without it the ssh tests are
skipped with the reason.

Real hosts: the same tests run against real machines when these variables are set (otherwise
the real-* parametrizations are SKIPPED, naming the missing variables):

- Windows, for real-psrp and real-winrm (needs the Hyper-V PowerShell module, HTTPS listener):
  AKSNET_TEST_WINRM_HOST, AKSNET_TEST_WINRM_USER, AKSNET_TEST_WINRM_PASSWORD, and optionally
  AKSNET_TEST_WINRM_PORT (default 5986), AKSNET_TEST_WINRM_AUTH (default negotiate),
  AKSNET_TEST_WINRM_CA (CA bundle path for the listener's certificate).
- Linux, for real-ssh: AKSNET_TEST_SSH_HOST, AKSNET_TEST_SSH_USER, AKSNET_TEST_SSH_KEY (private
  key file), AKSNET_TEST_SSH_HOST_KEY (the host's public key line, pinned; port 22).

On real hosts the behaviours that need the lab's fault injection (PowerShell timeouts through
server latency, checksum tampering) and server-side counters (login attempts, connections) are
skipped or not counted, and say so. Files are written under C:\\ProgramData\\AksNet Lab (Windows)
and /tmp/aksnet conf <random> (Linux), both removed after each test.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

import pytest

from aksnet.errors import (
    AuthenticationFailed,
    HostUnreachable,
    InvalidInput,
    OperationTimedOut,
    ProtocolError,
    RemoteCommandFailed,
)
from aksnet.remote.retry import RetryPolicy
from tests.conformance.adapters import Adapter

# Several attempts allowed: a test that sees one attempt shows that nothing was retried.
RETRYING = RetryPolicy(attempts=4, initial_delay=0.01, max_delay=0.05, jitter=0.0, deadline=20)
UNICODE_NAME = "汉语 ['x y'].txt"

HOSTILE = [
    "it's",
    'say "hi"',
    "'; exit 1; '",
    "$(whoami)",
    "${env:PATH}",
    "${HOME}",
    "`id`",
    "`$env:PATH`n",
    "a; b",
    "a | b",
    "a && b || c",
    "line one\nline two",
    "crlf\r\nend",
    "*",
    "C:\\Windows\\*.dll",
    "/etc/*.conf",
    "[a-z]?",
    "@{x=1}",
    "-n",
    "--%",
    "tab\there",
    " leading and trailing ",
    "back\\slash",
    "#comment",
    "Grüße 汉语 🚀",
]


def wait_for(read: Callable[[], int | None], at_least: int, what: str) -> int:
    """Poll a server-side counter until it reaches at_least (logs are written asynchronously)."""
    deadline = time.monotonic() + 10
    while (value := read() or 0) < at_least:
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} stayed at {value}, expected at least {at_least}")
        time.sleep(0.05)
    return value


# 1. Unicode and spaces


def test_unicode_and_spaces_in_values_and_paths(adapter: Adapter) -> None:
    adapter.make_dir(adapter.scratch_dir)
    path = adapter.scratch(UNICODE_NAME)
    value = "Grüße, 汉语 ['x y'] 🚀\nsecond line with  two spaces"
    adapter.write_text(path, value)
    assert adapter.read_text(path) == value
    assert adapter.name_of(path) == UNICODE_NAME  # the host's file system has that very name


# 2. Hostile strings are data


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_string_arrives_literally(adapter: Adapter, value: str) -> None:
    assert adapter.echo(value) == value


def test_injected_commands_do_not_run(adapter: Adapter) -> None:
    adapter.make_dir(adapter.scratch_dir)
    canary = adapter.scratch("canary")
    for value in adapter.injections(canary):
        assert adapter.echo(value) == value
        assert not adapter.exists(canary), f"{value!r} ran as a command"
    adapter.write_text(canary, "made on purpose")
    assert adapter.exists(canary)  # the check above could have seen the canary


def test_nul_is_carried_or_clearly_refused(adapter: Adapter) -> None:
    value = "before\0after"
    if adapter.carries_nul:  # PowerShell: CLIXML / JSON carry U+0000 inside a string
        assert adapter.echo(value) == value
        return
    # SSH: an argv word cannot hold NUL, so the session refuses before sending anything.
    with pytest.raises(InvalidInput) as caught:
        adapter.echo(value)
    assert caught.value.parameter == "argv[2]"
    assert "NUL" in str(caught.value)


# 3. Large output


def test_large_output_arrives_complete(adapter: Adapter) -> None:
    expected, received = adapter.large_output()
    assert len(expected.encode()) > 3_000_000
    assert len(received) == len(expected)
    assert received == expected


# 4. Files with checksums


def test_file_round_trip_is_verified(adapter: Adapter) -> None:
    adapter.make_dir(adapter.scratch_dir)
    path = adapter.scratch(UNICODE_NAME)
    data = os.urandom(adapter.file_size)
    adapter.put(data, path)
    assert adapter.get(path) == data
    assert adapter.name_of(path) == UNICODE_NAME


def test_tampered_checksum_is_detected(adapter: Adapter) -> None:
    adapter.make_dir(adapter.scratch_dir)
    path = adapter.scratch(UNICODE_NAME)
    adapter.put(b"old content", path)
    with adapter.tampering():
        with pytest.raises(ProtocolError, match="checksum mismatch"):
            adapter.put(b"new content", path)
        with pytest.raises(ProtocolError, match="checksum mismatch"):
            adapter.get(path)
    assert adapter.get(path) == b"old content"  # the refused put did not replace the file


# 5. Timeouts


def test_timeout_is_classified(adapter: Adapter) -> None:
    with adapter.timing_out() as call, pytest.raises(OperationTimedOut) as caught:
        call()
    assert caught.value.retryable
    assert adapter.echo("still here") == "still here"


# 6. Authentication failure


def test_authentication_failure_is_not_retried(adapter: Adapter) -> None:
    call = adapter.wrongly_authenticated(RETRYING)
    before = adapter.server_login_attempts()
    with pytest.raises(AuthenticationFailed) as caught:
        call()
    assert type(caught.value) is AuthenticationFailed
    assert not caught.value.retryable
    if before is not None:  # a real host's logs are not ours to read
        after = wait_for(adapter.server_login_attempts, before + 1, "login attempts")
        assert after == before + 1  # RETRYING allowed 4 attempts: one was made


# 7. Unreachable host


def test_closed_port_is_unreachable(adapter: Adapter) -> None:
    with socket.socket() as holder:  # bound, not listening: connections are refused
        holder.bind(("127.0.0.1", 0))
        call = adapter.on_closed_port(holder.getsockname()[1], RETRYING)
        with pytest.raises(HostUnreachable) as caught:
            call()
    assert caught.value.host == "127.0.0.1"
    assert caught.value.retryable


# 8. Error records


def test_missing_object_error_is_surfaced(adapter: Adapter) -> None:
    call, expected = adapter.look_up_missing("aksnet-conf-missing")
    with pytest.raises(RemoteCommandFailed) as caught:
        call()
    expected.check(caught.value)
    assert adapter.echo("after the error") == "after the error"


def test_wrong_usage_error_is_surfaced(adapter: Adapter) -> None:
    call, expected = adapter.misuse()
    with pytest.raises(RemoteCommandFailed) as caught:
        call()
    expected.check(caught.value)


# 9. Session reuse


def test_one_connection_serves_many_calls(adapter: Adapter) -> None:
    before = adapter.connections()
    if before is None:
        pytest.skip("counting connections needs the lab's server-side counters")
    for index in range(10):
        assert adapter.echo(f"call {index}") == f"call {index}"
    after = wait_for(adapter.connections, before + 1, "connections")
    assert after == before + 1
