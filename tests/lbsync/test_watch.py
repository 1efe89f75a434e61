"""watch_load_balancer: a Service created while it runs gets its VIP; stop ends the loop."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest

from aksnet.loadbalancer.sync import SyncResult, watch_load_balancer
from aksnet.state.store import Store
from tests.k8sapi.fixtures import RunningApi, create_service


def test_the_watch_loop_syncs_a_new_service_and_stops_when_told(
    store: Store, running_api: RunningApi
) -> None:
    results: list[SyncResult] = []
    stop = threading.Event()

    def run() -> None:
        with Store(store.path) as own:  # a Store serves the thread that opened it
            watch_load_balancer(
                own, "c1", running_api.core.api_client, stop, results.append, poll_seconds=1
            )

    loop = threading.Thread(target=run)
    loop.start()
    try:
        deadline = time.monotonic() + 30
        while not results and time.monotonic() < deadline:
            time.sleep(0.05)
        assert results and results[0].frontends[0].name == "api-server"
        body = {
            "metadata": {"name": "web"},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
        }
        create_service(running_api.core, "default", body)
        ingress: Any = None
        while not ingress and time.monotonic() < deadline:
            service: Any = running_api.core.read_namespaced_service("web", "default")
            ingress = service.status.load_balancer.ingress
            time.sleep(0.05)
        assert [i.ip for i in ingress] == ["198.18.5.201"]
        # The status is written before the sync's result is handed over: wait for that too.
        while time.monotonic() < deadline and not any(r.allocated for r in results):
            time.sleep(0.05)
        assert [r.allocated for r in results if r.allocated] == [["198.18.5.201"]]
    finally:
        stop.set()
        loop.join(timeout=30)
    assert not loop.is_alive()


def test_the_watch_loop_retries_while_the_api_is_unreachable_and_stops_when_told(
    store: Store, running_api: RunningApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aksnet.loadbalancer.sync")
    running_api.server.stop()  # nothing listens on its port any more
    stop = threading.Event()
    results: list[SyncResult] = []

    def retries() -> int:
        return sum("retrying" in r.getMessage() for r in caplog.records)

    def run() -> None:
        with Store(store.path) as own:
            watch_load_balancer(
                own, "c1", running_api.core.api_client, stop, results.append, poll_seconds=1
            )

    loop = threading.Thread(target=run)
    loop.start()
    try:
        deadline = time.monotonic() + 30
        while loop.is_alive() and retries() < 2 and time.monotonic() < deadline:
            loop.join(timeout=0.05)
        assert retries() >= 2  # failed, waited its poll interval and tried again
        assert loop.is_alive()  # still retrying, not crashed
    finally:
        stop.set()
        loop.join(timeout=60)
    assert not loop.is_alive()
    assert results == []
