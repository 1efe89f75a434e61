"""Benchmark (issue 8 item 1): cluster create on the lab with injected latency, against the
critical path computed from the same latencies and the counts measured in the run.

Shape: 3 emulated Hyper-V hosts; 3 control-plane nodes, 10 Linux workers, 4 Windows workers
(--quick: 1, 2, 1), and the HAProxy load-balancer VM that create provisions and configures.
Latency: PSRP_LATENCY per WSMan request on every lab server (the hosts and each Windows VM's
listener: aksnet.lab.wsman.faults), SSH_LATENCY per SSH round trip (a delaying relay in this
process: benchmarks.sshdelay), BOOT_DELAY per VM boot (LabSpec.boot_delay). The lab runs in its
own process (benchmarks.labproc). The same create runs with per-host concurrency 2 (the
default) and 1; the cluster is removed between them, without latency and untimed.

Measured: wall time; the critical path (benchmarks.critical) and wall / critical path (target at
most 1.2); PSRP round trips (pipelines) per VM on the hosts (target at most 3); SSH connections
per Linux node (target 1); and the machine's busy CPU seconds over each create with busy / cores
(labrig.MachineCpu: the shortest wall time the run's own work allows on this machine). Root only.
Run: `.venv/bin/python -m benchmarks.bench_create [--quick]`; writes benchmarks/results/create.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aksnet import api
from aksnet.cluster.create import CreateOptions
from aksnet.lab.fabric import LabSpec
from aksnet.plan import ProgressEvent
from aksnet.plan.progress import ActionFinished, ActionStarted, PhaseFinished, PhaseStarted
from aksnet.state.store import Store
from benchmarks import labrig, results_dir
from benchmarks.critical import Latencies, Segment, critical_path
from benchmarks.labproc import LabProcess
from benchmarks.sshdelay import SshLatency

PSRP_LATENCY = 0.05
SSH_LATENCY = 0.05
BOOT_DELAY = 2.0
LATENCIES = Latencies(PSRP_LATENCY, SSH_LATENCY, BOOT_DELAY)
NO_LATENCY = Latencies(0.0, 0.0, 0.0)  # the baseline: what the machine alone costs
GLOBAL_LIMIT = 8  # the runner's default limit of parallel work
TARGETS = {"wall_over_critical_path": 1.2, "psrp_round_trips_per_vm": 3, "ssh_per_linux_node": 1}


@dataclass(frozen=True)
class Shape:
    hosts: int
    control_planes: int
    linux_workers: int
    windows_workers: int

    @property
    def vms(self) -> int:
        return self.control_planes + self.linux_workers + self.windows_workers


FULL = Shape(hosts=3, control_planes=3, linux_workers=10, windows_workers=4)
QUICK = Shape(hosts=3, control_planes=1, linux_workers=2, windows_workers=1)


class SegmentRecorder:
    """A progress listener cutting the run into segments (benchmarks.critical) and counting,
    at each cut, the lab's requests and the relay's SSH round trips."""

    def __init__(self, lab: LabProcess, ssh: SshLatency, first: str) -> None:
        self.lab, self.ssh, self.first = lab, ssh, first
        self.segments: list[Segment] = []
        self._lock = threading.Lock()
        self._open: tuple[str, float, Any, Any] | None = None

    def on_event(self, event: ProgressEvent) -> None:
        with self._lock:
            if isinstance(event, PhaseStarted):
                self._cut(event.title)
            elif isinstance(event, PhaseFinished):
                self._cut(None)
            elif self._is_init(event) and isinstance(event, ActionStarted):
                self._cut("kubeadm init")
            elif self._is_init(event) and isinstance(event, ActionFinished):
                self._cut("Set up Linux nodes (joins)")

    def _is_init(self, event: ProgressEvent) -> bool:
        if not isinstance(event, ActionStarted | ActionFinished):
            return False
        return event.host == self.first and event.title.startswith("kubeadm init")

    def _cut(self, next_title: str | None) -> None:
        now, stats, ssh = time.perf_counter(), self.lab.stats(), self.ssh.snapshot()
        if self._open is not None:
            title, began, before, ssh_before = self._open
            self.segments.append(
                Segment(
                    title,
                    host_requests=labrig.delta(before["hosts"], stats["hosts"], "requests"),
                    node_requests=labrig.delta(before["windows"], stats["windows"], "requests"),
                    ssh_round_trips=_ssh_delta(ssh_before, ssh),
                    wall_s=now - began,
                )
            )
        self._open = None if next_title is None else (next_title, now, stats, ssh)


def _ssh_delta(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]
) -> dict[str, int]:
    turns = after["round_trips"]
    return {
        a: n - before["round_trips"].get(a, 0)
        for a, n in turns.items()
        if n != before["round_trips"].get(a, 0)
    }


def set_latencies(lab: LabProcess, ssh: SshLatency, latencies: Latencies) -> None:
    lab.set_latency(latencies.psrp)
    lab.set_boot_delay(latencies.boot)
    ssh.round_trip = latencies.ssh


def create_once(
    lab: LabProcess,
    store: Store,
    shape: Shape,
    name: str,
    per_host: int,
    ssh: SshLatency,
    latencies: Latencies,
) -> dict[str, Any]:
    spec = api.new_cluster_spec(
        name=name,
        vnet=labrig.VNET,
        control_plane_node_count=shape.control_planes,
        linux_node_count=shape.linux_workers,
        windows_node_count=shape.windows_workers,
        windows_node_vm_size=labrig.WINDOWS_SIZE if shape.windows_workers else None,
    )
    recorder = SegmentRecorder(lab, ssh, f"{name}-cp-0")
    options = CreateOptions(
        per_host=per_host, ssh_timeout=300, winrm_timeout=300, network_timeout=120,
        listeners=[recorder],
    )  # fmt: skip
    before_stats, before_ssh = lab.stats(), ssh.snapshot()
    with labrig.MachineCpu() as cpu:
        began = time.perf_counter()
        result = api.new_cluster(store, spec, labrig.hosts(lab), options=options)
        wall = time.perf_counter() - began
    after_stats, after_ssh = lab.stats(), ssh.snapshot()
    report = _report(per_host, latencies, wall, result, recorder.segments,
                     (before_stats, after_stats), (before_ssh, after_ssh))  # fmt: skip
    return report | {"cpu": cpu.to_dict()}


def _report(
    per_host: int,
    latencies: Latencies,
    wall: float,
    result: Any,
    segments: list[Segment],
    stats: tuple[Any, Any],
    ssh: tuple[Any, Any],
) -> dict[str, Any]:
    names = {n["Address"]: n["Name"] for n in result.nodes}
    for segment in segments:
        segment.ssh_round_trips = {names.get(a, a): n for a, n in segment.ssh_round_trips.items()}
    on_host = Counter(result.placement.values())
    lanes = {host: min(per_host, count) for host, count in on_host.items()}
    path = critical_path(segments, latencies, host_lanes=lanes, limit=GLOBAL_LIMIT)
    host_trips = sum(labrig.delta(stats[0]["hosts"], stats[1]["hosts"], "round_trips").values())
    host_requests = sum(labrig.delta(stats[0]["hosts"], stats[1]["hosts"], "requests").values())
    linux = [n["Name"] for n in result.nodes if n["OsType"] == "Linux"]
    opened = labrig.delta(
        {a: {"n": n} for a, n in ssh[0]["connections"].items()},
        {a: {"n": n} for a, n in ssh[1]["connections"].items()},
        "n",
    )
    connections = {names.get(a, a): n for a, n in opened.items()}
    per_node = {name: connections.get(name, 0) for name in linux}
    return {
        "per_host": per_host,
        "injected_latency": bool(latencies.psrp or latencies.ssh or latencies.boot),
        "vms": len(result.nodes),
        "placement": dict(on_host),
        "wall_s": round(wall, 2),
        "critical_path_s": round(path, 2),
        "wall_over_critical_path": round(wall / path, 2) if path else None,
        "host_psrp_round_trips": host_trips,
        "host_wsman_requests": host_requests,
        "psrp_round_trips_per_vm": round(host_trips / len(result.placement), 2),
        "ssh_connections_per_linux_node": labrig.summary(per_node),
        "segments": [asdict(s) | {"wall_s": round(s.wall_s, 2)} for s in segments],
        "warnings": list(result.warnings),
    }


def measure(shape: Shape) -> dict[str, Any]:
    runs = []
    spec = LabSpec(hosts=shape.hosts, host_memory_gb=128, boot_delay=BOOT_DELAY)
    with (
        tempfile.TemporaryDirectory(prefix="aksnet-bench-") as tmp,
        LabProcess(Path(tmp) / "lab", spec, latency=PSRP_LATENCY) as lab,
        SshLatency(SSH_LATENCY) as ssh,
    ):
        store = labrig.open_store(Path(tmp) / "home", lab)
        try:
            for per_host, latencies in ((2, LATENCIES), (1, LATENCIES), (2, NO_LATENCY)):
                name = f"bench{per_host}{'' if latencies.psrp else 'z'}"
                set_latencies(lab, ssh, latencies)
                runs.append(create_once(lab, store, shape, name, per_host, ssh, latencies))
                set_latencies(lab, ssh, NO_LATENCY)
                api.remove_cluster(store, name, labrig.hosts(lab))
        finally:
            store.close()
    _add_latency_overhead(runs)
    return {
        "shape": asdict(shape),
        "load_balancer_vms": "provisioned and configured by create: counted in vms",
        "latency": {"psrp_per_request_s": PSRP_LATENCY, "ssh_per_round_trip_s": SSH_LATENCY,
                    "boot_s": BOOT_DELAY},
        "targets": TARGETS,
        "runs": runs,
    }  # fmt: skip


def _add_latency_overhead(runs: list[dict[str, Any]]) -> None:
    """(wall - the baseline's wall) / critical path: what the latency cost beyond the path,
    with the machine's own cost (the same create without injected latency) taken out."""
    baseline = next(r["wall_s"] for r in runs if not r["injected_latency"])
    for run in runs:
        if run["injected_latency"] and run["critical_path_s"]:
            overhead = (run["wall_s"] - baseline) / run["critical_path_s"]
            run["wall_minus_baseline_over_critical_path"] = round(overhead, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 control plane, 2+1 workers")
    args = parser.parse_args()
    results = measure(QUICK if args.quick else FULL)
    print(
        f"{'per host':<10} {'wall s':>8} {'path s':>8} {'ratio':>6} {'PSRP/VM':>8} {'SSH/node':>9}"
        f" {'CPU floor s':>12}"
    )
    for run in results["runs"]:
        ssh = run["ssh_connections_per_linux_node"]
        label = f"{run['per_host']}" + ("" if run["injected_latency"] else " (none)")
        print(f"{label:<10} {run['wall_s']:>8} {run['critical_path_s']:>8} "
              f"{run['wall_over_critical_path']!s:>6} {run['psrp_round_trips_per_vm']:>8} "
              f"{ssh.get('max', '-')!s:>9} {run['cpu']['cpu_floor_s']:>12}")  # fmt: skip
    (results_dir() / "create.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
