"""Every benchmark in one run: one table (target, measured, ratio, met?) and
benchmarks/results/latest.json.

Each benchmark runs as its own process (`python -m benchmarks.<name> [--quick]`), so that one's
memory or threads never weigh on the next and the scale benchmark's peak memory is its own; each
writes its results/<name>.json, read back here. The lab benchmarks (create, scale) need root;
without it they are reported as skipped. The machine's load average is recorded before and after
(the numbers are only comparable at a similar load). Run:
`.venv/bin/python -m benchmarks.run_all [--quick]`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks import results_dir

LAB_BENCHMARKS = {"bench_create", "bench_remediation", "bench_scale"}
ORDER = (
    "bench_allocation",
    "bench_haproxy",
    "bench_bridge",
    "bench_create",
    "bench_remediation",
    "bench_scale",
)
OUTPUT = {
    "bench_allocation": "allocation.json",
    "bench_haproxy": "haproxy.json",
    "bench_bridge": "bridge.json",
    "bench_create": "create.json",
    "bench_remediation": "remediation.json",
    "bench_scale": "scale.json",
}


@dataclass(frozen=True)
class Row:
    benchmark: str
    measure: str
    target: str
    measured: float | None
    ratio: float | None  # measured / target: at most 1 is met (for 'at most' targets)
    met: bool | None  # None: not measured


def at_most(benchmark: str, measure: str, measured: float | None, target: float, unit: str) -> Row:
    if measured is None:
        return Row(benchmark, measure, f"<= {target:g}{unit}", None, None, None)
    ratio = round(measured / target, 2) if target else None
    return Row(
        benchmark, measure, f"<= {target:g}{unit}", round(measured, 3), ratio, measured <= target
    )


def allocation_rows(r: dict[str, Any]) -> list[Row]:
    name = "allocation"
    return [
        at_most(name, "/16 in one allocation (s)", r["slash16_one_transaction_s"], 2.0, " s"),
        at_most(
            name,
            "/16 one allocation per address (s)",
            r["slash16_one_per_transaction_s"],
            2.0,
            " s",
        ),
        at_most(name, "8 processes: duplicate addresses", r["concurrent"]["duplicates"], 0, ""),
    ]


def haproxy_rows(r: dict[str, Any]) -> list[Row]:
    return [
        at_most(
            "haproxy",
            "render + haproxy -c, 1000 Services x 100 nodes (s)",
            r["total_s"],
            r["target_s"],
            " s",
        )
    ]


def bridge_rows(r: dict[str, Any]) -> list[Row]:
    rows = []
    for command, m in r.items():
        rows.append(
            at_most(
                "bridge",
                f"{command}, {m['objects']} objects (s)",
                m["bridge_call_median_s"],
                m["target_s"],
                " s",
            )
        )
        rows.append(
            at_most(
                "bridge",
                f"{command} / python -c pass",
                m["ratio_to_python_c_pass"],
                m["target_ratio"],
                "x",
            )
        )
    return rows


def create_rows(r: dict[str, Any]) -> list[Row]:
    rows = []
    targets = r["targets"]
    for run in r["runs"]:
        if not run["injected_latency"]:
            continue  # the baseline run: its wall time is in create.json, it has no target
        tag = f"per_host {run['per_host']}, {run['vms']} VMs"
        rows.append(
            at_most(
                "create",
                f"wall / critical path ({tag})",
                run["wall_over_critical_path"],
                targets["wall_over_critical_path"],
                "",
            )
        )
        rows.append(
            at_most(
                "create",
                f"PSRP round trips per VM ({tag})",
                run["psrp_round_trips_per_vm"],
                targets["psrp_round_trips_per_vm"],
                "",
            )
        )
        ssh = run["ssh_connections_per_linux_node"].get("max")
        rows.append(
            at_most(
                "create",
                f"SSH connections per Linux node, max ({tag})",
                ssh,
                targets["ssh_per_linux_node"],
                "",
            )
        )
    return rows


def remediation_rows(r: dict[str, Any]) -> list[Row]:
    shape = f"{r['clusters']} clusters x {r['nodes_per_cluster']} nodes"
    return [
        at_most(
            "remediation",
            f"Test wall / slowest host chain ({shape})",
            r["wall_over_slowest_host_chain"],
            r["target"],
            "",
        ),
    ]


def scale_rows(r: dict[str, Any]) -> list[Row]:
    nodes = r["kubernetes_nodes"]
    return [
        at_most(
            "scale",
            f"peak memory, {nodes} nodes (MB, VmHWM)",
            r["peak_memory"]["vm_hwm_mb"],
            r["target_mb"],
            " MB",
        ),
        at_most(
            "scale",
            f"nodes not joined or unreachable of {nodes}",
            nodes - r["joined_and_reached_over_ssh"],
            0,
            "",
        ),
    ]


ROWS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "bench_allocation": allocation_rows,
    "bench_haproxy": haproxy_rows,
    "bench_bridge": bridge_rows,
    "bench_create": create_rows,
    "bench_remediation": remediation_rows,
    "bench_scale": scale_rows,
}


def run_one(name: str, quick: bool) -> tuple[dict[str, Any] | None, str]:
    """(its results, '') or (None, why not)."""
    if name in LAB_BENCHMARKS and os.geteuid() != 0:
        return None, "skipped: the lab needs root"
    output = results_dir() / OUTPUT[name]
    output.unlink(missing_ok=True)
    argv = [sys.executable, "-m", f"benchmarks.{name}", *(["--quick"] if quick else [])]
    print(f"== {name} ({' '.join(argv[1:])})", flush=True)
    done = subprocess.run(argv, cwd=Path(__file__).parent.parent, check=False)
    if done.returncode != 0 or not output.exists():
        return None, f"failed: exit status {done.returncode}"
    return json.loads(output.read_text()), ""


def reuse_one(name: str) -> tuple[dict[str, Any] | None, str]:
    output = results_dir() / OUTPUT[name]
    if not output.exists():
        return None, "not run, and no earlier results to reuse"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(output.stat().st_mtime))
    return json.loads(output.read_text()), f"results reused from its run of {stamp}"


def table(rows: list[Row]) -> str:
    lines = [f"{'benchmark':<11} {'measure':<58} {'target':>10} {'measured':>9} {'ratio':>6} met"]
    for r in rows:
        measured = "-" if r.measured is None else f"{r.measured:g}"
        ratio = "-" if r.ratio is None else f"{r.ratio:g}"
        met = {True: "yes", False: "NO", None: "-"}[r.met]
        lines.append(
            f"{r.benchmark:<11} {r.measure:<58} {r.target:>10} {measured:>9} {ratio:>6} {met}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes: a few minutes")
    parser.add_argument("--only", nargs="*", choices=ORDER, help="run only these benchmarks")
    parser.add_argument(
        "--reuse",
        nargs="*",
        choices=ORDER,
        default=[],
        help="take these benchmarks' results from their last run instead (said in the notes)",
    )
    args = parser.parse_args()
    load_before, began = os.getloadavg(), time.time()
    results: dict[str, Any] = {}
    rows: list[Row] = []
    notes: dict[str, str] = {}
    for name in args.only or ORDER:
        if name in args.reuse:
            result, note = reuse_one(name)
            notes[name] = note
        else:
            result, note = run_one(name, args.quick)
        if result is None:
            notes[name] = note
            continue
        results[name] = result
        rows.extend(ROWS[name](result))
    shown = table(rows)
    print(shown)
    for name, note in notes.items():
        print(f"{name}: {note}")
    latest = {
        "quick": args.quick,
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(began)),
        "seconds": round(time.time() - began, 1),
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "rows": [asdict(r) for r in rows],
        "notes": notes,
        "table": shown,
        "results": results,
    }
    (results_dir() / "latest.json").write_text(json.dumps(latest, indent=2))


if __name__ == "__main__":
    main()
