"""run_all runs a benchmark as its own process and writes latest.json with the table's fields;
the rows of each benchmark's results say target, measured, ratio and met."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks import RESULTS_ENV
from benchmarks.run_all import create_rows, scale_rows

ROOT = Path(__file__).resolve().parents[2]


def test_run_all_quick_bridge_writes_the_table_and_the_results(tmp_path: Path) -> None:
    env = {**os.environ, RESULTS_ENV: str(tmp_path)}
    argv = [sys.executable, "-m", "benchmarks.run_all", "--quick", "--only", "bench_bridge"]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    latest = json.loads((tmp_path / "latest.json").read_text())
    assert latest["quick"] is True and len(latest["load_average_before"]) == 3
    rows = latest["rows"]
    assert {r["measure"] for r in rows} >= {
        "Get-AksHciCluster, 20 objects (s)",
        "Get-AksHciCluster / python -c pass",
    }
    for row in rows:
        assert set(row) == {"benchmark", "measure", "target", "measured", "ratio", "met"}
        assert row["measured"] > 0 and isinstance(row["met"], bool)
    bridge = json.loads((tmp_path / "bridge.json").read_text())
    assert bridge["Get-AksHciCluster"]["objects"] == 20
    assert "Get-AksHciCluster" in done.stdout  # the printed table


def test_create_rows_judge_each_target_and_skip_the_baseline() -> None:
    run = {
        "per_host": 2,
        "vms": 18,
        "injected_latency": True,
        "wall_over_critical_path": 1.5,
        "psrp_round_trips_per_vm": 3.0,
        "ssh_connections_per_linux_node": {"count": 14, "min": 1, "max": 2},
    }
    baseline = {**run, "injected_latency": False}
    targets = {
        "wall_over_critical_path": 1.2,
        "psrp_round_trips_per_vm": 3,
        "ssh_per_linux_node": 1,
    }
    rows = create_rows({"targets": targets, "runs": [run, baseline]})
    assert [(r.measured, r.ratio, r.met) for r in rows] == [
        (1.5, 1.25, False),
        (3.0, 1.0, True),
        (2, 2.0, False),
    ]


def test_scale_rows_judge_memory_and_the_nodes_reached() -> None:
    result = {
        "kubernetes_nodes": 50,
        "joined_and_reached_over_ssh": 49,
        "peak_memory": {"ru_maxrss_mb": 120.0, "vm_hwm_mb": 110.0},
        "target_mb": 300,
    }
    memory, reached = scale_rows(result)
    assert (memory.measured, memory.met) == (110.0, True)
    assert (reached.measured, reached.met) == (1, False)
