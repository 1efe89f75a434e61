"""The benchmarks' lab, in a process of its own.

The lab's WSMan servers are Python threads: in the aksnet process they would share its GIL and
its memory, so the wall time and the peak memory measured would be the lab's as much as
aksnet's. `LabProcess` starts `aksnet.lab.fabric.Lab` in a spawned child and talks to it over a
pipe: the servers' request counters (the Hyper-V hosts' and each Windows VM's), the latency per
WSMan request, the boot delay of VMs started later, and stop. Root only (the lab makes
namespaces and a bridge).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
from dataclasses import asdict, replace
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

from aksnet.lab.fabric import Lab, LabSpec
from aksnet.lab.linux import sweep
from aksnet.lab.wsman import WSManServer, faults

PREFIX = "akb"
SLOTS = range(192, 256)  # 198.18.192.0/18: beside `aksnet lab up` (low slots) and tests (256+)
START_TIMEOUT = 300.0


def _servers(lab: Lab) -> dict[str, dict[str, WSManServer]]:
    # The Windows VMs' listeners are only reachable through the runtime's table of running VMs.
    running = getattr(lab.windows_vms, "_running", {}) if lab.windows_vms else {}
    return {
        "hosts": dict(lab.servers),
        "windows": {name: vm.server for name, vm in dict(running).items()},
    }


def _stats(lab: Lab) -> dict[str, dict[str, dict[str, int]]]:
    return {
        kind: {
            name: {"requests": s.stats.requests, "round_trips": s.stats.round_trips}
            for name, s in servers.items()
        }
        for kind, servers in _servers(lab).items()
    }


def _set_latency(lab: Lab, seconds: float) -> None:
    faults.set_default_latency(seconds)  # Windows VMs that boot later
    for servers in _servers(lab).values():
        for server in servers.values():
            server.faults.set_latency(seconds)


def _serve(lab_dir: str, spec: dict[str, Any], latency: float, conn: Connection) -> None:
    """The child: start the lab, answer commands until 'stop', always take the lab down."""
    faults.set_default_latency(latency)
    lab = Lab(lab_dir, LabSpec(**spec), prefix=PREFIX, slots=SLOTS)
    try:
        lab.start()
        conn.send(("started", None))
        while True:
            command, argument = conn.recv()
            if command == "stats":
                conn.send(("stats", _stats(lab)))
            elif command == "latency":
                _set_latency(lab, float(argument))
                conn.send(("latency", None))
            elif command == "boot_delay":  # for VMs started from now on
                lab.spec = replace(lab.spec, boot_delay=float(argument))
                conn.send(("boot_delay", None))
            elif command == "stop":
                break
    except BaseException as error:
        conn.send(("error", repr(error)))
    finally:
        lab.stop()
        sweep(Path(lab_dir))
        conn.close()


class LabProcess:
    """A lab in a child process: `with LabProcess(dir, LabSpec(...), latency=0.05) as lab: ...`."""

    def __init__(self, lab_dir: Path, spec: LabSpec, *, latency: float = 0.0) -> None:
        spec.check()
        if os.geteuid() != 0:
            raise PermissionError("the benchmarks' lab needs root (namespaces, a bridge)")
        self.lab_dir = lab_dir
        self.spec = spec
        self.latency = latency
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_serve,
            args=(str(lab_dir), asdict(spec), latency, child),
            name="aksnet-bench-lab",
        )

    def __enter__(self) -> LabProcess:
        self._process.start()
        try:
            self._expect("started", START_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def status(self) -> dict[str, Any]:
        """lab.json as the lab wrote it (subnet, gateway, hosts)."""
        status: dict[str, Any] = json.loads((self.lab_dir / "lab.json").read_text())
        return status

    def stats(self) -> dict[str, dict[str, dict[str, int]]]:
        self._conn.send(("stats", None))
        result: dict[str, dict[str, dict[str, int]]] = self._expect("stats", 60)
        return result

    def set_latency(self, seconds: float) -> None:
        self._conn.send(("latency", seconds))
        self._expect("latency", 60)

    def set_boot_delay(self, seconds: float) -> None:
        self._conn.send(("boot_delay", seconds))
        self._expect("boot_delay", 60)

    def stop(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send(("stop", None))
            self._process.join(120)
        if self._process.is_alive():  # it did not stop: end it, then clean up after it
            self._process.kill()
            self._process.join(30)
        sweep(self.lab_dir)

    def _expect(self, answer: str, timeout: float) -> Any:
        if not self._conn.poll(timeout):
            raise TimeoutError(f"the lab process did not answer {answer!r} in {timeout:g} s")
        kind, value = self._conn.recv()
        if kind == "error":
            raise RuntimeError(f"the lab process failed: {value}")
        if kind != answer:
            raise RuntimeError(f"the lab process answered {kind!r}, expected {answer!r}")
        return value
