"""The SSH transport: one paramiko connection per host, reused, with classified errors.

A session opens its connection lazily, reuses it for every command (one channel per command) and
opens a new one only when the old one died. Host keys are checked against aksnet's KnownHosts
(pinned, never trusted on first use by default); authentication is by key only. Every failure
leaves this module as an aksnet error (DESIGN principle 5): connecting is retried under the
RetryPolicy when the host is unreachable, an authentication failure never is.
"""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
import secrets
import select
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import paramiko
from paramiko.ssh_exception import IncompatiblePeer

from aksnet.errors import (
    AuthenticationFailed,
    HostUnreachable,
    InvalidInput,
    NotFound,
    OperationTimedOut,
    ProtocolError,
    RemoteCommandFailed,
    RemoteError,
)
from aksnet.remote.base import Completed
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.retry import RetryPolicy
from aksnet.remote.shellquote import (
    kill_group_argv,
    quote_argv,
    render_command,
    split_pid_marker,
)

log = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 10.0  # seconds
DEFAULT_RETRY = RetryPolicy(attempts=4, initial_delay=0.5, max_delay=5.0, deadline=30.0)
_CHUNK = 1 << 16
_KEEPALIVE_SECONDS = 15
# The host key algorithms to offer for a pinned key type, so the host presents the pinned key.
_HOST_KEY_ALGORITHMS = {
    "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
}


