"""The lab's EMULATED `systemctl`, for the haproxy and keepalived units only, in a lab Linux node.

A lab node is a network namespace without systemd. install() puts a `systemctl` wrapper into the
node's private /opt/aksnet-lab/bin, first on sudo's secure_path (the same sudoers entry that
aksnet.lab.linux.k8sstub writes), so `sudo systemctl reload haproxy` on the node runs this
module. It starts the REAL daemons in the node's namespaces the way Debian's units do:

- haproxy: `haproxy -W -D -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid -S
  /run/haproxy-master.sock` (master-worker); reload checks the file (`haproxy -c`, as the unit's
  first ExecReload) and sends SIGUSR2 to the master: HAProxy's own seamless reload.
- keepalived: `keepalived -f /etc/keepalived/keepalived.conf -p /run/keepalived.pid` after
  `keepalived -t`; reload is SIGHUP to the parent, as the unit's ExecReload.

Verbs: start, stop, reload, is-active. Anything else, or another unit, is refused and says so.
Every call is recorded in /var/lib/aksnet-lab/svc-calls.jsonl. Lab only: product code never
imports this module.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aksnet.lab.linux.k8sstub import BIN_DIR, NODE_MARKER, PROFILE, SECURE_PATH, SUDOERS

CALLS = Path("/var/lib/aksnet-lab/svc-calls.jsonl")
LOG_DIR = Path("/var/log/aksnet-lab")
DEADLINE = 15.0
POLL = 0.05  # seconds between looks at a pidfile while a daemon starts or stops


@dataclass(frozen=True)
class Unit:
    name: str
    program: str
    config: str
    pidfile: str
    check: tuple[str, ...]  # argv that checks the configuration file
    start: tuple[str, ...]  # argv that starts the daemon, which forks and writes pidfile
    reload_signal: signal.Signals
    runtime_dirs: tuple[str, ...] = ()
    forks: bool = True  # False: the program stays in the foreground (left running here)


HAPROXY_CONFIG = "/etc/haproxy/haproxy.cfg"
KEEPALIVED_CONFIG = "/etc/keepalived/keepalived.conf"
UNITS = {
    "haproxy": Unit(
        "haproxy",
        "haproxy",
        HAPROXY_CONFIG,
        "/run/haproxy.pid",
        ("haproxy", "-c", "-q", "-f", HAPROXY_CONFIG),
        (
            *("haproxy", "-W", "-D", "-f", HAPROXY_CONFIG, "-p", "/run/haproxy.pid"),
            *("-S", "/run/haproxy-master.sock"),
        ),
        signal.SIGUSR2,
        runtime_dirs=("/run/haproxy",),
    ),
    "keepalived": Unit(
        "keepalived",
        "keepalived",
        KEEPALIVED_CONFIG,
        "/run/keepalived.pid",
        ("keepalived", "-t", "-f", KEEPALIVED_CONFIG),
        (
            *("keepalived", "-f", KEEPALIVED_CONFIG, "-p", "/run/keepalived.pid", "--vrrp"),
            *("--dont-fork", "--log-console", "--log-detail"),
        ),
        signal.SIGHUP,
        forks=False,
    ),
}


class Failed(Exception):
    """The emulated systemctl fails, as the real one would (exit status 1)."""


# Installation (run on the machine as root; enters the node's mount namespace)


def install(lab_dir: Path | str, node: str) -> None:
    """Install the emulated systemctl into the running lab node `node` of the lab in lab_dir."""
    from aksnet.lab.linux import state

    record = state.read(Path(lab_dir).resolve())["nodes"].get(node)
    if record is None or record.get("pid") is None:
        raise ValueError(f"lab node {node!r} is not running in {lab_dir}")
    argv = ["nsenter", "--target", str(record["pid"]), "--mount", "--"]
    argv += [sys.executable, "-m", "aksnet.lab.linux.svcstub", "install-here"]
    env = dict(os.environ, PYTHONPATH=str(_package_root()))
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"installing the emulated systemctl into {node!r} failed: {done.stderr}")


def _package_root() -> Path:
    return Path(__file__).resolve().parents[3]


def install_here() -> None:
    """Inside a node's mount namespace: the wrapper, and the sudoers and profile PATH entries."""
    _require_lab_node()
    BIN_DIR.mkdir(parents=True, exist_ok=True)
    wrapper = BIN_DIR / "systemctl"
    wrapper.write_text(
        "#!/bin/sh\n"
        "# aksnet lab: EMULATED systemctl (haproxy, keepalived); this node has no systemd.\n"
        f"PYTHONPATH={shlex.quote(str(_package_root()))} exec {shlex.quote(sys.executable)} "
        '-m aksnet.lab.linux.svcstub "$@"\n'
    )
    wrapper.chmod(0o755)
    # The same entry k8sstub writes: whichever installs first, the content is identical.
    SUDOERS.write_text(
        f'# aksnet lab: emulated tools first\nDefaults secure_path="{BIN_DIR}:{SECURE_PATH}"\n'
    )
    SUDOERS.chmod(0o440)
    subprocess.run(["visudo", "-c", "-q", "-f", str(SUDOERS)], check=True)
    PROFILE.write_text(f'PATH="{BIN_DIR}:$PATH"\nexport PATH\n')
    CALLS.parent.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)


