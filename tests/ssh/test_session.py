"""SSHSession against a real OpenSSH sshd: quoting, streams, exit codes, timeouts, reuse, files."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from aksnet.errors import (
    HostUnreachable,
    InvalidInput,
    NotFound,
    OperationTimedOut,
    ProtocolError,
    RemoteCommandFailed,
)
from aksnet.remote.base import ShellSession
from aksnet.remote.ssh import SSHSession

from .conftest import processes_with_argv, wait_until

HOSTILE = [
    "it's",
    'say "hi"',
    "$(touch /tmp/aksnet-pwned)",
    "`id`",
    "a; rm -rf /nonexistent",
    "a | cat",
    "a && b || c",
    "line one\nline two",
    "*",
    "/etc/*.conf",
    "~root",
    "${HOME}",
    "tab\there",
    "back\\slash",
    "-n",
    "",
    " leading and trailing ",
    "Grüße, 東京, emoji 🚀",
    "!event",
    "#comment",
    "a\rb",
]


def test_session_satisfies_the_shell_session_contract(session: SSHSession) -> None:
    assert isinstance(session, ShellSession)


@pytest.mark.parametrize("word", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_argument_arrives_literally(session: SSHSession, word: str) -> None:
    result = session.run(["printf", "%s", word])
    assert result.stdout == word.encode("utf-8")
    assert not Path("/tmp/aksnet-pwned").exists()


def test_many_hostile_arguments_keep_their_boundaries(session: SSHSession) -> None:
    result = session.run(["printf", "%s\\0", *HOSTILE])
    assert result.stdout.split(b"\0")[:-1] == [w.encode("utf-8") for w in HOSTILE]


def test_stdin_is_streamed_and_closed(session: SSHSession) -> None:
    data = os.urandom(3 * 1024 * 1024)
    result = session.run(["sha256sum"], stdin=data)
    assert result.text.split()[0] == hashlib.sha256(data).hexdigest()


def test_command_without_stdin_sees_end_of_input(session: SSHSession) -> None:
    assert session.run(["cat"], timeout=20).stdout == b""


def test_large_output_on_both_streams_does_not_deadlock(session: SSHSession) -> None:
    script = "head -c 8388608 /dev/zero; head -c 2097152 /dev/zero >&2"
    result = session.run(["sh", "-c", script], timeout=60)
    assert len(result.stdout) == 8 * 1024 * 1024
    assert len(result.stderr) == 2 * 1024 * 1024


def test_large_stdin_echoed_back_does_not_deadlock(session: SSHSession) -> None:
    data = os.urandom(8 * 1024 * 1024)
    assert session.run(["cat"], stdin=data, timeout=60).stdout == data


def test_exit_status_is_returned_without_check(session: SSHSession) -> None:
    result = session.run(["sh", "-c", "echo out; echo err >&2; exit 7"], check=False)
    assert (result.exit_status, result.stdout, result.stderr) == (7, b"out\n", b"err\n")


def test_check_raises_with_exit_status_and_stderr(session: SSHSession) -> None:
    with pytest.raises(RemoteCommandFailed) as caught:
        session.run(["ls", "/nonexistent-aksnet-dir"])
    assert caught.value.exit_status == 2
    assert "No such file or directory" in caught.value.stderr
    assert "ls /nonexistent-aksnet-dir" in str(caught.value)


def test_timeout_raises_and_kills_the_remote_command(session: SSHSession) -> None:
    argv = ["sleep", "30.4711"]
    with pytest.raises(OperationTimedOut):
        session.run(argv, timeout=1)
    wait_until(lambda: not processes_with_argv(argv), what="the timed-out sleep to end")
    assert session.run(["true"]).exit_status == 0  # the connection survives the timeout


def test_one_connection_serves_twenty_commands(session: SSHSession) -> None:
    for number in range(20):
        assert session.run(["echo", str(number)]).text == f"{number}\n"
    assert session.connections_opened == 1
    assert session.connect_attempts == 1


def test_connection_sends_without_nagle_delay(session: SSHSession) -> None:
    """Commands close a channel and open the next in small writes: TCP_NODELAY is set, or each
    would wait for the host's delayed ACK."""
    session.run(["true"])
    sock = session._connected().sock
    assert isinstance(sock, socket.socket)
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_concurrent_commands_share_one_connection(session: SSHSession) -> None:
    results: dict[int, bytes] = {}

    def run(number: int) -> None:
        results[number] = session.run(["printf", "%s", str(number)]).stdout

    threads = [threading.Thread(target=run, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {n: str(n).encode() for n in range(12)}
    assert session.connections_opened == 1


def test_bad_argv_is_rejected_before_sending(session: SSHSession) -> None:
    with pytest.raises(InvalidInput, match="argv"):
        session.run("echo hi")
    with pytest.raises(InvalidInput, match=r"argv\[1\]"):
        session.run(["echo", "nul\x00byte"])
    assert session.connections_opened == 0


def test_put_and_get_round_trip_with_mode(session: SSHSession, remote_dir: Path) -> None:
    target = remote_dir / "config.yaml"
    data = os.urandom(300_000)
    session.put(data, str(target), mode=0o600)
    assert target.read_bytes() == data
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert session.get(str(target)) == data
    assert sorted(p.name for p in remote_dir.iterdir()) == ["config.yaml"]  # no temp file left


def test_put_replaces_atomically(session: SSHSession, remote_dir: Path) -> None:
    target = remote_dir / "file"
    target.write_bytes(b"old")
    inode_before = target.stat().st_ino
    session.put(b"new contents", str(target))
    assert target.read_bytes() == b"new contents"
    assert target.stat().st_ino != inode_before  # a new file renamed over the old one


@pytest.mark.parametrize(
    "name", ["with space.txt", "Grüße 東京.txt", "quote's $(x) `y`.txt", "new\nline \\ back.txt"]
)
def test_put_and_get_unicode_and_space_paths(
    session: SSHSession, remote_dir: Path, name: str
) -> None:
    target = remote_dir / name
    session.put(name.encode("utf-8"), str(target))
    assert target.read_bytes() == name.encode("utf-8")
    assert session.get(str(target)) == name.encode("utf-8")


def test_get_missing_file_is_not_found(session: SSHSession, remote_dir: Path) -> None:
    with pytest.raises(NotFound, match="missing"):
        session.get(str(remote_dir / "missing"))


def test_put_into_missing_directory_names_it(session: SSHSession, remote_dir: Path) -> None:
    with pytest.raises(NotFound, match=r"remote directory .*no-such-dir'"):
        session.put(b"x", str(remote_dir / "no-such-dir" / "file"))


def test_put_refused_by_the_host_fails_with_its_reason(
    session: SSHSession, remote_dir: Path
) -> None:
    (remote_dir / "a-directory").mkdir()
    with pytest.raises(RemoteCommandFailed, match="put"):
        session.put(b"x", str(remote_dir / "a-directory"))  # a file cannot replace a directory
    assert (remote_dir / "a-directory").is_dir()
    assert sorted(p.name for p in remote_dir.iterdir()) == ["a-directory"]


def test_closed_port_is_unreachable_after_the_retry_policy(session_for, sshd) -> None:
    with socket.socket() as holder:  # a bound but not listening port: connections are refused
        holder.bind(("127.0.0.1", 0))
        closed = session_for(sshd, port=holder.getsockname()[1])
        with pytest.raises(HostUnreachable, match="refused"):
            closed.run(["true"])
    assert closed.connect_attempts == closed.retry.attempts
    assert closed.connections_opened == 0


def test_killed_connection_mid_command_is_classified(session_for, own_sshd) -> None:
    session = session_for(own_sshd)
    session.run(["true"])
    outcome: list[BaseException] = []

    def run_long() -> None:
        try:
            session.run(["sleep", "30.4712"], timeout=60)
        except BaseException as error:  # the test inspects whatever was raised
            outcome.append(error)

    runner = threading.Thread(target=run_long)
    runner.start()
    wait_until(lambda: bool(processes_with_argv(["sleep", "30.4712"])), what="the sleep")
    own_sshd.kill_connections()
    runner.join(timeout=30)
    assert len(outcome) == 1
    assert isinstance(outcome[0], (HostUnreachable, ProtocolError)), repr(outcome[0])
    # The session reconnects on the next command.
    assert session.run(["echo", "back"]).text == "back\n"
    assert session.connections_opened == 2


def test_silent_listener_is_unreachable_after_the_retry_policy(session_for, sshd) -> None:
    with socket.socket() as silent:  # accepts TCP connections but never sends an SSH banner
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        session = session_for(sshd, port=silent.getsockname()[1], connect_timeout=0.5)
        with pytest.raises(HostUnreachable, match="handshake"):
            session.run(["true"])
    assert session.connect_attempts == session.retry.attempts


def test_close_then_use_opens_a_new_connection(session: SSHSession) -> None:
    session.run(["true"])
    session.close()
    assert session.run(["echo", "again"]).text == "again\n"
    assert session.connections_opened == 2


def test_stdin_contents_are_not_logged(
    session: SSHSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aksnet")
    session.run(["cat"], stdin=b"s3cr3t-token-value")
    assert "s3cr3t-token-value" not in caplog.text
    assert "stdin: 18 bytes" in caplog.text


def test_put_aborts_on_checksum_mismatch(session_for, own_sshd, tmp_path: Path) -> None:
    # A sha256sum on the host's PATH that reports a wrong digest stands in for a corrupted copy.
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir()
    liar = fake_bin / "sha256sum"
    liar.write_text(
        '#!/bin/sh\necho 0000000000000000000000000000000000000000000000000000000000000000  "$2"\n'
    )
    liar.chmod(0o755)
    own_sshd.stop()
    own_sshd.extra_config = [f"SetEnv PATH={fake_bin}:/usr/sbin:/usr/bin:/sbin:/bin"]
    own_sshd.start()
    session = session_for(own_sshd)
    target = tmp_path / "remote" / "file"
    target.parent.mkdir()
    target.write_bytes(b"old")
    with pytest.raises(ProtocolError, match="checksum mismatch"):
        session.put(b"new", str(target))
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file"]
    with pytest.raises(ProtocolError, match="checksum mismatch"):
        session.get(str(target))
