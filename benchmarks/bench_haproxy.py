"""Benchmark: deciding and rendering haproxy.cfg for 1,000 LoadBalancer Services over 100 nodes,
and checking it with the real `haproxy -c`.

Target (issue 5): render + check under 1 s. The frontends are made by aksnet's own
`desired_frontends` (aksnet.loadbalancer.sync) from 100 Ready worker nodes, 3 control-plane
nodes and 1,000 Services as the API lists them, so the measured shape is the one aksnet
renders: a Service with externalTrafficPolicy Cluster (the default) goes to a subset of 10
nodes (rendezvous hashing, services.backend_subset), one with Local to every node. Measured
twice: every Service Cluster (what aksnet renders for the default policy: the target row), and
every Service Local (every node in every backend: the shape aksnet rendered for all Services
before the subset, 100,003 server lines). HAProxy's time follows the number of server lines
(profiled: keyword parsing, name trees, about 4 KB of memory each). Each phase is run REPEAT
times and the median reported (the machine is shared); the total includes deciding the
frontends. Prints a table and writes JSON to benchmarks/results/haproxy.json.
Run: `.venv/bin/python -m benchmarks.bench_haproxy [--quick]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from aksnet.loadbalancer.frontends import Frontend
from aksnet.loadbalancer.haproxy import check_config, render_haproxy_config
from aksnet.loadbalancer.services import ServicePort, ServiceView, VipPlan
from aksnet.loadbalancer.sync import SyncResult, desired_frontends
from benchmarks import results_dir

SERVICES = 1000
NODES = 100
TARGET_S = 1.0
REPEAT = 5
API_VIP = "198.18.0.200"


def _node(name: str, address: str, control_plane: bool) -> dict[str, Any]:
    labels = {"node-role.kubernetes.io/control-plane": ""} if control_plane else {}
    return {
        "metadata": {"name": name, "labels": labels},
        "status": {
            "addresses": [{"type": "InternalIP", "address": address}],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def cluster_nodes(nodes: int = NODES) -> list[dict[str, Any]]:
    """3 control-plane nodes and `nodes` Ready workers, as the API lists them."""
    control = [_node(f"c1-cp-{i}", f"198.18.1.{10 + i}", True) for i in range(3)]
    workers = [
        _node(f"c1-worker-{i}", f"198.18.{2 + i // 250}.{1 + i % 250}", False) for i in range(nodes)
    ]
    return control + workers


def services_and_plan(
    services: int = SERVICES, policy: str = "Cluster"
) -> tuple[list[ServiceView], VipPlan]:
    """`services` LoadBalancer Services, each on its own NodePort; four share each VIP on
    different ports."""
    views, plan = [], VipPlan()
    for s in range(services):
        port = 80 + s % 4
        view = ServiceView(
            "default",
            f"web{s}",
            "LoadBalancer",
            ports=(ServicePort(port, "TCP", 30000 + s),),
            external_traffic_policy=policy,
        )
        views.append(view)
        plan.vip_of[view.key] = f"198.18.{10 + s // 1000}.{1 + (s // 4) % 250}"
    return views, plan


def frontends(policy: str = "Cluster") -> tuple[Frontend, ...]:
    """aksnet's desired frontends for the benchmark's cluster (see the module docstring)."""
    views, plan = services_and_plan(policy=policy)
    return desired_frontends(API_VIP, cluster_nodes(), views, plan, SyncResult("c1"))


def measure(repeat: int = REPEAT, policy: str = "Cluster") -> dict[str, float | int | str]:
    decide_times, render_times, check_times = [], [], []
    text = ""
    for _ in range(repeat):
        began = time.perf_counter()
        given = frontends(policy)
        decided = time.perf_counter()
        text = render_haproxy_config(given)
        rendered = time.perf_counter()
        check_config(text)
        decide_times.append(decided - began)
        render_times.append(rendered - decided)
        check_times.append(time.perf_counter() - rendered)
    decide_s = statistics.median(decide_times)
    render_s, check_s = statistics.median(render_times), statistics.median(check_times)
    total_s = decide_s + render_s + check_s
    return {
        "services": SERVICES,
        "nodes": NODES,
        "external_traffic_policy": policy,
        "servers": text.count(" check\n"),
        "config_bytes": len(text.encode()),
        "decide_s": round(decide_s, 3),
        "render_s": round(render_s, 3),
        "haproxy_check_s": round(check_s, 3),
        "total_s": round(total_s, 3),
        "target_s": TARGET_S,
        "ratio_to_target": round(total_s / TARGET_S, 2),
        "repeat": repeat,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the median of 2 runs, not 5")
    repeat = 2 if parser.parse_args().quick else REPEAT
    results: dict[str, Any] = dict(measure(repeat))
    every = results["every_node"] = measure(repeat, "Local")
    print(f"{'measure (median of ' + str(repeat) + ')':<44} {'value':>12}")
    print(f"{'Services x nodes':<44} {f'{SERVICES} x {NODES}':>12}")
    print(f"{'servers with health checks':<44} {results['servers']:>12}")
    print(f"{'haproxy.cfg size (bytes)':<44} {results['config_bytes']:>12}")
    print(f"{'decide frontends (s)':<44} {results['decide_s']:>12.3f}")
    print(f"{'render (s)':<44} {results['render_s']:>12.3f}")
    print(f"{'haproxy -c (s)':<44} {results['haproxy_check_s']:>12.3f}")
    print(f"{'render + haproxy -c (s)':<44} {results['total_s']:>12.3f}")
    print(f"{'ratio to the 1 s target':<44} {results['ratio_to_target']:>12.2f}")
    print(f"{'policy Local (every node): servers':<44} {every['servers']:>12}")
    print(f"{'policy Local (every node): total (s)':<44} {every['total_s']:>12.3f}")
    (results_dir() / "haproxy.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
