"""The systemd timer and service that run Repair-AksHciClusterNetwork on a Linux management
machine (`aksnet remediation install-timer`), the counterpart of the Windows scheduled task.

Two units per schedule: `aksnet-remediation[-<cluster>].service` (Type=oneshot, runs `aksnet
remediation repair` with the deadline; its output goes to the journal and, with a log file, is
appended there too) and the `.timer` that starts it every interval (OnUnitActiveSec, with
Persistent=true so a missed run happens after boot). Overlapping runs cannot act twice: the
repair takes the cluster's remediation lease; a run that crashed leaves a lease that expires.
No secret is written into a unit: the store and keys are read by the run itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from aksnet.errors import InvalidInput

DEFAULT_UNIT_DIR = Path("/etc/systemd/system")
UNIT_STEM = "aksnet-remediation"
CLUSTER_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# systemd splits ExecStart= on spaces and expands % and $: arguments are restricted to these.
SAFE_ARGUMENT = re.compile(r"[A-Za-z0-9_./:=@+,-]+")


@dataclass(frozen=True)
class TimerUnits:
    service: Path
    timer: Path


def unit_stem(name: str | None) -> str:
    if name is None:
        return UNIT_STEM
    if not CLUSTER_NAME.fullmatch(name):
        raise InvalidInput("name", name, "it must be a cluster name (a-z, 0-9 and '-').")
    return f"{UNIT_STEM}-{name}"


def render_units(
    name: str | None,
    *,
    interval: float,
    deadline: float,
    command: list[str],
    store: str | None = None,
    log_file: str | None = None,
) -> tuple[str, str]:
    """The (service, timer) unit texts."""
    unit_stem(name)  # refuses a name that is not a cluster name
    if not interval >= 60:
        raise InvalidInput("interval", interval, "it must be at least 60 seconds.")
    if not 0 < deadline < interval:
        raise InvalidInput(
            "deadline", deadline, f"it must be positive and shorter than the interval {interval:g}"
        )
    argv = [*command, "remediation", "repair", "--deadline", f"{deadline:g}", "--no-progress"]
    argv += ["--name", name] if name else []
    argv += ["--store", store] if store else []
    for argument in argv:
        if not SAFE_ARGUMENT.fullmatch(argument):
            raise InvalidInput("command", argument, "unit arguments may hold A-Z a-z 0-9 _./:=@+,-")
    target = f"cluster {name}" if name else "every cluster"
    output = f"append:{log_file}" if log_file else "journal"
    if log_file and not SAFE_ARGUMENT.fullmatch(log_file):
        raise InvalidInput("logFile", log_file, "a path of A-Z a-z 0-9 _./:=@+,- only")
    service = (
        "[Unit]\n"
        f"Description=aksnet: repair the network of {target} (Repair-AksHciClusterNetwork)\n"
        "After=network-online.target\n"
        "Wants=network-online.target\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={' '.join(argv)}\n"
        f"StandardOutput={output}\n"
        f"StandardError={output}\n"
        f"TimeoutStartSec={int(deadline) + 60}\n"
    )
    timer = (
        "[Unit]\n"
        f"Description=aksnet: repair the network of {target} every {interval:g} s\n\n"
        "[Timer]\n"
        f"OnBootSec={int(interval)}s\n"
        f"OnUnitActiveSec={int(interval)}s\n"
        "Persistent=true\n\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return service, timer


def install_timer(
    name: str | None = None,
    *,
    directory: Path | str = DEFAULT_UNIT_DIR,
    interval: float = 900.0,
    deadline: float = 600.0,
    store: str | None = None,
    log_file: str | None = None,
    command: list[str] | None = None,
) -> TimerUnits:
    """Write the two units into directory (enable the timer with systemctl afterwards)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise InvalidInput("directory", str(folder), "it must be an existing directory.")
    argv = command or default_command()
    service, timer = render_units(
        name, interval=interval, deadline=deadline, command=argv, store=store, log_file=log_file
    )
    stem = unit_stem(name)
    units = TimerUnits(folder / f"{stem}.service", folder / f"{stem}.timer")
    units.service.write_text(service)
    units.timer.write_text(timer)
    return units


def remove_timer(name: str | None = None, *, directory: Path | str = DEFAULT_UNIT_DIR) -> int:
    """Delete the two units; the number of files removed (0: there were none)."""
    stem, removed = unit_stem(name), 0
    for suffix in (".service", ".timer"):
        path = Path(directory) / f"{stem}{suffix}"
        if path.exists():
            path.unlink()
            removed += 1
    return removed


def default_command() -> list[str]:
    """The installed `aksnet` beside this interpreter, else `python -m aksnet.cli`."""
    beside = Path(sys.executable).parent / "aksnet"
    if beside.exists():
        return [str(beside)]
    return [sys.executable, "-m", "aksnet.cli"]


def verify_units(units: TimerUnits) -> str | None:
    """`systemd-analyze verify` of the units; its complaint, or None when clean or unavailable."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        return None
    done = subprocess.run(
        [tool, "verify", str(units.service), str(units.timer)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return None if done.returncode == 0 else (done.stderr or done.stdout).strip()
