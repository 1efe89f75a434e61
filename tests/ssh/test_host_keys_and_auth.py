"""Pinned host keys and key authentication against a real sshd, and interop with OpenSSH tools."""

from __future__ import annotations

import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aksnet.errors import AuthenticationFailed, HostKeyMismatch, InvalidInput
from aksnet.infra.hostkeys import generate_host_key
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.ssh import SSHSession

from .conftest import FAST_RETRY, LOOPBACK, SshdServer


def test_wrong_pinned_key_raises_mismatch_naming_both_fingerprints(
    sshd: SshdServer, tmp_path: Path, make_session: Callable[..., SSHSession]
) -> None:
    known = KnownHosts(tmp_path / "known_hosts")
    impostor = generate_host_key()
    known.pin(LOOPBACK, sshd.port, impostor.public_line)
    session = make_session(known)
    with pytest.raises(HostKeyMismatch) as caught:
        session.run(["true"])
    assert caught.value.expected == impostor.fingerprint
    assert caught.value.presented == sshd.host_key.fingerprint
    assert impostor.fingerprint in str(caught.value)
    assert sshd.host_key.fingerprint in str(caught.value)
    assert session.connect_attempts == 1  # a mismatch is never retried
    assert session.connections_opened == 0


def test_unpinned_host_is_refused(
    sshd: SshdServer, tmp_path: Path, make_session: Callable[..., SSHSession]
) -> None:
    known = KnownHosts(tmp_path / "known_hosts")
    session = make_session(known)
    with pytest.raises(AuthenticationFailed, match="no host key is pinned"):
        session.run(["true"])
    assert known.fingerprint(LOOPBACK, sshd.port) is None  # nothing was trusted silently
    assert session.connect_attempts == 1


def test_trust_on_first_use_only_when_asked(
    sshd: SshdServer, tmp_path: Path, make_session: Callable[..., SSHSession]
) -> None:
    known = KnownHosts(tmp_path / "known_hosts", trust_on_first_use=True)
    session = make_session(known)
    assert session.run(["echo", "ok"]).text == "ok\n"
    assert known.fingerprint(LOOPBACK, sshd.port) == sshd.host_key.fingerprint


def test_wrong_client_key_fails_once_without_retry(
    sshd: SshdServer, tmp_path: Path, make_session: Callable[..., SSHSession]
) -> None:
    known = KnownHosts(tmp_path / "known_hosts")
    known.pin(LOOPBACK, sshd.port, sshd.host_key.public_line)
    stranger = generate_host_key()
    session = make_session(known, private_key=stranger.to_paramiko())
    with pytest.raises(AuthenticationFailed, match="refused public key authentication") as caught:
        session.run(["true"])
    assert not isinstance(caught.value, HostKeyMismatch)
    assert session.connect_attempts == 1
    assert session.connections_opened == 0


def test_private_key_from_a_path(
    sshd: SshdServer, tmp_path: Path, make_session: Callable[..., SSHSession]
) -> None:
    key_file = tmp_path / "id_ed25519"
    key_file.write_text(sshd.client_key.private_openssh)
    key_file.chmod(0o600)
    known = KnownHosts(tmp_path / "known_hosts")
    known.pin(LOOPBACK, sshd.port, sshd.host_key.public_line)
    session = make_session(known, private_key=str(key_file))
    assert session.run(["id", "-u"]).text == "0\n"


def test_unreadable_private_key_path_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="private_key"):
        SSHSession(
            LOOPBACK,
            username="root",
            private_key=tmp_path / "absent",
            known_hosts=KnownHosts(tmp_path / "kh"),
        )


def test_known_hosts_file_works_with_openssh_client(sshd: SshdServer, tmp_path: Path) -> None:
    known = KnownHosts(tmp_path / "known_hosts")
    known.pin(LOOPBACK, sshd.port, sshd.host_key.public_line)
    assert stat.S_IMODE(known.path.stat().st_mode) == 0o600
    key_file = tmp_path / "id_ed25519"
    key_file.write_text(sshd.client_key.private_openssh)
    key_file.chmod(0o600)
    done = _openssh(sshd, known.path, key_file)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "pinned\n"


def test_openssh_client_refuses_a_mismatching_pin(sshd: SshdServer, tmp_path: Path) -> None:
    known = KnownHosts(tmp_path / "known_hosts")
    known.pin(LOOPBACK, sshd.port, generate_host_key().public_line)
    key_file = tmp_path / "id_ed25519"
    key_file.write_text(sshd.client_key.private_openssh)
    key_file.chmod(0o600)
    done = _openssh(sshd, known.path, key_file)
    assert done.returncode == 255
    assert "HOST IDENTIFICATION HAS CHANGED" in done.stderr


def _openssh(
    sshd: SshdServer, known_hosts: Path, key_file: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "ssh",
            "-F", "/dev/null",
            "-o", f"UserKnownHostsFile={known_hosts}",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "BatchMode=yes",
            "-o", "HostKeyAlgorithms=ssh-ed25519",
            "-i", str(key_file),
            "-p", str(sshd.port),
            f"root@{LOOPBACK}",
            "echo pinned",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )  # fmt: skip


@pytest.fixture
def make_session(sshd: SshdServer) -> Iterator[Callable[..., SSHSession]]:
    """Sessions to the shared server with a given KnownHosts; closed at teardown."""
    made: list[SSHSession] = []

    def make(known: KnownHosts, **overrides: object) -> SSHSession:
        options: dict[str, object] = {
            "port": sshd.port,
            "username": "root",
            "private_key": sshd.client_key.to_paramiko(),
            "known_hosts": known,
            "retry": FAST_RETRY,
            "connect_timeout": 5.0,
        }
        options.update(overrides)
        made.append(SSHSession(LOOPBACK, **options))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for session in made:
        session.close()
