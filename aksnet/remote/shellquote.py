"""The one renderer of POSIX shell command lines: an argv list becomes one quoted line.

Every SSH command passes through ``render_command``; callers never join strings themselves
(DESIGN principle 2). Quoting is ``shlex.join``: each element becomes one literal word for any
POSIX ``sh``, so quotes, ``$()``, backticks, ``;``, ``|``, newlines, globs and Unicode arrive as
data.

The line first reports the shell's PID on stderr (one marker line the transport strips), then
``exec``s the command, so the command keeps that PID. sshd starts each command in a new session,
so the PID is also the process group to kill when a command times out.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from aksnet.errors import InvalidInput


def quote_argv(argv: Sequence[str]) -> str:
    """Quote argv into one POSIX shell line that runs exactly argv (no ``exec`` prefix)."""
    if isinstance(argv, (str, bytes)) or not argv:
        raise InvalidInput("argv", argv, "give a non-empty list of strings.")
    for index, word in enumerate(argv):
        if not isinstance(word, str):
            raise InvalidInput(f"argv[{index}]", word, "argv takes strings only.")
        if "\x00" in word:
            raise InvalidInput(f"argv[{index}]", word, "no shell argument can carry a NUL byte.")
    return shlex.join(argv)


PID_MARKER = b"aksnet-pid:"


def render_command(argv: Sequence[str]) -> str:
    """The command line sent to the remote shell for argv (reports its PID, then execs argv)."""
    return f"printf 'aksnet-pid:%s\\n' \"$$\" >&2; exec {quote_argv(argv)}"


def kill_group_argv(pid: int) -> list[str]:
    """argv that SIGKILLs the process group pid (a command started by render_command)."""
    return ["sh", "-c", 'kill -s KILL -- "-$1"', "aksnet-kill", str(pid)]


def split_pid_marker(stderr: bytes) -> tuple[int | None, bytes]:
    """The PID reported by render_command's marker line, and stderr without that line."""
    if not stderr.startswith(PID_MARKER):
        return None, stderr
    line, _, rest = stderr.partition(b"\n")
    digits = line[len(PID_MARKER) :]
    return (int(digits) if digits.isdigit() else None), rest
