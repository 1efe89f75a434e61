"""Per-host work in parallel, with a global and a per-host limit, failures kept per host.

Provisioning time is spent waiting on hosts, so independent work on different hosts runs at once;
a per-host limit keeps one Hyper-V host from being asked to build every VM at the same moment.
When a host fails, its remaining work is not started (its state is now unknown), while the other
hosts carry on; at the end every failure is raised together in HostFailures, keyed by host.

`run_per_host_then` adds a second stage: an item's host-bound work may hand back a follow-up
that waits on something other than the host (the guest a Hyper-V host just started), which
then runs outside the per-host limit, so a host's lanes are not held while its guests boot.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aksnet.errors import HostFailures, InvalidInput

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class HostWork(Generic[T]):
    """One piece of work that touches `host`."""

    host: str
    work: Callable[[], T]


def run_per_host(items: Sequence[HostWork[T]], *, limit: int = 8, per_host: int = 2) -> list[T]:
    """Run every item; return results in item order, or raise HostFailures naming each host."""
    _check_limit("limit", limit)
    _check_limit("per_host", per_host)
    results: dict[int, T] = {}
    failures: dict[str, list[Exception]] = {}
    pending = deque(enumerate(items))
    busy: Counter[str] = Counter()
    running: dict[Future[T], tuple[int, str]] = {}
    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="aksnet-host") as pool:
        while pending or running:
            _start_ready(pool, pending, running, busy, failures, limit, per_host)
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                index, host = running.pop(future)
                busy[host] -= 1
                _collect(future, index, host, results, failures)
    if failures:
        raise HostFailures("failed on some hosts", _by_host(failures))
    return [results[i] for i in range(len(items))]


def run_per_host_then(
    items: Sequence[HostWork[Callable[[], T] | None]], *, limit: int = 8, per_host: int = 2
) -> list[T | None]:
    """Run every item's host-bound work within the limits of run_per_host; a work that returns
    a follow-up has it run as soon as a worker is free, outside the per-host limit but within
    the global one (the hosts' queued work is started first: a follow-up only waits).

    Returns the follow-ups' results in item order (None for an item without one); raises
    HostFailures naming each host whose work or follow-ups failed. A failed host's queued work
    and follow-ups are not started.
    """
    _check_limit("limit", limit)
    _check_limit("per_host", per_host)
    results: dict[int, T | None] = {}
    failures: dict[str, list[Exception]] = {}
    pending = deque(enumerate(items))
    follow_ups: deque[tuple[int, str, Callable[[], T]]] = deque()
    busy: Counter[str] = Counter()
    bound: dict[Future[Callable[[], T] | None], tuple[int, str]] = {}
    free: dict[Future[T], tuple[int, str]] = {}
    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="aksnet-host") as pool:
        while pending or follow_ups or bound or free:
            _start_ready(pool, pending, bound, busy, failures, limit - len(free), per_host)
            _start_follow_ups(pool, follow_ups, free, failures, limit - len(bound))
            either: list[Future[Any]] = [*bound, *free]
            done, _ = wait(either, return_when=FIRST_COMPLETED)
            for future in done:
                if future in free:
                    index, host = free.pop(future)
                    _collect(future, index, host, results, failures)
                    continue
                index, host = bound.pop(future)
                busy[host] -= 1
                staged: dict[int, Callable[[], T] | None] = {}
                _collect(future, index, host, staged, failures)
                follow_up = staged.get(index)
                if follow_up is None:
                    results[index] = None
                else:
                    follow_ups.append((index, host, follow_up))
    if failures:
        raise HostFailures("failed on some hosts", _by_host(failures))
    return [results[i] for i in range(len(items))]


def _start_follow_ups(
    pool: ThreadPoolExecutor,
    follow_ups: deque[tuple[int, str, Callable[[], T]]],
    running: dict[Future[T], tuple[int, str]],
    failures: dict[str, list[Exception]],
    limit: int,
) -> None:
    """Start queued follow-ups, in order, while fewer than `limit` run (no per-host limit)."""
    while follow_ups and len(running) < limit:
        index, host, work = follow_ups.popleft()
        if host in failures:
            log.debug("not starting a follow-up on failed host %s", host)
            continue
        running[pool.submit(work)] = (index, host)


def _start_ready(
    pool: ThreadPoolExecutor,
    pending: deque[tuple[int, HostWork[T]]],
    running: dict[Future[T], tuple[int, str]],
    busy: Counter[str],
    failures: dict[str, list[Exception]],
    limit: int,
    per_host: int,
) -> None:
    """Start queued items, in order, whose host is below its limit, up to the global limit."""
    waiting: deque[tuple[int, HostWork[T]]] = deque()
    while pending:
        index, item = pending.popleft()
        if item.host in failures:
            log.debug("not starting work on failed host %s", item.host)
            continue
        if len(running) < limit and busy[item.host] < per_host:
            busy[item.host] += 1
            running[pool.submit(item.work)] = (index, item.host)
        else:
            waiting.append((index, item))
    pending.extend(waiting)


def _collect(
    future: Future[T],
    index: int,
    host: str,
    results: dict[int, T],
    failures: dict[str, list[Exception]],
) -> None:
    error = future.exception()
    if error is None:
        results[index] = future.result()
    elif isinstance(error, Exception):
        error.add_note(f"host: {host}")
        failures.setdefault(host, []).append(error)
    else:
        raise error  # KeyboardInterrupt and friends are not a host's failure


class ConcurrentFailures(ExceptionGroup[Exception]):
    """Failures of one host's work items that ran at once; its text names each of them (the
    plain ExceptionGroup text says only how many there were)."""

    def __str__(self) -> str:
        return f"{self.message}: " + "; ".join(str(e) for e in self.exceptions)


def _by_host(failures: dict[str, list[Exception]]) -> dict[str, Exception]:
    """One exception per host: the failure itself, or a group when work failed concurrently."""
    by_host: dict[str, Exception] = {}
    for host, errors in failures.items():
        if len(errors) == 1:
            by_host[host] = errors[0]
        else:
            by_host[host] = ConcurrentFailures(f"{len(errors)} failures", errors)
    return by_host


def _check_limit(parameter: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidInput(parameter, value, "it must be a whole number of at least 1.")
