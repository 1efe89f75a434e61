"""Benchmark (issue 8 item 5): Test-AksHciClusterNetwork over 20 clusters x 20 nodes with
injected latency, against the slowest host chain (target at most 1.3).

The lab (3 emulated Hyper-V hosts, its own process: benchmarks.labproc) answers every WSMan
request PSRP_LATENCY late. The store records 20 clusters of 20 nodes each (1 control plane, 19
Linux workers; loadBalancerSku none, so no HAProxy VM; addresses, MACs and keys decided by
aksnet.infra.provision.node_vms, as create records them; --quick: 4 clusters of 5) whose VMs
do not exist: 400 VMs with their sshd do not fit this machine. Their addresses are not on the
lab's bridge, so a guard refuses any SSH connection to them (it would leave the machine by its
default route) and counts the refusals (expected: none, as no VM runs). So the Test reads every host
fact and every VM fact on the hosts (and reports each VM as drift: create would make it); the
node checks over SSH are not exercised (they wait for a VM that runs).

Test runs the clusters in parallel, at most CLUSTERS_AT_ONCE (aksnet.remediation.run) at a
time, each on its own set of sessions (one per host, leased from the run's pool:
aksnet.remediation.sessions); a cluster's requests to one host are serial (one runspace).
The slowest host chain: the most requests one cluster sent to one host (the clusters are
alike: a host's count over the clusters) x the latency, once per wave of clusters. The same
Test runs first without latency: its wall time is what the machine alone costs, and
(wall - that) / chain is reported beside wall / chain. Root only.

The CPU seconds of both processes are reported for each run (aksnet's: process_time; the lab's:
its utime + stime in /proc): on this 2-core machine the emulated hosts' own CPU is part of the
wall time, so a wall over the chain names whose cost it is (measurement only: no target uses it).
Run: `.venv/bin/python -m benchmarks.bench_remediation [--quick]`; writes
benchmarks/results/remediation.json.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import multiprocessing
import os
import socket
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aksnet import api
from aksnet.cluster import records
from aksnet.cluster.keys import ClusterKeys
from aksnet.errors import HostUnreachable
from aksnet.infra.provision import node_vms
from aksnet.lab.fabric import LabSpec
from aksnet.model.network import network_setting
from aksnet.remediation.run import CLUSTERS_AT_ONCE
from aksnet.remote.ssh import SSHSession
from aksnet.state.store import Store
from benchmarks import labrig, results_dir
from benchmarks.labproc import LabProcess

LAB_PROCESS_NAME = "aksnet-bench-lab"  # benchmarks.labproc names its child so

PSRP_LATENCY = 0.05
TARGET = 1.3
NETWORK = "remnet"


def record_clusters(store: Store, clusters: int, nodes: int) -> None:
    """Clusters as create records them, on a network whose pool is in the benchmarks' own
    198.18.192.0/18 (no VM is made, so no address is contacted)."""
    store.add_network(
        network_setting(
            name=NETWORK, vswitch_name="LabSwitch", ip_address_prefix="198.18.200.0/22",
            gateway="198.18.200.1", dns_servers=["198.18.200.1"],
            k8s_node_ip_pool_start="198.18.201.1", k8s_node_ip_pool_end="198.18.202.250",
            vip_pool_start="198.18.203.1", vip_pool_end="198.18.203.250",
        )
    )  # fmt: skip
    network = store.get_network(NETWORK)
    for i in range(clusters):
        spec = api.new_cluster_spec(
            name=f"r{i}", vnet=NETWORK, linux_node_count=nodes - 1,
            load_balancer_sku="none", load_balancer_count=0,
        )  # fmt: skip
        keys = ClusterKeys.beside(store.path, spec.name)
        records.ensure_recorded(store, spec)
        records.api_vip(store, spec)
        node_vms(spec, network, store, admin_user="clouduser",
                 authorized_key=keys.admin().public_line, host_key_for=keys.host_key)  # fmt: skip
        records.set_state(store, spec.name, records.PROVISIONED)


class OffBridgeGuard:
    """While active, SSHSession refuses to connect outside the lab's subnet (counted)."""

    def __init__(self, subnet: str) -> None:
        self.subnet = ipaddress.ip_network(subnet)
        self.refused = 0
        self._original = SSHSession._open_socket

    def __enter__(self) -> OffBridgeGuard:
        guard = self

        def open_socket(session: SSHSession) -> socket.socket:
            if ipaddress.ip_address(session.host) not in guard.subnet:
                guard.refused += 1
                raise HostUnreachable(session.host, "not on the lab's bridge (benchmark guard)")
            return guard._original(session)

        SSHSession._open_socket = open_socket  # type: ignore[method-assign, assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        SSHSession._open_socket = self._original  # type: ignore[method-assign]


