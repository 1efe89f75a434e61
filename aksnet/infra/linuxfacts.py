"""Facts about a Linux node read over its shell session, and the helpers that run as root.

Files are written with put() into a private staging directory of the login user and installed
as root with `install`, so their content (the kubeadm configuration holds the join token) never
travels in argv; a file's fact is its mode, owner and sha256, so content is never read back.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aksnet.errors import RemoteCommandFailed
from aksnet.infra.jointoken import TokenInfo, parse_token_list
from aksnet.infra.linuxconf import NFT_TABLE
from aksnet.remote.base import Completed

STAGING_DIR = ".aksnet-staging"  # in the login user's home, mode 0700

# One round trip: "<mode> <owner>:<group> <sha256>" of a file, or nothing when it is absent.
_FILE_STATE = (
    'if [ -e "$1" ]; then printf "%s " "$(stat -c "%a %U:%G" -- "$1")"; '
    'sha256sum -- "$1" | cut -d" " -f1; fi'
)
# A kernel without /proc/modules cannot load modules at all: what it has is built in, so
# modprobe has nothing to do there ("static-kernel" counts as present).
_MODULE_STATE = (
    "[ -e /proc/modules ] || { echo static-kernel; exit 0; }; "
    'if grep -q "^$1 " /proc/modules; then echo loaded; '
    'elif [ -d "/sys/module/$1" ]; then echo built-in; '
    'elif grep -qs "/$1.ko" "/lib/modules/$(uname -r)/modules.builtin"; then echo built-in; fi'
)
_INSTALL = 'install -D -m "$1" -o root -g root -T "$2" "$3"; status=$?; rm -f -- "$2"; exit $status'


class NodeShell(Protocol):
    """What setup needs of a node's connection (aksnet.remote.ssh.SSHSession has it)."""

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> Completed: ...

    def put(self, data: bytes, remote_path: str, *, mode: int = 0o644) -> None: ...


def sudo(shell: NodeShell, *argv: str, check: bool = True) -> Completed:
    return shell.run(["sudo", "-n", *argv], check=check)


def install_file(shell: NodeShell, data: bytes, path: str, mode: int) -> None:
    """Write data to path as root with mode: put() to a private staging file, then install."""
    shell.run(["mkdir", "-p", "-m", "0700", STAGING_DIR])
    staged = f"{STAGING_DIR}/{secrets.token_hex(8)}"
    shell.put(data, staged, mode=0o600)
    sudo(shell, "sh", "-c", _INSTALL, "sh", f"{mode:o}", staged, path)


def file_state(data: bytes, mode: int) -> str:
    """What FileState reads for a root-owned file holding data with mode."""
    return f"{mode:o} root:root {hashlib.sha256(data).hexdigest()}"


@dataclass(frozen=True)
class FileState:
    """ "<mode> <owner>:<group> <sha256>" of a file; the content itself is never read back."""

    shell: NodeShell
    path: str

    @property
    def key(self) -> str:
        return f"file:{self.path}"

    def read(self, host: str) -> str | None:
        return sudo(self.shell, "sh", "-c", _FILE_STATE, "sh", self.path).text.strip() or None


@dataclass(frozen=True)
class DirectoryState:
    """ "<mode> <owner>" of a directory; None when absent."""

    shell: NodeShell
    path: str

    @property
    def key(self) -> str:
        return f"directory:{self.path}"

    def read(self, host: str) -> str | None:
        done = self.shell.run(["stat", "-c", "%a %U %F", "--", self.path], check=False)
        fields = done.text.split(" ", 2)
        if done.exit_status != 0 or fields[2:] != ["directory\n"]:
            return None
        return " ".join(fields[:2])


@dataclass(frozen=True)
class TextFile:
    """The text of a world-readable file (not for secrets); None when absent."""

    shell: NodeShell
    path: str

    @property
    def key(self) -> str:
        return f"text:{self.path}"

    def read(self, host: str) -> str | None:
        done = self.shell.run(["cat", "--", self.path], check=False)
        return done.text if done.exit_status == 0 else None


@dataclass(frozen=True)
class KernelHostname:
    shell: NodeShell

    key = "hostname"

    def read(self, host: str) -> str | None:
        return self.shell.run(["hostname"]).text.strip() or None


@dataclass(frozen=True)
class ModuleState:
    """'loaded', 'built-in', 'static-kernel' (no loadable modules at all) or None (absent)."""

    shell: NodeShell
    module: str

    @property
    def key(self) -> str:
        return f"module:{self.module}"

    def read(self, host: str) -> str | None:
        return self.shell.run(["sh", "-c", _MODULE_STATE, "sh", self.module]).text.strip() or None


@dataclass(frozen=True)
class SysctlValue:
    """The live value of a sysctl (whitespace normalised); None when the key does not exist."""

    shell: NodeShell
    name: str

    @property
    def key(self) -> str:
        return f"sysctl:{self.name}"

    def read(self, host: str) -> str | None:
        done = sudo(self.shell, "sysctl", "-n", self.name, check=False)  # sysctl is in sbin
        return " ".join(done.text.split()) if done.exit_status == 0 else None


@dataclass(frozen=True)
class NftRuleComments:
    """The comments of the rules in table inet aksnet (aksnet tags each rule); None: no table."""

    shell: NodeShell

    key = "nft:inet aksnet"

    def read(self, host: str) -> tuple[str, ...] | None:
        done = sudo(self.shell, "nft", "-j", "list", "table", *NFT_TABLE, check=False)
        if done.exit_status != 0:
            return None
        items = json.loads(done.text).get("nftables", [])
        return tuple(i["rule"].get("comment", "") for i in items if "rule" in i)


@dataclass(frozen=True)
class Exists:
    """'yes' when a path exists (read as root); None otherwise."""

    shell: NodeShell
    path: str

    @property
    def key(self) -> str:
        return f"exists:{self.path}"

    def read(self, host: str) -> str | None:
        return (
            "yes"
            if sudo(self.shell, "test", "-e", self.path, check=False).exit_status == 0
            else None
        )


@dataclass(frozen=True)
class BootstrapTokens:
    """The bootstrap tokens on an initialised control-plane node, without their secret halves
    (`kubeadm token list -o json` prints whole tokens: they are parsed away at once and the
    output is never logged or shown)."""

    shell: NodeShell

    key = "kubeadm:tokens"

    def read(self, host: str) -> tuple[TokenInfo, ...] | None:
        done = sudo(self.shell, "kubeadm", "token", "list", "-o", "json", check=False)
        if done.exit_status != 0:
            raise RemoteCommandFailed(
                host,
                "kubeadm token list -o json",
                exit_status=done.exit_status,
                stdout="<not shown: it may hold tokens>",
                stderr=done.stderr.decode("utf-8", "replace"),
            )
        return parse_token_list(done.text)
