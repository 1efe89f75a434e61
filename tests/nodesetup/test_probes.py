"""Shell facts read together and files written in one command, run by this machine's own sh in
a temporary directory (root: the scripts set root as owner; no lab needed)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aksnet.errors import ProtocolError, RemoteCommandFailed
from aksnet.infra.linuxfacts import (
    DirectoryState,
    Exists,
    FileState,
    Probe,
    Probed,
    TextFile,
    file_state,
    install_file,
    read_together,
    split_batch,
)
from aksnet.remote.base import Completed

HOSTILE = ["it's", "$(touch pwned)", "`id`", "a;b", "new\nline", "sp ace", "ü -- -x"]


class LocalShell:
    """Runs `sudo -n argv` as argv on this machine (the tests run as root), keeping each argv."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []
        self.stdins: list[bytes | None] = []

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> Completed:
        self.sent.append(list(argv))
        self.stdins.append(stdin)
        assert list(argv[:2]) == ["sudo", "-n"], argv
        done = subprocess.run(list(argv[2:]), input=stdin, capture_output=True, timeout=30)
        if check and done.returncode != 0:
            raise RemoteCommandFailed("local", argv[2], exit_status=done.returncode)
        return Completed(tuple(argv), done.returncode, done.stdout, done.stderr)

    def put(self, data: bytes, remote_path: str, *, mode: int = 0o644) -> None:
        raise AssertionError("files are written in one command, never by SFTP")


@pytest.fixture
def shell() -> LocalShell:
    if os.geteuid() != 0:
        pytest.skip("the scripts set root as the owner: run as root")
    return LocalShell()


def test_facts_read_together_are_one_command_and_read_as_alone(
    shell: LocalShell, tmp_path: Path
) -> None:
    facts: list[Any] = []
    for number, name in enumerate(HOSTILE):
        path = tmp_path / name
        path.write_bytes(f"{number}\n\n".encode() if number % 2 else b"no newline")
        facts += [TextFile(shell, str(path)), FileState(shell, str(path))]
    facts += [
        TextFile(shell, str(tmp_path / "absent")),
        FileState(shell, str(tmp_path / "absent")),
        DirectoryState(shell, str(tmp_path)),
        DirectoryState(shell, str(tmp_path / HOSTILE[0])),  # a file, not a directory
        Exists(shell, str(tmp_path / HOSTILE[1])),
        Exists(shell, str(tmp_path / "absent")),
    ]
    together = read_together("local", facts)
    assert len(shell.sent) == 1
    alone = [fact.read("local") for fact in facts]
    assert together == alone
    assert together[0] == "no newline" and together[2] == "1\n\n"
    mode = oct(tmp_path.stat().st_mode & 0o777)[2:]
    assert together[-6:] == [None, None, f"{mode} root", None, "yes", None]
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()
    assert all(a not in shell.sent[0][4] for a in HOSTILE)  # values are arguments, never script


@dataclass(frozen=True)
class Raw:
    """A fact whose value is what its probe did."""

    shell: LocalShell
    script: str
    args: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"raw:{self.script}"

    def probe(self) -> Probe:
        return Probe(self.script, self.args)

    def parse(self, host: str, probed: Probed) -> Probed:
        return probed

    def read(self, host: str) -> Probed | None:
        value: Probed | None = read_together(host, [self])[0]
        return value


def test_each_probe_has_its_own_status_output_and_arguments(shell: LocalShell) -> None:
    facts = [
        Raw(shell, 'printf "%s|%s" "$1" "$2"; echo oops >&2; exit 3', ("x y", HOSTILE[4])),
        Raw(shell, "exit 0"),
        Raw(shell, 'printf "%s" "$1"; cat', (HOSTILE[1],)),  # stdin is empty, not the batch's
    ]
    assert read_together("local", facts) == [
        Probed(3, f"x y|{HOSTILE[4]}".encode(), b"oops\n"),
        Probed(0, b"", b""),
        Probed(0, HOSTILE[1].encode(), b""),
    ]


def test_the_batch_output_is_split_by_its_sizes_and_garbage_is_refused() -> None:
    output = b"0 3 0\nab\n1 0 4\nerr\n"
    assert split_batch("h", output, 2) == [Probed(0, b"ab\n", b""), Probed(1, b"", b"err\n")]
    with pytest.raises(ProtocolError, match="fact probe 1 of 2"):
        split_batch("h", b"0 0 0\n", 2)
    with pytest.raises(ProtocolError, match="fact probe 0 of 1"):
        split_batch("h", b"sudo: a password is required\n", 1)


def test_a_file_is_written_in_one_command_content_on_stdin(
    shell: LocalShell, tmp_path: Path
) -> None:
    target = tmp_path / "new dir" / HOSTILE[1] / "f.conf"
    secret = b"token: abcdef.0123456789abcdef\n"
    install_file(shell, secret, str(target), 0o600)
    assert len(shell.sent) == 1 and shell.stdins == [secret]
    assert not [a for a in shell.sent[0] if "abcdef" in a]
    assert target.read_bytes() == secret
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert oct(target.parent.stat().st_mode & 0o777) == "0o755"  # parents as mkdir -p makes them
    assert FileState(shell, str(target)).read("local") == file_state(secret, 0o600)
    assert os.listdir(target.parent) == ["f.conf"]


def test_a_refused_file_keeps_the_old_one_and_leaves_no_temporary(
    shell: LocalShell, tmp_path: Path
) -> None:
    target = tmp_path / "haproxy.cfg"
    install_file(shell, b"good\n", str(target), 0o644, checker=("grep", "-q", "good"))
    with pytest.raises(RemoteCommandFailed):
        install_file(shell, b"bad\n", str(target), 0o644, checker=("grep", "-q", "good"))
    assert target.read_bytes() == b"good\n"
    assert os.listdir(tmp_path) == ["haproxy.cfg"]


def test_the_follow_up_runs_after_the_file_is_in_place(shell: LocalShell, tmp_path: Path) -> None:
    target, copy = tmp_path / "sysctl.conf", tmp_path / "applied"
    install_file(shell, b"a = 1\n", str(target), 0o644, then=("cp", str(target), str(copy)))
    assert len(shell.sent) == 1 and copy.read_bytes() == b"a = 1\n"
    with pytest.raises(RemoteCommandFailed):
        install_file(shell, b"a = 2\n", str(target), 0o644, then=("false",))
    assert target.read_bytes() == b"a = 2\n"  # written; applying it failed (the next run retries)
