"""Benchmark (issue 8 item 6): a cluster of 50 Linux lab nodes created and checked, with the
aksnet process's peak memory (target under 300 MB).

The lab (4 emulated Hyper-V hosts; each Linux VM a network namespace with a real sshd) runs in
its own process (benchmarks.labproc): its memory is not aksnet's. This process runs the create
(1 control plane + 49 Linux workers and the load-balancer VM; --quick: 1 + 9) with no injected
latency, reads its own peak memory (getrusage ru_maxrss, and /proc VmHWM), then checks every
Linux node over SSH with the cluster's pinned host keys (joined: kubelet.conf present) and
removes the cluster. Run it as its own process (run_all does): ru_maxrss is a process's peak
over its whole life. Root only. Run: `.venv/bin/python -m benchmarks.bench_scale [--quick]`;
writes benchmarks/results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from aksnet import api
from aksnet.cluster.create import CreateOptions
from aksnet.infra.placement import LOAD_BALANCER
from aksnet.lab.fabric import LabSpec
from benchmarks import labrig, results_dir
from benchmarks.labproc import LabProcess

TARGET_MB = 300
NAME = "scale"


def measure(nodes: int) -> dict[str, Any]:
    spec = LabSpec(hosts=4, host_memory_gb=512, host_processors=64)
    with (
        tempfile.TemporaryDirectory(prefix="aksnet-bench-") as tmp,
        LabProcess(Path(tmp) / "lab", spec) as lab,
    ):
        store = labrig.open_store(Path(tmp) / "home", lab)
        try:
            cluster = api.new_cluster_spec(name=NAME, vnet=labrig.VNET, linux_node_count=nodes - 1)
            options = CreateOptions(ssh_timeout=600, winrm_timeout=600)
            began = time.perf_counter()
            created = api.new_cluster(store, cluster, labrig.hosts(lab), options=options)
            wall = time.perf_counter() - began
            memory = labrig.peak_memory_mb()
            workers = [n for n in created.nodes if n["Role"] != LOAD_BALANCER]
            joined = labrig.check_linux_nodes(store, NAME, workers)
            api.remove_cluster(store, NAME, labrig.hosts(lab))
        finally:
            store.close()
    return {
        "kubernetes_nodes": len(workers),
        "vms": len(created.nodes),
        "joined_and_reached_over_ssh": joined,
        "create_wall_s": round(wall, 1),
        "peak_memory": memory,
        "target_mb": TARGET_MB,
        "ratio_to_target": round(memory["vm_hwm_mb"] / TARGET_MB, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 nodes instead of 50")
    parser.add_argument("--nodes", type=int, default=None, help="Kubernetes nodes (default 50)")
    args = parser.parse_args()
    nodes = args.nodes or (10 if args.quick else 50)
    if not 2 <= nodes <= 160:
        parser.error(f"--nodes {nodes}: use 2 to 160 (the lab /24 holds the pool .10-.180)")
    results = measure(nodes)
    for key, value in results.items():
        print(f"{key:<32} {value}")
    (results_dir() / "scale.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
