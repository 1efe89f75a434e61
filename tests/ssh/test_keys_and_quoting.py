"""Host key generation, the known_hosts file and shell quoting, checked against real tools."""

from __future__ import annotations

import logging
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aksnet.errors import AuthenticationFailed, HostKeyMismatch, InvalidInput
from aksnet.infra.hostkeys import generate_host_key
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.shellquote import quote_argv, render_command, split_pid_marker


@pytest.mark.parametrize("algorithm", ["ed25519", "rsa"])
def test_fingerprint_matches_ssh_keygen(algorithm: str, tmp_path: Path) -> None:
    pair = generate_host_key(algorithm, comment="node-1")  # type: ignore[arg-type]
    public = tmp_path / "key.pub"
    public.write_text(pair.public_line + "\n")
    listed = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(public)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert listed.stdout.split()[1] == pair.fingerprint
    private = tmp_path / "key"
    private.write_text(pair.private_openssh)
    private.chmod(0o600)
    derived = subprocess.run(
        ["ssh-keygen", "-y", "-f", str(private)], capture_output=True, text=True, check=True
    )
    assert derived.stdout.split()[:2] == pair.public_line.split()[:2]


def test_private_key_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    pair = generate_host_key()
    secret_body = pair.private_openssh.splitlines()[1]
    logging.getLogger("test").debug("key: %s %r", pair, pair)
    assert secret_body not in repr(pair)
    assert secret_body not in str(pair)
    assert secret_body not in caplog.text
    assert pair.fingerprint in repr(pair)


def test_unknown_algorithm_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="algorithm"):
        generate_host_key("dsa")  # type: ignore[arg-type]


def test_pin_fingerprint_unpin(tmp_path: Path) -> None:
    known = KnownHosts(tmp_path / "dir" / "known_hosts")
    first, second = generate_host_key(), generate_host_key()
    assert known.pin("198.18.0.10", 22, first.public_line) == first.fingerprint
    known.pin("198.18.0.11", 2222, second.public_key())
    assert known.fingerprint("198.18.0.10") == first.fingerprint
    assert known.fingerprint("198.18.0.11", 2222) == second.fingerprint
    assert known.fingerprint("198.18.0.11") is None  # another port is another entry
    assert stat.S_IMODE(known.path.stat().st_mode) == 0o600
    lines = known.path.read_text().splitlines()
    assert lines[0].startswith("198.18.0.10 ssh-ed25519 ")
    assert lines[1].startswith("[198.18.0.11]:2222 ssh-ed25519 ")
    assert known.unpin("198.18.0.10") is True
    assert known.unpin("198.18.0.10") is False
    assert known.fingerprint("198.18.0.10") is None
    assert sorted(p.name for p in known.path.parent.iterdir()) == ["known_hosts"]


def test_repin_replaces_the_key(tmp_path: Path) -> None:
    known = KnownHosts(tmp_path / "known_hosts")
    old, new = generate_host_key(), generate_host_key()
    known.pin("198.18.0.10", 22, old.public_line)
    known.pin("198.18.0.10", 22, new.public_line)
    assert known.fingerprint("198.18.0.10") == new.fingerprint
    assert len(known.path.read_text().splitlines()) == 1


def test_ssh_keygen_finds_pinned_hosts(tmp_path: Path) -> None:
    known = KnownHosts(tmp_path / "known_hosts")
    pair = generate_host_key()
    known.pin("198.18.0.12", 2200, pair.public_line)
    found = subprocess.run(
        ["ssh-keygen", "-F", "[198.18.0.12]:2200", "-f", str(known.path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert found.returncode == 0
    assert pair.public_line.split()[1] in found.stdout


def test_verify_rules(tmp_path: Path) -> None:
    known = KnownHosts(tmp_path / "known_hosts")
    pinned, other = generate_host_key(), generate_host_key()
    with pytest.raises(AuthenticationFailed, match="no host key is pinned"):
        known.verify("198.18.0.13", 22, pinned.public_key())
    known.pin("198.18.0.13", 22, pinned.public_line)
    known.verify("198.18.0.13", 22, pinned.public_key())
    with pytest.raises(HostKeyMismatch) as caught:
        known.verify("198.18.0.13", 22, other.public_key())
    assert (caught.value.expected, caught.value.presented) == (
        pinned.fingerprint,
        other.fingerprint,
    )


@pytest.mark.parametrize("host", ["", "a b", "x,y", "*.example", "[h]"])
def test_bad_host_names_are_rejected(tmp_path: Path, host: str) -> None:
    with pytest.raises(InvalidInput, match="host"):
        KnownHosts(tmp_path / "kh").pin(host, 22, generate_host_key().public_line)


@pytest.mark.parametrize("port", [0, 65536, True])
def test_bad_ports_are_rejected(tmp_path: Path, port: int) -> None:
    with pytest.raises(InvalidInput, match="port"):
        KnownHosts(tmp_path / "kh").pin("198.18.0.1", port, generate_host_key().public_line)


def test_bad_public_key_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="public_key"):
        KnownHosts(tmp_path / "kh").pin("198.18.0.1", 22, "ssh-ed25519 not-base64!")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))
                .filter(bool), min_size=1, max_size=5))  # fmt: skip
def test_rendered_line_runs_argv_literally_in_sh(words: list[str]) -> None:
    argv = ["printf", "%s\\0", *words]
    done = subprocess.run(["sh", "-c", render_command(argv)], capture_output=True, check=True)
    assert done.stdout.split(b"\0")[:-1] == [w.encode("utf-8", "surrogateescape") for w in words]
    pid, rest = split_pid_marker(done.stderr)
    assert pid is not None
    assert rest == b""


@pytest.mark.parametrize("argv", [[], "echo", ["echo", 1], ["a\x00b"]])
def test_bad_argv_is_rejected(argv: object) -> None:
    with pytest.raises(InvalidInput, match="argv"):
        quote_argv(argv)  # type: ignore[arg-type]
