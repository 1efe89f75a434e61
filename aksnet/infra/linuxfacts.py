"""Facts about a Linux node read over its shell session, and the helpers that run as root.

A file is written by one root shell that reads its content on stdin (so content, such as the
kubeadm configuration holding the join token, never travels in argv), writes a private temporary
file next to the target and renames it over the target. A file's fact is its mode, owner and
sha256, so content is never read back.

Each shell fact is a probe: a fixed script (no value is ever pasted into it) and its arguments,
run as root, and a parser of its exit status and output. `read_together` runs the probes of many
facts of one node in one command (one round trip instead of one each) and splits the output per
fact; a fact's own `read()` is the same with one probe, so a fact reads the same either way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from aksnet.errors import InvalidInput, ProtocolError, RemoteCommandFailed
from aksnet.infra.jointoken import TokenInfo, parse_token_list
from aksnet.infra.linuxconf import NFT_TABLE
from aksnet.remote.base import Completed

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

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
# mode path use [command...] < content: parent directories as mkdir -p makes them (umask 022),
# the content into a private temporary file in the target's directory (umask 077: never
# readable by others, not even for a moment), its mode and owner set, then renamed over the
# target: a reader sees the old file or the new one, never a part. use "check": the command
# must accept the temporary file (its path appended) before the rename; "then": the command
# runs after the rename (what applies the file). The temporary file never outlives a failure.
_INSTALL = (
    'mode=$1 final=$2 use=$3; shift 3; dir=$(dirname -- "$final") || exit; '
    '(umask 022; mkdir -p -- "$dir") || exit; umask 077; '
    'new=$(mktemp "$dir/.${final##*/}.aksnet-XXXXXX") || exit; '
    'cat > "$new" && chmod "$mode" "$new" && chown root:root "$new" '
    '&& { [ "$use" != check ] || "$@" "$new"; } && mv -f -T -- "$new" "$final" '
    '&& { [ "$use" != then ] || { umask 022; exec "$@"; }; } && exit 0; '
    'status=$?; rm -f -- "$new"; exit "$status"'
)


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


def install_file(
    shell: NodeShell,
    data: bytes,
    path: str,
    mode: int,
    *,
    checker: Sequence[str] = (),
    then: Sequence[str] = (),
) -> Completed:
    """Write data to path as root with mode, atomically, in one command (data on its stdin).

    checker: a command that must accept the new file (its path appended) before it replaces
    path, such as ("haproxy", "-c", "-f"); on refusal the old file stays and this raises.
    then: a command run as root once the file is in place, in the same round trip (what applies
    the file, such as ("sysctl", "-p", path)); its failure raises, the file stays written.
    """
    if not path.startswith("/"):
        raise InvalidInput("path", path, "give the absolute path of the file to write.")
    if checker and then:
        raise InvalidInput("then", list(then), "a checked file takes no follow-up command.")
    use, command = ("check", checker) if checker else ("then", then) if then else ("-", ())
    argv = ["sudo", "-n", "sh", "-c", _INSTALL, "sh", f"{mode:o}", path, use, *command]
    return shell.run(argv, stdin=data)


def file_state(data: bytes, mode: int) -> str:
    """What FileState reads for a root-owned file holding data with mode."""
    return f"{mode:o} root:root {hashlib.sha256(data).hexdigest()}"


# Probes: shell facts read one at a time or many in one command


@dataclass(frozen=True)
class Probe:
    """A fact's query: a fixed sh script run as root with args as its "$1"...; never a value
    pasted into the script."""

    script: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Probed:
    """What a probe did: its exit status and output."""

    exit_status: int
    stdout: bytes
    stderr: bytes

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")


class ShellFact(Protocol[T_co]):
    """A fact read by a probe on the node behind `shell` (the facts of this module)."""

    @property
    def shell(self) -> NodeShell: ...

    @property
    def key(self) -> str: ...

    def probe(self) -> Probe: ...

    def parse(self, host: str, probed: Probed) -> T_co | None: ...

    def read(self, host: str) -> T_co | None: ...


# Each probe runs in a subshell function (an exit ends the probe only) with stdout and stderr in
# private files; each then prints "<status> <stdout bytes> <stderr bytes>\n", stdout, stderr.
_BATCH_PRELUDE = (
    'd=$(mktemp -d) || exit 1; trap \'rm -rf -- "$d"\' EXIT; o="$d/o" e="$d/e"\n'
    'emit() { printf "%s %s %s\\n" "$1" $(wc -c < "$o") $(wc -c < "$e"); cat -- "$o" "$e"; }\n'
)
_MAX_ARGS = 9  # "$1".."$9" in each probe (no probe needs more)


def batch_command(probes: Sequence[Probe]) -> list[str]:
    """The argv of one root shell running every probe in turn (see split_batch)."""
    lines: list[str] = [_BATCH_PRELUDE]
    args: list[str] = []
    for number, probe in enumerate(probes):
        if len(probe.args) > _MAX_ARGS:
            raise InvalidInput("probe.args", len(probe.args), f"at most {_MAX_ARGS} per probe.")
        refs = "".join(f' "${index}"' for index in range(1, len(probe.args) + 1))
        shift = f"; shift {len(probe.args)}" if probe.args else ""
        lines.append(f"p{number}() (\n{probe.script}\n)\n")
        lines.append(f'p{number}{refs} > "$o" 2> "$e" < /dev/null; emit $?{shift}\n')
        args.extend(probe.args)
    return ["sudo", "-n", "sh", "-c", "".join(lines), "sh", *args]


def split_batch(host: str, output: bytes, count: int) -> list[Probed]:
    """The output of batch_command, one Probed per probe."""
    results, position = [], 0
    for number in range(count):
        end = output.find(b"\n", position)
        header = output[position:end].split() if end >= 0 else []
        if len(header) != 3 or not all(field.isdigit() for field in header[1:]):
            raise ProtocolError(host, f"unreadable output of fact probe {number} of {count}")
        status, out_size, err_size = int(header[0]), int(header[1]), int(header[2])
        out_end = end + 1 + out_size
        results.append(
            Probed(status, output[end + 1 : out_end], output[out_end : out_end + err_size])
        )
        position = out_end + err_size
    return results


def read_together(host: str, facts: Sequence[ShellFact[Any]]) -> list[Any]:
    """Read facts of one node in one command; their values in order (RunContext.facts uses it)."""
    if not facts:
        return []
    shell = facts[0].shell
    if any(fact.shell is not shell for fact in facts):
        raise InvalidInput("facts", [f.key for f in facts], "facts read together share one node.")
    done = shell.run(batch_command([fact.probe() for fact in facts]))
    probed = split_batch(host, done.stdout, len(facts))
    return [fact.parse(host, result) for fact, result in zip(facts, probed, strict=True)]


def read_one(host: str, fact: ShellFact[T]) -> T | None:
    """One shell fact's read(): a batch of one, so a fact reads the same alone or together."""
    value: T | None = read_together(host, [fact])[0]
    return value


