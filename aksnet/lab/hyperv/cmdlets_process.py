"""Start-Process on an emulated Windows node: runs the node image's EMULATED programs only.

The lab's Windows node image carries one program, C:\\k\\kubeadm.exe (aksnet.lab.winkubeadm
emulates `join --config FILE`). Start-Process binds against the real 5.1 contract, checks the
file exists and the redirections differ as Windows does, runs the emulation to its end (the lab's
programs finish at once, so the returned process has exited, with or without -Wait), writes
-RedirectStandardOutput / -RedirectStandardError, and with -PassThru returns the process object
whose ExitCode the caller reads.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aksnet.lab.backend import PSError
from aksnet.lab.hyperv.binder import Bound
from aksnet.lab.hyperv.host import LabFailure
from aksnet.lab.hyperv.objects import LabObject

if TYPE_CHECKING:
    from aksnet.lab.hyperv.machine import Context, MachineBase


class ProgramRun:
    """What an emulated program produced: exit code, standard output and error text."""

    def __init__(self, exit_code: int, stdout: str, stderr: str = "") -> None:
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr


# An emulated program: (the machine it runs on, its arguments) -> its run.
Program = Callable[[Any, list[str]], ProgramRun]
_PIDS = itertools.count(4100, 4)  # Windows process ids are multiples of 4


def _cannot_run(ctx: Context, reason: str, target: str) -> PSError:
    """Start-Process's terminating error when the program cannot start."""
    return ctx.fail(
        "InvalidOperationException",
        f"This command cannot be run due to the error: {reason}",
        "InvalidOperation",
        target,
    )


def _contradiction(b: Bound, out: Any, err: Any) -> LabFailure | None:
    """The checks 5.1's Start-Process makes before it starts anything (ProcessResources texts)."""
    if b.has("NoNewWindow") and b.has("WindowStyle"):
        text = 'Parameters "-NoNewWindow" and "-WindowStyle" cannot be specified at the same time.'
    elif out is not None and err is not None and str(out).lower() == str(err).lower():
        text = (
            'This command cannot be run because "RedirectStandardOutput" and '
            '"RedirectStandardError" are same. Give different inputs and Run your command again.'
        )
    else:
        return None
    return LabFailure("InvalidOperationException", text, "InvalidOperation")


def _arguments(value: Any) -> list[str]:
    """Windows joins -ArgumentList with spaces into one command line; the program splits it."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return " ".join(str(item) for item in items).split()


def start_process(ctx: Context, b: Bound) -> list[Any]:
    machine = ctx.machine
    path = machine.fs.normalize(str(b.get("FilePath")))
    if not machine.fs.real(path).is_file():
        raise _cannot_run(ctx, "The system cannot find the file specified.", path)
    out, err = b.get("RedirectStandardOutput"), b.get("RedirectStandardError")
    contradiction = _contradiction(b, out, err)
    if contradiction is not None:
        raise contradiction  # non-terminating, as 5.1 writes it: nothing runs
    program = programs_of(machine).get(path.lower())
    if program is None:
        raise ctx.fail(
            "InvalidOperationException",
            f'This command cannot be run because the input "{path}" is not a valid Application.  '
            "Give a valid application and run your command again. (aksnet lab: this emulated "
            "node runs only the programs of its image: "
            f"{', '.join(sorted(programs_of(machine))) or 'none'})",
            "InvalidOperation",
            path,
        )
    run = program(machine, _arguments(b.get("ArgumentList")))
    for target, text in ((out, run.stdout), (err, run.stderr)):
        if target is not None:
            real = machine.fs.real(str(target))
            real.parent.mkdir(parents=True, exist_ok=True)
            real.write_text(text)
    if not b.has("PassThru"):
        return []
    name = path.rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    return [
        LabObject(
            "Process",
            Id=next(_PIDS),
            ProcessName=name,
            Path=path,
            HasExited=True,
            ExitCode=run.exit_code,
        )
    ]


def programs_of(machine: MachineBase) -> dict[str, Program]:
    """The machine's emulated programs by lower-case Windows path (none unless it has some)."""
    found: dict[str, Program] = getattr(machine, "programs", {})
    return found


def register(m: MachineBase) -> None:
    m.register("Start-Process", start_process)
