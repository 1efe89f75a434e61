"""run_per_host: global and per-host limits, results in order, failures keyed by host."""

from __future__ import annotations

import threading
from collections import Counter
from functools import partial

import pytest

from aksnet.errors import HostFailures, InvalidInput
from aksnet.plan.parallel import HostWork, run_per_host


class Gauge:
    """Counts work running at once, overall and per host, and keeps the maxima."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.peak_total = 0

    def enter(self, host: str) -> None:
        with self.lock:
            self.now[host] += 1
            self.peak[host] = max(self.peak[host], self.now[host])
            self.peak_total = max(self.peak_total, sum(self.now.values()))

    def leave(self, host: str) -> None:
        with self.lock:
            self.now[host] -= 1


def test_limits_are_reached_and_never_exceeded() -> None:
    gauge = Gauge()
    # Three hosts, one slot each: the barrier only opens when all three run at the same time.
    barrier = threading.Barrier(3, timeout=30)

    def work(host: str, n: int) -> str:
        gauge.enter(host)
        try:
            if n == 0:
                barrier.wait()
            return f"{host}-{n}"
        finally:
            gauge.leave(host)

    items = [HostWork(h, partial(work, h, n)) for n in range(3) for h in ("a", "b", "c")]
    results = run_per_host(items, limit=3, per_host=1)
    assert results == [f"{h}-{n}" for n in range(3) for h in ("a", "b", "c")]
    assert gauge.peak_total == 3
    assert dict(gauge.peak) == {"a": 1, "b": 1, "c": 1}


def test_failed_host_stops_its_own_work_others_continue() -> None:
    ran: list[str] = []
    lock = threading.Lock()

    def work(host: str, n: int) -> None:
        if host == "bad" and n == 0:
            raise OSError("disk full")
        with lock:
            ran.append(f"{host}-{n}")

    items = [HostWork(h, partial(work, h, n)) for h in ("bad", "good") for n in range(3)]
    with pytest.raises(HostFailures) as caught:
        run_per_host(items, limit=4, per_host=1)
    assert list(caught.value.by_host) == ["bad"]
    assert "host: bad" in caught.value.by_host["bad"].__notes__
    assert sorted(ran) == ["good-0", "good-1", "good-2"]


def test_concurrent_failures_of_one_host_are_grouped() -> None:
    def boom() -> None:
        raise OSError("no")

    with pytest.raises(HostFailures) as caught:
        run_per_host([HostWork("h", boom), HostWork("h", boom)], limit=2, per_host=2)
    grouped = caught.value.by_host["h"]
    assert isinstance(grouped, ExceptionGroup) and len(grouped.exceptions) == 2
    # The message names the host once and shows every failure, not only how many.
    assert str(caught.value) == "failed on some hosts (1 hosts)\n  h: 2 failures: no; no"


@pytest.mark.parametrize(("parameter", "value"), [("limit", 0), ("per_host", -1)])
def test_bad_limits_are_refused_with_the_parameter_named(parameter: str, value: int) -> None:
    with pytest.raises(InvalidInput, match=f"parameter '{parameter}'.*{value}.*at least 1"):
        run_per_host([], **{parameter: value})