def _checked(host: str, what: str, probed: Probed) -> str:
    """The probe's stdout text; RemoteCommandFailed when it failed."""
    if probed.exit_status != 0:
        raise RemoteCommandFailed(
            host,
            what,
            exit_status=probed.exit_status,
            stdout=probed.text,
            stderr=probed.stderr.decode("utf-8", "replace"),
        )
    return probed.text


# The shell facts


@dataclass(frozen=True)
class FileState:
    """ "<mode> <owner>:<group> <sha256>" of a file; the content itself is never read back."""

    shell: NodeShell
    path: str

    @property
    def key(self) -> str:
        return f"file:{self.path}"

    def probe(self) -> Probe:
        return Probe(_FILE_STATE, (self.path,))

    def parse(self, host: str, probed: Probed) -> str | None:
        return _checked(host, f"state of {self.path}", probed).strip() or None

    def read(self, host: str) -> str | None:
        return read_one(host, self)


@dataclass(frozen=True)
class DirectoryState:
    """ "<mode> <owner>" of a directory; None when absent."""

    shell: NodeShell
    path: str

    @property
    def key(self) -> str:
        return f"directory:{self.path}"

    def probe(self) -> Probe:
        return Probe('exec stat -c "%a %U %F" -- "$1"', (self.path,))

    def parse(self, host: str, probed: Probed) -> str | None:
        fields = probed.text.split(" ", 2)
        if probed.exit_status != 0 or fields[2:] != ["directory\n"]:
            return None
        return " ".join(fields[:2])

    def read(self, host: str) -> str | None:
        return read_one(host, self)