class SSHSession:
    """A reusable SSH connection to one host, implementing aksnet.remote.base.ShellSession."""

    def __init__(
        self,
        host: str,
        *,
        port: int = 22,
        username: str,
        private_key: paramiko.PKey | str | os.PathLike[str],
        known_hosts: KnownHosts,
        retry: RetryPolicy = DEFAULT_RETRY,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        command_timeout: float | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._key = _load_private_key(private_key)
        self.known_hosts = known_hosts
        self.retry = retry
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self._lock = threading.Lock()
        self._transport: paramiko.Transport | None = None
        self._connections_opened = 0
        self._connect_attempts = 0

    def __repr__(self) -> str:
        return f"SSHSession({self.username}@{self.host}:{self.port})"

    @property
    def connections_opened(self) -> int:
        """How many SSH connections this session established (1 when reuse works)."""
        return self._connections_opened

    @property
    def connect_attempts(self) -> int:
        """How many TCP connections this session tried, retries included."""
        return self._connect_attempts

    # Commands

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> Completed:
        """Run argv on the host and wait for it; see ShellSession.run."""
        line = render_command(argv)
        shown = quote_argv(argv)
        limit = timeout if timeout is not None else self.command_timeout
        log.debug("%s: run %s (stdin: %s bytes)", self.host, shown, len(stdin or b""))
        with self._channel() as channel:
            try:
                channel.exec_command(line)
            except paramiko.SSHException as error:
                raise self._lost(error, f"starting {shown}") from error
            stdout, stderr, status = self._collect(channel, stdin, limit, shown)
        result = Completed(tuple(argv), status, stdout, stderr)
        log.debug("%s: %s exited %s", self.host, shown, status)
        if check and status != 0:
            raise RemoteCommandFailed(
                self.host,
                shown,
                exit_status=status,
                stdout=result.text,
                stderr=stderr.decode("utf-8", "replace"),
            )
        return result

    def put(self, data: bytes, remote_path: str, *, mode: int = 0o644) -> None:
        """Write data to remote_path atomically: temporary file, sha256 verified, chmod, rename."""
        _check_remote_path(remote_path)
        if not isinstance(mode, int) or not 0 <= mode <= 0o7777:
            raise InvalidInput("mode", mode, "use a file mode from 0 to 0o7777.")
        directory, name = posixpath.split(remote_path)
        temp = posixpath.join(directory, f".{name}.aksnet-{secrets.token_hex(6)}.tmp")
        log.debug("%s: put %s bytes to %s", self.host, len(data), remote_path)
        with self._sftp(f"put {remote_path}", ("remote directory", directory or ".")) as sftp:
            try:
                with sftp.open(temp, "wb") as remote_file:
                    remote_file.set_pipelined(True)
                    remote_file.write(data)
                self._verify_checksum(temp, hashlib.sha256(data).hexdigest(), remote_path)
                sftp.chmod(temp, mode)
                sftp.posix_rename(temp, remote_path)
            except BaseException:
                _remove_quietly(sftp, temp)
                raise

    def get(self, remote_path: str) -> bytes:
        """Read remote_path and verify it against the host's sha256sum."""
        _check_remote_path(remote_path)
        with (
            self._sftp(f"get {remote_path}", ("remote file", remote_path)) as sftp,
            sftp.open(remote_path, "rb") as remote_file,
        ):
            remote_file.prefetch()
            data = remote_file.read()
        self._verify_checksum(remote_path, hashlib.sha256(data).hexdigest(), remote_path)
        log.debug("%s: got %s bytes from %s", self.host, len(data), remote_path)
        return data

    def close(self) -> None:
        """Close the connection; a later command opens a new one."""
        with self._lock:
            transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    def __enter__(self) -> SSHSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Running one command on an open channel

    def _collect(
        self, channel: paramiko.Channel, stdin: bytes | None, limit: float | None, shown: str
    ) -> tuple[bytes, bytes, int]:
        deadline = None if limit is None else time.monotonic() + limit
        writer = _start_stdin_writer(channel, stdin)
        stdout: list[bytes] = []
        stderr: list[bytes] = []
        try:
            _read_until_eof(channel, deadline, stdout, stderr)
            if not channel.status_event.wait(_remaining(deadline)):
                raise _TimedOut()
        except _TimedOut:
            self._kill_timed_out(channel, split_pid_marker(b"".join(stderr))[0])
            raise OperationTimedOut(
                self.host, f"{shown} did not finish within {limit} s; the command was killed"
            ) from None
        finally:
            writer.join(timeout=5)
        transport = channel.get_transport()
        if channel.exit_status == -1 and (transport is None or not transport.is_active()):
            raise HostUnreachable(self.host, f"connection lost while running {shown}")
        return b"".join(stdout), split_pid_marker(b"".join(stderr))[1], channel.exit_status

    def _kill_timed_out(self, channel: paramiko.Channel, pid: int | None) -> None:
        """End a timed-out command: closing its channel alone leaves it running in sshd.

        The "signal" channel request works where sshd allows it (not for root logins, which
        run without privilege separation), so the command's process group is also killed
        from a second channel, by the PID the command line reported.
        """
        _send_kill_signal(channel)
        channel.close()
        if pid is None:
            log.debug("%s: timed-out command reported no PID; it may keep running", self.host)
            return
        try:
            self.run(kill_group_argv(pid), check=False, timeout=self.connect_timeout)
        except RemoteError as error:
            log.debug("%s: could not kill process group %s: %s", self.host, pid, error)

    def _verify_checksum(self, path: str, expected: str, shown_path: str) -> None:
        done = self.run(["sha256sum", "--", path], timeout=self.command_timeout)
        reported = done.text.split(" ", 1)[0].lstrip("\\").strip()
        if reported != expected:
            raise ProtocolError(
                self.host,
                f"checksum mismatch for {shown_path}: local sha256 {expected}, "
                f"host reports {reported or '(nothing)'}",
            )

    # Connection, channels and SFTP

    @contextmanager
    def _channel(self) -> Iterator[paramiko.Channel]:
        transport = self._connected()
        try:
            channel = transport.open_session(timeout=self.connect_timeout)
        except (paramiko.SSHException, EOFError, OSError) as error:
            raise self._lost(error, "opening a channel") from error
        try:
            yield channel
        finally:
            channel.close()

    @contextmanager
    def _sftp(self, operation: str, missing: tuple[str, str]) -> Iterator[paramiko.SFTPClient]:
        """An SFTP client for one operation; missing names what a FileNotFoundError means."""
        transport = self._connected()
        try:
            sftp = paramiko.SFTPClient.from_transport(transport)
        except (paramiko.SSHException, EOFError, OSError) as error:
            raise self._lost(error, "opening SFTP") from error
        if sftp is None:
            raise ProtocolError(self.host, "the host refused the SFTP subsystem")
        try:
            yield sftp
        except FileNotFoundError as error:
            raise NotFound(missing[0], f"{self.host}:{missing[1]}") from error
        except (paramiko.SSHException, EOFError) as error:
            raise self._lost(error, operation) from error
        except OSError as error:
            raise RemoteCommandFailed(self.host, operation, stderr=str(error)) from error
        finally:
            sftp.close()

    def _connected(self) -> paramiko.Transport:
        with self._lock:
            if self._transport is not None and self._transport.is_active():
                return self._transport
            if self._transport is not None:
                log.debug("%s: connection died, reconnecting", self.host)
                self._transport.close()
            self._transport = self.retry.call(self._connect_once)
            self._connections_opened += 1
            return self._transport

    def _connect_once(self) -> paramiko.Transport:
        self._connect_attempts += 1
        log.debug(
            "%s: connecting to port %s (attempt %s)", self.host, self.port, self._connect_attempts
        )
        sock = self._open_socket()
        transport = paramiko.Transport(sock)
        try:
            self._handshake(transport)
        except BaseException:
            transport.close()
            raise
        transport.set_keepalive(_KEEPALIVE_SECONDS)
        return transport

    def _open_socket(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except TimeoutError as error:
            raise HostUnreachable(
                self.host,
                f"connecting to port {self.port} timed out after {self.connect_timeout} s",
            ) from error
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise HostUnreachable(
                self.host, f"cannot connect to port {self.port}: {reason}"
            ) from error
        # Each command closes its channel and opens the next: small writes back to back, which
        # Nagle's algorithm holds until the host's delayed ACK (about 40 ms a command). The SSH
        # packets are whole messages already, so they go out at once.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _handshake(self, transport: paramiko.Transport) -> None:
        transport.banner_timeout = self.connect_timeout
        transport.auth_timeout = self.connect_timeout
        pinned = self.known_hosts.pinned_key(self.host, self.port)
        if pinned is not None:
            name = pinned.get_name()
            transport.get_security_options().key_types = _HOST_KEY_ALGORITHMS.get(name, [name])
        try:
            transport.start_client(timeout=self.connect_timeout)
            self.known_hosts.verify(self.host, self.port, transport.get_remote_server_key())
            transport.auth_publickey(self.username, self._key)
        except paramiko.AuthenticationException as error:
            raise AuthenticationFailed(
                self.host, f"the host refused public key authentication of user {self.username!r}"
            ) from error
        except IncompatiblePeer as error:
            raise ProtocolError(self.host, f"SSH negotiation failed: {error}") from error
        except (paramiko.SSHException, EOFError, OSError) as error:
            raise HostUnreachable(self.host, f"SSH handshake failed: {error}") from error

    def _lost(self, error: BaseException, during: str) -> RemoteError:
        transport = self._transport
        if transport is None or not transport.is_active():
            return HostUnreachable(self.host, f"connection lost while {during}: {error}")
        return ProtocolError(self.host, f"SSH error while {during}: {error}")


class _TimedOut(Exception):
    """Internal: the command's deadline passed."""


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise _TimedOut()
    return left


def _start_stdin_writer(channel: paramiko.Channel, stdin: bytes | None) -> threading.Thread:
    """Stream stdin in its own thread, so a command that writes before reading cannot deadlock."""

    def write() -> None:
        try:
            if stdin:
                channel.sendall(stdin)
            channel.shutdown_write()
        except (OSError, EOFError, paramiko.SSHException):
            # The command ended or the channel closed before reading all of stdin; its exit
            # status and the connection state say what happened.
            log.debug("stdin not fully delivered: channel closed")

    writer = threading.Thread(target=write, name="aksnet-ssh-stdin", daemon=True)
    writer.start()
    return writer


def _read_until_eof(
    channel: paramiko.Channel, deadline: float | None, stdout: list[bytes], stderr: list[bytes]
) -> None:
    """Read stdout and stderr as they arrive (never letting one fill up) until both end.

    Only buffered data is read, so the channel stays blocking for the stdin writer thread.
    """
    wakeup = channel.fileno()
    while True:
        # Data precedes EOF on the channel: once EOF was seen, one more drain gets the rest.
        ended = channel.eof_received or channel.closed
        while channel.recv_ready():
            stdout.append(channel.recv(_CHUNK))
        while channel.recv_stderr_ready():
            stderr.append(channel.recv_stderr(_CHUNK))
        if ended:
            return
        left = _remaining(deadline)
        select.select([wakeup], [], [], 1.0 if left is None else min(left, 1.0))


def _send_kill_signal(channel: paramiko.Channel) -> None:
    """Ask sshd to SIGKILL the command (RFC 4254 section 6.9 "signal"); paramiko has no call."""
    try:
        message = paramiko.Message()
        message.add_byte(paramiko.common.cMSG_CHANNEL_REQUEST)
        message.add_int(channel.remote_chanid)
        message.add_string("signal")
        message.add_boolean(False)
        message.add_string("KILL")
        transport = channel.get_transport()
        if transport is not None:
            transport._send_user_message(message)  # type: ignore[attr-defined]
    except (OSError, EOFError, paramiko.SSHException):
        log.debug("could not send a signal request for the timed-out command")


def _load_private_key(private_key: paramiko.PKey | str | os.PathLike[str]) -> paramiko.PKey:
    if isinstance(private_key, paramiko.PKey):
        return private_key
    try:
        return paramiko.PKey.from_path(os.fspath(private_key))
    except (OSError, paramiko.SSHException, ValueError) as error:
        raise InvalidInput(
            "private_key",
            os.fspath(private_key),
            "give a paramiko key or the path of an unencrypted SSH private key "
            f"(loading failed: {type(error).__name__}).",
        ) from error


def _check_remote_path(remote_path: str) -> None:
    if not isinstance(remote_path, str) or not remote_path or "\x00" in remote_path:
        raise InvalidInput(
            "remote_path", remote_path, "give a non-empty file path without NUL bytes."
        )
    if remote_path.endswith("/"):
        raise InvalidInput(
            "remote_path", remote_path, "give the path of a file, not of a directory."
        )


def _remove_quietly(sftp: paramiko.SFTPClient, path: str) -> None:
    try:
        sftp.remove(path)
    except (OSError, EOFError, paramiko.SSHException):
        log.debug("could not remove temporary file %s", path)