def _require_lab_node() -> None:
    # Never start daemons or write files on the machine itself: only a lab node has the marker.
    if not NODE_MARKER.exists():
        raise SystemExit(f"aksnet lab: {NODE_MARKER} is missing: this is not a lab node")


# The verbs


def running_pid(unit: Unit) -> int | None:
    """The PID in the unit's pidfile when that process runs the unit's program, else None."""
    try:
        pid = int(Path(unit.pidfile).read_text().split()[0])
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError, IndexError):
        return None
    return pid if comm == unit.program and status != "Z" else None


def start(unit: Unit) -> str:
    if running_pid(unit) is not None:
        return "already active"
    _check(unit)
    for directory in unit.runtime_dirs:
        Path(directory).mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_file = LOG_DIR / f"{unit.name}.out"
    with log_file.open("ab") as out:
        daemon = subprocess.Popen(
            unit.start, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
    if unit.forks and daemon.wait(timeout=DEADLINE) != 0:
        raise Failed(f"{' '.join(unit.start)} exited {daemon.returncode}: {_tail(log_file)}")
    # A foreground daemon that exits early (a bad interface, say) fails the start at once.
    if not _wait(lambda: running_pid(unit) is not None or daemon.poll() not in (None, 0)):
        raise Failed(f"{unit.name} wrote no live PID to {unit.pidfile}: {_tail(log_file)}")
    if running_pid(unit) is None:
        raise Failed(f"{' '.join(unit.start)} exited {daemon.returncode}: {_tail(log_file)}")
    return f"started (PID {running_pid(unit)})"


def reload(unit: Unit) -> str:
    pid = running_pid(unit)
    if pid is None:
        raise Failed(f"{unit.name}.service is not active, cannot reload.")
    _check(unit)
    os.kill(pid, unit.reload_signal)
    return f"sent {unit.reload_signal.name} to PID {pid}"


def stop(unit: Unit) -> str:
    pid = running_pid(unit)
    if pid is None:
        return "already inactive"
    os.kill(pid, signal.SIGTERM)
    if not _wait(lambda: running_pid(unit) is None):
        os.kill(pid, signal.SIGKILL)
    Path(unit.pidfile).unlink(missing_ok=True)
    return f"stopped PID {pid}"


def _check(unit: Unit) -> None:
    done = subprocess.run(unit.check, capture_output=True, text=True)
    if done.returncode != 0:
        raise Failed(f"{' '.join(unit.check)} failed: {(done.stderr or done.stdout).strip()}")


def _wait(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(POLL)
    return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def _record(args: Sequence[str], outcome: str, detail: str) -> None:
    CALLS.parent.mkdir(parents=True, exist_ok=True)
    with CALLS.open("a") as out:
        out.write(json.dumps({"args": list(args), "outcome": outcome, "detail": detail}) + "\n")


def main(argv: Sequence[str]) -> int:
    if list(argv[:1]) == ["install-here"]:
        install_here()
        return 0
    _require_lab_node()
    words = [a for a in argv if a not in ("-q", "--quiet", "--no-pager")]
    quiet = len(words) != len(argv)
    verbs = {"start": start, "stop": stop, "reload": reload}
    unit = UNITS.get(words[1].removesuffix(".service")) if len(words) == 2 else None
    if unit is None or (words[0] not in verbs and words[0] != "is-active"):
        message = f"unsupported {list(argv)}: give start|stop|reload|is-active haproxy|keepalived"
        _record(argv, "refused", message)
        print(f"EMULATED systemctl (aksnet lab): {message}", file=sys.stderr)
        return 1
    if words[0] == "is-active":
        active = running_pid(unit) is not None
        if not quiet:
            print("active" if active else "inactive")
        return 0 if active else 3
    try:
        detail = verbs[words[0]](unit)
    except Failed as error:
        _record(argv, "failed", str(error))
        print(f"EMULATED systemctl (aksnet lab): {words[0]} {unit.name}: {error}", file=sys.stderr)
        return 1
    _record(argv, "done", detail)
    print(f"EMULATED systemctl (aksnet lab): {words[0]} {unit.name}: {detail}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
