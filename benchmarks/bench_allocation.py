"""Benchmark: allocating every address of a /16 pool, and 8 processes allocating concurrently.

Target (issue 2, issue 8): every address of a /16 in under 2 s. Prints a table and writes JSON to
benchmarks/results/allocation.json. Run: `.venv/bin/python -m benchmarks.bench_allocation`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

from aksnet.errors import CapacityExceeded
from aksnet.model.network import network_setting
from aksnet.state.store import Store
from benchmarks import results_dir


def _fresh_store(tmp: Path, name: str) -> Store:
    """A network whose VIP pool is a whole /16: 65,536 addresses."""
    store = Store(tmp / f"{name}.db")
    store.add_network(
        network_setting(
            name="wide",
            vswitch_name="S",
            vip_pool_start="198.18.0.0",
            vip_pool_end="198.18.255.255",
        )
    )
    return store


def bulk(tmp: Path) -> tuple[float, int]:
    with _fresh_store(tmp, "bulk") as store:
        free = store.free_count("wide", "vip")
        started = time.perf_counter()
        store.allocate("wide", "vip", owner_kind="bench", owner="bulk", count=free)
        return time.perf_counter() - started, free


def one_by_one(tmp: Path) -> tuple[float, int]:
    with _fresh_store(tmp, "single") as store:
        free = store.free_count("wide", "vip")
        started = time.perf_counter()
        for i in range(free):
            store.allocate("wide", "vip", owner_kind="bench", owner=str(i))
        elapsed = time.perf_counter() - started
        assert store.free_count("wide", "vip") == 0
        return elapsed, free


def _worker(path: str, start: Any, out: Any) -> None:
    got = []
    with Store(path) as store:
        start.wait(60)
        while True:
            try:
                got.append(str(store.allocate("wide", "vip", owner_kind="w", owner="p")[0].address))
            except CapacityExceeded:
                break
    out.put(got)


def concurrent(tmp: Path, processes: int = 8, addresses: int = 4000) -> dict[str, Any]:
    path = tmp / "concurrent.db"
    with Store(path) as store:
        store.add_network(
            network_setting(
                name="wide", vswitch_name="S", vip_pool_start="198.18.0.1",
                vip_pool_end=f"198.18.{addresses // 256}.{addresses % 256}",
            )
        )  # fmt: skip
    ctx = multiprocessing.get_context("spawn")
    queue, start = ctx.Queue(), ctx.Event()
    workers = [
        ctx.Process(target=_worker, args=(str(path), start, queue)) for _ in range(processes)
    ]
    for w in workers:
        w.start()
    time.sleep(1.0)  # let every interpreter start, so the timing covers allocation only
    began = time.perf_counter()
    start.set()
    results = [queue.get(timeout=300) for _ in workers]
    elapsed = time.perf_counter() - began
    for w in workers:
        w.join()
    handed = [a for r in results for a in r]
    return {
        "processes": processes,
        "addresses": len(handed),
        "duplicates": len(handed) - len(set(handed)),
        "seconds": elapsed,
        "per_second": len(handed) / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the same run (it takes seconds)")
    parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        bulk_s, n = bulk(tmp)
        single_s, _ = one_by_one(tmp)
        conc = concurrent(tmp)
    results = {
        "slash16_addresses": n,
        "slash16_one_transaction_s": round(bulk_s, 3),
        "slash16_one_per_transaction_s": round(single_s, 3),
        "slash16_target_s": 2.0,
        "concurrent": conc,
    }
    print(f"{'measure':<44} {'value':>12}")
    print(f"{'/16 addresses':<44} {n:>12}")
    print(f"{'/16 all in one allocation (s)':<44} {bulk_s:>12.3f}")
    print(f"{'/16 one allocation per address (s)':<44} {single_s:>12.3f}")
    print(f"{'ratio one-at-a-time / target 2 s':<44} {single_s / 2.0:>12.2f}")
    print(f"{'8 processes: addresses':<44} {conc['addresses']:>12}")
    print(f"{'8 processes: duplicates':<44} {conc['duplicates']:>12}")
    print(f"{'8 processes: allocations per second':<44} {conc['per_second']:>12.0f}")
    (results_dir() / "allocation.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
