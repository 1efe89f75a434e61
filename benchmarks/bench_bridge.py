"""Benchmark: bridge calls over a filled store: Get-AksHciClusterNetwork with 20 networks, and
Get-AksHciCluster with 20 clusters (issue 8 item 4).

The wall time of `python -m aksnet.bridge` answering the request (process start, imports, store,
the objects with their allocations, JSON lines out), as a ratio to a bare `python -c pass`
measured in the same run, interleaved (the median of ROUNDS). Targets: under 0.3 s and under 10x
the bare interpreter. The 20 clusters are recorded as a create records them (node addresses, MACs
and keys decided by aksnet.infra.provision.node_vms; no VM is made). Prints a table and writes
JSON to benchmarks/results/bridge.json. Run: `.venv/bin/python -m benchmarks.bench_bridge
[--quick]`.
"""

from __future__ import annotations

import argparse
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
from aksnet.cluster import records
from aksnet.cluster.keys import ClusterKeys
from aksnet.infra.provision import node_vms
from aksnet.model.network import network_setting
from aksnet.state.store import Store
from benchmarks import results_dir

NETWORKS = 20
CLUSTERS = 20
ROUNDS = 15
TARGET_S = 0.3
TARGET_RATIO = 10.0


def request(command: str) -> str:
    return json.dumps({"protocol": 1, "command": command, "parameters": {}})


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
        fill_clusters(store)


def fill_clusters(store: Store) -> None:
    """20 clusters (1 control plane, 3 Linux workers, a load balancer each) on one static
    network, recorded as provisioned with their API VIP, node addresses and MACs."""
    store.add_network(
        network_setting(
            name="clusters", vswitch_name="External", ip_address_prefix="198.19.0.0/16",
            gateway="198.19.0.1", dns_servers=["198.19.0.1"],
            k8s_node_ip_pool_start="198.19.1.1", k8s_node_ip_pool_end="198.19.4.250",
            vip_pool_start="198.19.10.1", vip_pool_end="198.19.10.250",
        )
    )  # fmt: skip
    network = store.get_network("clusters")
    for i in range(CLUSTERS):
        spec = api.new_cluster_spec(name=f"c{i}", vnet="clusters", linux_node_count=3)
        keys = ClusterKeys.beside(store.path, spec.name)
        records.ensure_recorded(store, spec)
        records.api_vip(store, spec)
        node_vms(
            spec, network, store, admin_user="clouduser", authorized_key=keys.admin().public_line,
            host_key_for=keys.host_key, load_balancers=True,
        )  # fmt: skip
        records.set_state(store, spec.name, records.PROVISIONED)


def timed(argv: list[str], stdin: str, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - started, done.stdout


def measure(home: Path, command: str, expected: int, rounds: int) -> dict[str, Any]:
    env = {**os.environ, "AKSNET_HOME": str(home), "AKSNET_CONFIG": str(home / "config.json")}
    bare, bridge = [], []
    lines = 0
    for _ in range(rounds):  # interleaved, so both see the same machine load
        bare.append(timed([sys.executable, "-c", "pass"], "", env)[0])
        seconds, out = timed([sys.executable, "-m", "aksnet.bridge"], request(command), env)
        bridge.append(seconds)
        lines = len(out.splitlines())
    if lines != expected:
        raise RuntimeError(f"{command}: expected {expected} result lines, got {lines}")
    bare_s, bridge_s = statistics.median(bare), statistics.median(bridge)
    return {
        "objects": expected,
        "rounds": rounds,
        "python_c_pass_median_s": round(bare_s, 4),
        "bridge_call_median_s": round(bridge_s, 4),
        "bridge_call_min_s": round(min(bridge), 4),
        "ratio_to_python_c_pass": round(bridge_s / bare_s, 2),
        "target_s": TARGET_S,
        "target_ratio": TARGET_RATIO,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds instead of 15")
    rounds = 5 if parser.parse_args().quick else ROUNDS
    with tempfile.TemporaryDirectory() as tmp_dir:
        home = Path(tmp_dir)
        fill_store(home / "aksnet.db")
        results = {
            "Get-AksHciClusterNetwork": measure(
                home, "Get-AksHciClusterNetwork", NETWORKS + 1, rounds
            ),
            "Get-AksHciCluster": measure(home, "Get-AksHciCluster", CLUSTERS, rounds),
        }
    print(f"{'measure':<44} {'value':>12}")
    for command, measured in results.items():
        print(command)
        for key, value in measured.items():
            print(f"  {key:<42} {value:>12}")
    (results_dir() / "bridge.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
