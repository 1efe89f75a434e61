"""run_per_host_then: a host's work hands back a follow-up (a VM's boot wait) that runs outside
the host's limit, as soon as that work is done, within the global limit; failures per host."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import pytest

from aksnet.errors import HostFailures, HostUnreachable, InvalidInput
from aksnet.plan.parallel import HostWork, run_per_host_then

DEADLINE = 30.0  # seconds a test waits for something that must happen; never reached when right


class Gauge:
    """What runs at once: host-bound work per host, and everything together."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bound: dict[str, int] = {}
        self.peak_bound: dict[str, int] = {}
        self.total = 0
        self.peak_total = 0

    def enter(self, host: str | None) -> None:
        with self.lock:
            self.total += 1
            self.peak_total = max(self.peak_total, self.total)
            if host is not None:
                self.bound[host] = self.bound.get(host, 0) + 1
                self.peak_bound[host] = max(self.peak_bound.get(host, 0), self.bound[host])

    def leave(self, host: str | None) -> None:
        with self.lock:
            self.total -= 1
            if host is not None:
                self.bound[host] -= 1


def test_follow_ups_run_outside_the_per_host_limit() -> None:
    gauge = Gauge()
    # Three follow-ups of one host with one lane: the barrier opens only if all run at once.
    barrier = threading.Barrier(3, timeout=DEADLINE)

    def follow_up(n: int) -> str:
        gauge.enter(None)
        try:
            barrier.wait()
            return f"waited {n}"
        finally:
            gauge.leave(None)

    def work(n: int) -> Callable[[], str] | None:
        gauge.enter("a")
        try:
            return partial(follow_up, n)
        finally:
            gauge.leave("a")

    items = [HostWork("a", partial(work, n)) for n in range(3)]
    assert run_per_host_then(items, limit=4, per_host=1) == ["waited 0", "waited 1", "waited 2"]
    assert gauge.peak_bound == {"a": 1}


def test_a_follow_up_starts_while_its_hosts_next_work_still_runs() -> None:
    started = threading.Event()
    seen: list[bool] = []

    def first() -> Callable[[], None] | None:
        return started.set

    def second() -> Callable[[], None] | None:
        # A barrier between the stages would start the follow-up only after this returned.
        seen.append(started.wait(timeout=DEADLINE))
        return None

    results = run_per_host_then([HostWork("a", first), HostWork("a", second)], per_host=1)
    assert seen == [True]
    assert results == [None, None]  # set() returns None; `second` has no follow-up


def test_queued_host_work_starts_before_follow_ups_and_the_global_limit_holds() -> None:
    order: list[str] = []
    gauge = Gauge()

    def step(name: str) -> None:
        gauge.enter(None)
        try:
            order.append(name)
        finally:
            gauge.leave(None)

    def work(n: int) -> Callable[[], None] | None:
        step(f"create {n}")
        return partial(step, f"wait {n}")

    items = [HostWork("a", partial(work, n)) for n in range(3)]
    run_per_host_then(items, limit=1, per_host=1)
    assert order == ["create 0", "create 1", "create 2", "wait 0", "wait 1", "wait 2"]
    assert gauge.peak_total == 1


def test_a_failed_follow_up_fails_its_host_only_and_stops_the_hosts_other_follow_ups() -> None:
    ran: list[str] = []
    lock = threading.Lock()

    def follow_up(host: str, n: int) -> str:
        with lock:
            ran.append(f"{host}{n}")
        if host == "a":
            raise HostUnreachable(f"vm-{host}{n}", "did not answer")
        return f"{host}{n}"

    def work(host: str, n: int) -> Callable[[], str] | None:
        return partial(follow_up, host, n)

    items = [HostWork(h, partial(work, h, n)) for h in ("a", "b") for n in range(2)]
    with pytest.raises(HostFailures) as caught:
        run_per_host_then(items, limit=1, per_host=1)  # one at a time: the order is known
    assert set(caught.value.by_host) == {"a"}
    error = caught.value.by_host["a"]
    assert isinstance(error, HostUnreachable) and "vm-a0" in str(error)
    assert "host: a" in (error.__notes__ or [])
    assert ran == ["a0", "b0", "b1"]  # a1's follow-up was not started after a failed


def test_failed_host_work_has_no_follow_up_and_keeps_its_host_name() -> None:
    def broken() -> Callable[[], str] | None:
        raise RuntimeError("New-VM refused")

    def fine() -> Callable[[], str] | None:
        return lambda: "booted"

    with pytest.raises(HostFailures) as caught:
        run_per_host_then([HostWork("a", broken), HostWork("b", fine)])
    assert list(caught.value.by_host) == ["a"]
    assert "New-VM refused" in str(caught.value)


@pytest.mark.parametrize(("parameter", "value"), [("limit", 0), ("per_host", -1)])
def test_limits_below_one_are_refused(parameter: str, value: int) -> None:
    with pytest.raises(InvalidInput, match=parameter):
        run_per_host_then([], **{parameter: value})
