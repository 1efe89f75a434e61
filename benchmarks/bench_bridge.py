"""Benchmark: one Get-AksHciClusterNetwork bridge call with 20 networks in the store.

The wall time of `python -m aksnet.bridge` answering the request (process start, imports, store,
20 networks with their free counts and allocations, JSON lines out), as a ratio to a bare
`python -c pass` measured in the same run. Target (issue 6): under 0.3 s. Prints a table and
writes JSON to benchmarks/results/bridge.json. Run: `.venv/bin/python -m benchmarks.bench_bridge`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aksnet import api
from aksnet.state.store import Store

NETWORKS = 20
ROUNDS = 15
REQUEST = json.dumps({"protocol": 1, "command": "Get-AksHciClusterNetwork", "parameters": {}})


def fill_store(path: Path) -> None:
    """20 DHCP networks, each with its own /24 VIP pool in 198.18.0.0/15."""
    with Store(path) as store:
        for i in range(NETWORKS):
            api.new_network_setting(
                store,
                name=f"vnet{i}",
                vswitch_name="External",
                vip_pool_start=f"198.18.{i}.10",
                vip_pool_end=f"198.18.{i}.250",
            )


def timed(argv: list[str], stdin: str, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - started, done.stdout


def measure(home: Path) -> dict[str, Any]:
    env = {**os.environ, "AKSNET_HOME": str(home), "AKSNET_CONFIG": str(home / "config.json")}
    bare, bridge = [], []
    lines = 0
    for _ in range(ROUNDS):  # interleaved, so both see the same machine load
        bare.append(timed([sys.executable, "-c", "pass"], "", env)[0])
        seconds, out = timed([sys.executable, "-m", "aksnet.bridge"], REQUEST, env)
        bridge.append(seconds)
        lines = len(out.splitlines())
    assert lines == NETWORKS, f"expected {NETWORKS} result lines, got {lines}"
    bare_s, bridge_s = statistics.median(bare), statistics.median(bridge)
    return {
        "networks": NETWORKS,
        "rounds": ROUNDS,
        "python_c_pass_median_s": round(bare_s, 4),
        "bridge_call_median_s": round(bridge_s, 4),
        "bridge_call_min_s": round(min(bridge), 4),
        "ratio_to_python_c_pass": round(bridge_s / bare_s, 2),
        "target_s": 0.3,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_dir:
        home = Path(tmp_dir)
        fill_store(home / "aksnet.db")
        results = measure(home)
    print(f"{'measure':<44} {'value':>12}")
    for key, value in results.items():
        print(f"{key:<44} {value:>12}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "bridge.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
