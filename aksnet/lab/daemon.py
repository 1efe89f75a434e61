"""`aksnet lab up|status|down`: the lab runs as a background process that owns its directory.

up starts `python -m aksnet.lab.daemon <lab_dir>` in its own session and waits until the lab
reports itself running. down stops that process (SIGTERM, then SIGKILL) and sweeps whatever the
Linux runtime recorded, so a lab that crashed is removed as well. All state is in the lab dir.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from aksnet.errors import AksNetError, InvalidInput
from aksnet.state.paths import aksnet_home

STATUS_FILE = "lab.json"
LOG_FILE = "lab.log"
START_DEADLINE = 60.0
STOP_DEADLINE = 30.0
# The Linux nodes overlay these directories; a lab dir inside them would be hidden from them.
_FORBIDDEN = ("/etc", "/var", "/opt", "/root", "/home", "/run")


class LabNotRunning(AksNetError):
    error_id = "LabNotRunning"
    exit_code = 3


def default_lab_dir() -> Path:
    return Path(os.environ.get("AKSNET_LAB_DIR") or aksnet_home() / "lab")


def check_lab_dir(lab_dir: Path) -> Path:
    resolved = lab_dir.resolve()
    for top in _FORBIDDEN:
        if resolved == Path(top) or resolved.is_relative_to(top):
            raise InvalidInput(
                "labDir",
                str(resolved),
                f"the lab's Linux nodes overlay {', '.join(_FORBIDDEN)}; choose a directory "
                "outside them (set AKSNET_LAB_DIR or AKSNET_HOME, e.g. /srv/aksnet).",
            )
    return resolved


def read_status(lab_dir: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((lab_dir / STATUS_FILE).read_text())
        return data
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _alive(pid: int) -> bool:
    """Whether pid runs; a zombie (dead, not yet reaped) does not count."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaps it when this process started it
    try:
        os.kill(pid, 0)
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (ProcessLookupError, FileNotFoundError):
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def running_pid(lab_dir: Path) -> int | None:
    status = read_status(lab_dir)
    if status and status.get("state") == "running" and _alive(int(status["pid"])):
        return int(status["pid"])
    return None


def up(lab_dir: Path, *, hosts: int = 2, failover_cluster: bool = True) -> dict[str, Any]:
    lab_dir = check_lab_dir(lab_dir)
    if running_pid(lab_dir) is not None:
        return status(lab_dir)
    lab_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        (lab_dir / STATUS_FILE).unlink()
    argv = [sys.executable, "-m", "aksnet.lab.daemon", str(lab_dir), str(hosts)]
    argv.append("cluster" if failover_cluster else "standalone")
    with open(lab_dir / LOG_FILE, "ab") as log:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        current = read_status(lab_dir)
        if current and current.get("state") == "running":
            return status(lab_dir)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    process.wait()
    down(lab_dir)
    tail = (lab_dir / LOG_FILE).read_text(errors="replace").splitlines()[-15:]
    raise AksNetError("the lab did not start:\n" + "\n".join(tail))


def status(lab_dir: Path) -> dict[str, Any]:
    """The lab's status file, checked against reality: is the process alive, do ports answer."""
    lab_dir = check_lab_dir(lab_dir)
    current = read_status(lab_dir)
    if current is None or running_pid(lab_dir) is None:
        raise LabNotRunning(f"no lab is running in {lab_dir} (start one with `aksnet lab up`)")
    for endpoint in current["hosts"].values():
        with socket.socket() as probe:
            probe.settimeout(2)
            endpoint["answering"] = probe.connect_ex((endpoint["address"], endpoint["port"])) == 0
    return current


def down(lab_dir: Path) -> dict[str, Any]:
    """Stop the lab process if there is one, then remove everything it may have left."""
    from aksnet.lab.linux import sweep

    lab_dir = check_lab_dir(lab_dir)
    pid = running_pid(lab_dir)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_DEADLINE
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    removed = sweep(lab_dir) if lab_dir.is_dir() else []
    with contextlib.suppress(FileNotFoundError):
        (lab_dir / STATUS_FILE).unlink()
    return {"lab_dir": str(lab_dir), "stopped_pid": pid, "swept": removed}


def serve(lab_dir: Path, hosts: int, failover_cluster: bool) -> None:
    """The daemon body: run the lab until SIGTERM or SIGINT."""
    from aksnet.lab.fabric import BANNER, Lab, LabSpec

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    lab = Lab(lab_dir, LabSpec(hosts=hosts, failover_cluster=failover_cluster))
    with lab:
        print(BANNER, flush=True)
        while not stop.wait(1.0):
            lab.write_status("running")  # keeps linux_nodes current for `status`
    print("aksnet lab stopped", flush=True)


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "cluster")