def lab_cpu_seconds() -> float:
    """The CPU time (user + system) the lab's process has used so far."""
    (lab,) = [p for p in multiprocessing.active_children() if p.name == LAB_PROCESS_NAME]
    fields = Path(f"/proc/{lab.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds of aksnet's process and of the lab's process over a block."""

    def __enter__(self) -> CpuMeter:
        self._started = (time.process_time(), lab_cpu_seconds())
        return self

    def __exit__(self, *exc: object) -> None:
        aksnet, lab = self._started
        self.aksnet = round(time.process_time() - aksnet, 2)
        self.lab = round(lab_cpu_seconds() - lab, 2)


def measure(clusters: int, nodes: int) -> dict[str, Any]:
    spec = LabSpec(hosts=3, host_memory_gb=1024, host_processors=128, host_storage_gb=65536)
    with (
        tempfile.TemporaryDirectory(prefix="aksnet-bench-") as tmp,
        LabProcess(Path(tmp) / "lab", spec, latency=PSRP_LATENCY) as lab,
        OffBridgeGuard(lab.status()["subnet"]) as guard,
    ):
        store = Store(Path(tmp) / "home" / "aksnet.db")
        try:
            record_clusters(store, clusters, nodes)
            lab.set_latency(0)
            began = time.perf_counter()
            with CpuMeter() as cpu_baseline:
                api.test_cluster_network(store, labrig.hosts(lab))
            baseline = time.perf_counter() - began
            lab.set_latency(PSRP_LATENCY)
            before = lab.stats()
            began = time.perf_counter()
            with CpuMeter() as cpu:
                report = api.test_cluster_network(store, labrig.hosts(lab))
            wall = time.perf_counter() - began
            after = lab.stats()
        finally:
            store.close()
    requests = labrig.delta(before["hosts"], after["hosts"], "requests")
    waves = math.ceil(clusters / CLUSTERS_AT_ONCE)
    chain = waves * max(requests.values()) / clusters * PSRP_LATENCY
    statuses = Counter(row.status for row in report.rows)
    return {
        "clusters": clusters,
        "nodes_per_cluster": nodes,
        "vms_exist": False,
        "ssh_connections_refused_off_bridge": guard.refused,
        "psrp_latency_s": PSRP_LATENCY,
        "clusters_at_once": CLUSTERS_AT_ONCE,
        "host_requests": requests,
        "report_rows": dict(statuses),
        "exit_code": report.exit_code,
        "wall_s": round(wall, 2),
        "slowest_host_chain_s": round(chain, 2),
        "wall_over_slowest_host_chain": round(wall / chain, 2),
        "wall_without_latency_s": round(baseline, 2),
        "wall_minus_baseline_over_chain": round((wall - baseline) / chain, 2),
        "cpu_s": {"aksnet": cpu.aksnet, "lab": cpu.lab},
        "cpu_without_latency_s": {"aksnet": cpu_baseline.aksnet, "lab": cpu_baseline.lab},
        "target": TARGET,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 clusters of 5 nodes")
    args = parser.parse_args()
    results = measure(4, 5) if args.quick else measure(20, 20)
    for key, value in results.items():
        print(f"{key:<32} {value}")
    (results_dir() / "remediation.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
