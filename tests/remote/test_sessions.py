"""The per-host session cache: one session per host, shared by threads, closed together."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from aksnet.errors import HostFailures
from aksnet.remote.sessions import SessionCache


class Recorder:
    def __init__(self, host: str, *, fail_close: bool = False) -> None:
        self.host = host
        self.closed = False
        self.fail_close = fail_close

    def close(self) -> None:
        self.closed = True
        if self.fail_close:
            raise OSError(f"cannot close {self.host}")


def test_one_session_per_host_even_under_concurrency() -> None:
    made: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def factory(host: str) -> Recorder:
        with lock:
            made.append(host)
        return Recorder(host)

    cache: SessionCache[Recorder] = SessionCache(factory)

    def get(host: str) -> Recorder:
        start.wait(timeout=10)
        return cache.get(host)

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(get, ["hv1", "hv2"] * 4))
    assert sorted(made) == ["hv1", "hv2"]
    assert len({id(s) for s in got if s.host == "hv1"}) == 1
    assert len(cache) == 2


def test_close_closes_every_session_and_reports_failures_per_host() -> None:
    sessions = {"hv1": Recorder("hv1"), "hv2": Recorder("hv2", fail_close=True)}
    cache: SessionCache[Recorder] = SessionCache(sessions.__getitem__)
    cache.get("hv1")
    cache.get("hv2")
    with pytest.raises(HostFailures) as caught:
        cache.close()
    assert set(caught.value.by_host) == {"hv2"}
    assert sessions["hv1"].closed and sessions["hv2"].closed
    assert len(cache) == 0


def test_discard_makes_a_new_session_next_time() -> None:
    cache: SessionCache[Recorder] = SessionCache(Recorder)
    first = cache.get("hv1")
    cache.discard("hv1")
    assert first.closed
    assert cache.get("hv1") is not first


def test_context_manager_closes() -> None:
    with SessionCache(Recorder) as cache:
        session = cache.get("hv1")
    assert session.closed
