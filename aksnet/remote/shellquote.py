"""The one renderer of POSIX shell command lines: an argv list becomes one quoted line.

Every SSH command passes through ``render_command``; callers never join strings themselves
(DESIGN principle 2). Quoting is ``shlex.join``: each element becomes one literal word for any
POSIX ``sh``, so quotes, ``$()``, backticks, ``;``, ``|``, newlines, globs and Unicode arrive as
data. The line starts with ``exec`` so the shell is replaced by the command: a signal sent to the
session (a timeout) then reaches the command itself, not a shell that would leave it orphaned.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from aksnet.errors import InvalidInput


def quote_argv(argv: Sequence[str]) -> str:
    """Quote argv into one POSIX shell line that runs exactly argv (no ``exec`` prefix)."""
    if isinstance(argv, (str, bytes)) or not argv:
        raise InvalidInput("argv", argv, "is not allowed: give a non-empty list of strings.")
    for index, word in enumerate(argv):
        if not isinstance(word, str):
            raise InvalidInput(f"argv[{index}]", word, "is not a string: argv takes strings only.")
        if "\x00" in word:
            raise InvalidInput(
                f"argv[{index}]", word, "contains a NUL byte, which no shell argument can carry."
            )
    return shlex.join(argv)


def render_command(argv: Sequence[str]) -> str:
    """The command line sent to the remote shell for argv."""
    return "exec " + quote_argv(argv)
