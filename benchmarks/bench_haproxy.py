"""Benchmark: rendering haproxy.cfg for 1,000 LoadBalancer Services over 100 nodes, and checking it
with the real `haproxy -c`.

Target (issue 5): render + check under 1 s. Each phase is run REPEAT times and the median is
reported (the machine is shared). For comparison (not what aksnet renders today) the same 1,000
Services are also measured with each Service's backend on a subset of SUBSET nodes (rotating
over the 100), the layout cloud load balancers use for NodePorts: haproxy -c costs about the
same per server line, health-checked or not (profiled: keyword parsing, name trees, about 4 KB
of memory each), so the number of server lines is what the time follows. Prints a table and
writes JSON to benchmarks/results/haproxy.json.
Run: `.venv/bin/python -m benchmarks.bench_haproxy [--quick]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from aksnet.loadbalancer.frontends import Backend, Frontend
from aksnet.loadbalancer.haproxy import check_config, render_haproxy_config
from benchmarks import results_dir

SERVICES = 1000
NODES = 100
SUBSET = 10
TARGET_S = 1.0
REPEAT = 5


def frontends(
    services: int = SERVICES, nodes: int = NODES, subset: int | None = None
) -> list[Frontend]:
    """The API server's frontend (3 control-plane nodes) and one per Service, each Service on
    its own NodePort of every node (or of `subset` nodes, rotating); four Services share each
    VIP on different ports."""
    control_plane = tuple(Backend(f"c1-cp-{i}", f"198.18.1.{10 + i}", 6443) for i in range(3))
    result = [Frontend("api-server", "198.18.0.200", 6443, control_plane)]
    node_addresses = [
        (f"c1-worker-{i}", f"198.18.{2 + i // 250}.{1 + i % 250}") for i in range(nodes)
    ]
    for s in range(services):
        chosen = node_addresses
        if subset is not None:
            chosen = [node_addresses[(s * subset + i) % nodes] for i in range(subset)]
        servers = tuple(Backend(name, address, 30000 + s) for name, address in chosen)
        vip = f"198.18.{10 + s // 1000}.{1 + (s // 4) % 250}"
        port = 80 + s % 4
        result.append(Frontend(f"svc-default-web{s}-{port}", vip, port, servers))
    return result


def measure(repeat: int = REPEAT, subset: int | None = None) -> dict[str, float | int]:
    given = frontends(subset=subset)
    render_times, check_times = [], []
    text = ""
    for _ in range(repeat):
        began = time.perf_counter()
        text = render_haproxy_config(given)
        rendered = time.perf_counter()
        check_config(text)
        render_times.append(rendered - began)
        check_times.append(time.perf_counter() - rendered)
    render_s, check_s = statistics.median(render_times), statistics.median(check_times)
    return {
        "services": SERVICES,
        "nodes": NODES,
        "servers": text.count(" check\n"),
        "config_bytes": len(text.encode()),
        "render_s": round(render_s, 3),
        "haproxy_check_s": round(check_s, 3),
        "total_s": round(render_s + check_s, 3),
        "target_s": TARGET_S,
        "ratio_to_target": round((render_s + check_s) / TARGET_S, 2),
        "repeat": repeat,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the median of 2 runs, not 5")
    repeat = 2 if parser.parse_args().quick else REPEAT
    results: dict[str, Any] = dict(measure(repeat))
    results["subset_of_nodes"] = measure(repeat, SUBSET)
    print(f"{'measure (median of ' + str(repeat) + ')':<44} {'value':>12}")
    print(f"{'Services x nodes':<44} {f'{SERVICES} x {NODES}':>12}")
    print(f"{'servers with health checks':<44} {results['servers']:>12}")
    print(f"{'haproxy.cfg size (bytes)':<44} {results['config_bytes']:>12}")
    print(f"{'render (s)':<44} {results['render_s']:>12.3f}")
    print(f"{'haproxy -c (s)':<44} {results['haproxy_check_s']:>12.3f}")
    print(f"{'render + haproxy -c (s)':<44} {results['total_s']:>12.3f}")
    print(f"{'ratio to the 1 s target':<44} {results['ratio_to_target']:>12.2f}")
    subset = results["subset_of_nodes"]
    print(f"{f'with {SUBSET} nodes per Service: servers':<44} {subset['servers']:>12}")
    print(f"{f'with {SUBSET} nodes per Service: total (s)':<44} {subset['total_s']:>12.3f}")
    (results_dir() / "haproxy.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
