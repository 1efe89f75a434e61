"""A real OpenSSH sshd on 127.0.0.1 for the SSH transport tests, started and reaped per fixture.

Each server runs Debian's /usr/sbin/sshd in the foreground (``-D -e``) from its own temporary
directory: its own sshd_config, a host key made by aksnet.infra.hostkeys, an authorized key for
root and a PID file. Teardown kills the server and every process it forked (connection children
and the commands they ran), also when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from aksnet.infra.hostkeys import HostKeyPair, generate_host_key
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.retry import RetryPolicy
from aksnet.remote.ssh import SSHSession

SSHD = "/usr/sbin/sshd"
LOOPBACK = "127.0.0.1"
FAST_RETRY = RetryPolicy(attempts=3, initial_delay=0.05, max_delay=0.2, jitter=0.05, deadline=10)

pytestmark = pytest.mark.skipif(not Path(SSHD).exists(), reason="OpenSSH server not installed")


def wait_until(condition: Callable[[], bool], *, timeout: float = 10.0, what: str) -> None:
    """Poll condition until it holds, failing the test when the deadline passes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def child_pids(parent: int) -> list[int]:
    """PIDs whose parent is parent, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent:
            found.append(int(entry.name))
    return found


def descendants(root: int) -> list[int]:
    found, todo = [], [root]
    while todo:
        for pid in child_pids(todo.pop()):
            found.append(pid)
            todo.append(pid)
    return found


def kill_pids(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def processes_with_argv(argv: list[str]) -> list[int]:
    wanted = "\0".join(argv).encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes() == wanted:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@dataclass
class SshdServer:
    """One running sshd and the keys that go with it."""

    directory: Path
    port: int
    host_key: HostKeyPair
    client_key: HostKeyPair
    extra_config: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.directory / "sshd.log"

    def start(self) -> None:
        config = self.directory / "sshd_config"
        config.write_text(self._config())
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        wait_until(self._answers, what=f"sshd on port {self.port}")

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"sshd exited: {self.log_path.read_text()}")
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=1) as probe:
                return probe.recv(4).startswith(b"SSH-")
        except OSError:
            return False

    def _config(self) -> str:
        d = self.directory
        return "\n".join(
            [
                f"ListenAddress {LOOPBACK}",
                f"Port {self.port}",
                f"HostKey {d / 'ssh_host_ed25519_key'}",
                f"PidFile {d / 'sshd.pid'}",
                f"AuthorizedKeysFile {d / 'authorized_keys'}",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "UsePAM no",
                "StrictModes no",
                "MaxSessions 64",
                "Subsystem sftp internal-sftp",
                # bash sources ~/.bashrc for a command run by sshd when SHLVL says it is the
                # first shell; this machine's root .bashrc runs `pyenv init` (0.7 s a command).
                # sshd takes the first SetEnv line only: a test's variables join this one.
                " ".join(["SetEnv SHLVL=1", *self._extra_environment()]),
                "LogLevel VERBOSE",
                *(line for line in self.extra_config if not line.startswith("SetEnv ")),
                "",
            ]
        )

    def _extra_environment(self) -> list[str]:
        return [
            line.removeprefix("SetEnv ") for line in self.extra_config if line.startswith("SetEnv ")
        ]

    def kill_connections(self) -> None:
        """SIGKILL every process sshd forked (connections and their commands), not sshd itself."""
        assert self.process is not None
        kill_pids(descendants(self.process.pid))

    def stop(self) -> None:
        if self.process is None:
            return
        doomed = descendants(self.process.pid)
        self.process.kill()
        self.process.wait(timeout=10)
        kill_pids(doomed)
        self.process = None


def make_server(directory: Path) -> SshdServer:
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    directory.mkdir(parents=True, exist_ok=True)
    host_key = generate_host_key(comment="aksnet-test-host")
    client_key = generate_host_key(comment="aksnet-test-client")
    key_file = directory / "ssh_host_ed25519_key"
    key_file.write_text(host_key.private_openssh)
    key_file.chmod(0o600)
    (directory / "authorized_keys").write_text(client_key.public_line + "\n")
    return SshdServer(directory, free_port(), host_key, client_key)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdServer]:
    server = make_server(tmp_path_factory.mktemp("sshd"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_sshd(tmp_path: Path) -> Iterator[SshdServer]:
    """A server of the test's own, for tests that kill it."""
    server = make_server(tmp_path / "sshd")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def known_hosts(tmp_path: Path) -> KnownHosts:
    return KnownHosts(tmp_path / "known_hosts")


@pytest.fixture
def session_for(known_hosts: KnownHosts) -> Iterator[Callable[..., SSHSession]]:
    """Make sessions to a server with its host key pinned; all are closed at teardown."""
    made: list[SSHSession] = []

    def make(server: SshdServer, **overrides: object) -> SSHSession:
        known_hosts.pin(LOOPBACK, server.port, server.host_key.public_line)
        options: dict[str, object] = {
            "port": server.port,
            "username": "root",
            "private_key": server.client_key.to_paramiko(),
            "known_hosts": known_hosts,
            "retry": FAST_RETRY,
            "connect_timeout": 5.0,
            "command_timeout": 60.0,
        }
        options.update(overrides)
        session = SSHSession(LOOPBACK, **options)  # type: ignore[arg-type]
        made.append(session)
        return session

    yield make
    for session in made:
        session.close()


@pytest.fixture
def session(sshd: SshdServer, session_for: Callable[..., SSHSession]) -> SSHSession:
    return session_for(sshd)


@pytest.fixture
def remote_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory the remote side (the same machine, as root) writes into."""
    directory = tmp_path / "remote files"
    directory.mkdir()
    yield directory
    shutil.rmtree(directory, ignore_errors=True)