@dataclass(frozen=True)
class TextFile:
    """The text of a file (not for secrets: read as root, but shown and logged); None when
    absent."""

    shell: NodeShell
    path: str

    @property
    def key(self) -> str:
        return f"text:{self.path}"

    def probe(self) -> Probe:
        return Probe('exec cat -- "$1"', (self.path,))

    def parse(self, host: str, probed: Probed) -> str | None:
        return probed.text if probed.exit_status == 0 else None

    def read(self, host: str) -> str | None:
        return read_one(host, self)


@dataclass(frozen=True)
class KernelHostname:
    shell: NodeShell

    key = "hostname"

    def probe(self) -> Probe:
        return Probe("exec hostname")

    def parse(self, host: str, probed: Probed) -> str | None:
        return _checked(host, "hostname", probed).strip() or None

    def read(self, host: str) -> str | None:
        return read_one(host, self)


@dataclass(frozen=True)
class ModuleState:
    """'loaded', 'built-in', 'static-kernel' (no loadable modules at all) or None (absent)."""

    shell: NodeShell
    module: str

    @property
    def key(self) -> str:
        return f"module:{self.module}"

    def probe(self) -> Probe:
        return Probe(_MODULE_STATE, (self.module,))

    def parse(self, host: str, probed: Probed) -> str | None:
        return _checked(host, f"state of kernel module {self.module}", probed).strip() or None

    def read(self, host: str) -> str | None:
        return read_one(host, self)


@dataclass(frozen=True)
class SysctlValue:
    """The live value of a sysctl (whitespace normalised); None when the key does not exist."""

    shell: NodeShell
    name: str

    @property
    def key(self) -> str:
        return f"sysctl:{self.name}"

    def probe(self) -> Probe:
        return Probe('exec sysctl -n "$1"', (self.name,))  # sysctl is in sbin: root's PATH

    def parse(self, host: str, probed: Probed) -> str | None:
        return " ".join(probed.text.split()) if probed.exit_status == 0 else None

    def read(self, host: str) -> str | None:
        return read_one(host, self)


@dataclass(frozen=True)
class NftRuleComments:
    """The comments of the rules in table inet aksnet (aksnet tags each rule); None: no table."""

    shell: NodeShell

    key = "nft:inet aksnet"

    def probe(self) -> Probe:
        return Probe('exec nft -j list table "$1" "$2"', NFT_TABLE)

    def parse(self, host: str, probed: Probed) -> tuple[str, ...] | None:
        if probed.exit_status != 0:
            return None
        items = json.loads(probed.text).get("nftables", [])
        return tuple(i["rule"].get("comment", "") for i in items if "rule" in i)

    def read(self, host: str) -> tuple[str, ...] | None:
        return read_one(host, self)


@dataclass(frozen=True)
class Exists:
    """'yes' when a path exists (read as root); None otherwise."""

    shell: NodeShell
    path: str

    @property
    def key(self) -> str:
        return f"exists:{self.path}"

    def probe(self) -> Probe:
        return Probe('test -e "$1"', (self.path,))

    def parse(self, host: str, probed: Probed) -> str | None:
        return "yes" if probed.exit_status == 0 else None

    def read(self, host: str) -> str | None:
        return read_one(host, self)


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
