"""Real HTTP through the real HAProxy on a lab load-balancer node, configured by
LoadBalancerSetup over SSH, with the VIPs held by the real keepalived.

The tests share one lab (module fixture) and run in file order: first setup, a second run that
does nothing, a dry run, a reload under a steady stream of requests, a file that haproxy -c
refuses on the VM, and a worker whose server dies.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from aksnet.errors import RemoteCommandFailed
from aksnet.loadbalancer.setup import HAPROXY, VmSetup
from aksnet.plan import apply, dry_run
from aksnet.plan.journal import NullJournal
from aksnet.plan.progress import Emitter
from aksnet.plan.runner import RunContext
from tests.loadbalancer.conftest import LbLab, get, stop_server, wait_for

REQUESTS = 60


def spread(lab: LbLab, port: int = 80, count: int = REQUESTS) -> Counter[str]:
    return Counter(get(lab.service_vip, port) for _ in range(count))


def test_first_run_starts_haproxy_and_keepalived_and_traffic_flows(lb_lab: LbLab) -> None:
    result = apply([lb_lab.setup()])
    titles = [r.title for r in result.changes]
    assert titles == [
        "write /etc/haproxy/haproxy.cfg on c1-lb-0 (checked with haproxy on the VM)",
        "write /etc/keepalived/keepalived.conf on c1-lb-0 (checked with keepalived on the VM)",
        "start haproxy on c1-lb-0",
        "start keepalived on c1-lb-0",
    ]
    # keepalived (VRRP) puts both VIPs on the node's interface.
    wait_for(lambda: lb_lab.service_vip in lb_lab.run_on_lb("ip", "-br", "addr"), "the VIPs")
    assert lb_lab.api_vip in lb_lab.run_on_lb("ip", "-br", "addr")
    wait_for(lambda: get(lb_lab.service_vip, 80) != "", "the first answer through the VIP")
    answered = spread(lb_lab)
    assert sum(answered.values()) == REQUESTS
    assert set(answered) == {w.name for w in lb_lab.workers}
    assert min(answered.values()) >= REQUESTS // 3 - 2  # round robin


def test_second_run_performs_zero_actions(lb_lab: LbLab) -> None:
    assert apply([lb_lab.setup()]).changes == []


def test_dry_run_lists_the_write_and_the_reload_and_changes_nothing(lb_lab: LbLab) -> None:
    before = lb_lab.run_on_lb("sha256sum", HAPROXY.path)
    result = dry_run([lb_lab.setup(extra_ports=(8080,))])
    assert [r.title for r in result.changes] == [
        "write /etc/haproxy/haproxy.cfg on c1-lb-0 (checked with haproxy on the VM)",
        "reload haproxy on c1-lb-0 (seamless: established connections stay)",
    ]
    assert lb_lab.run_on_lb("sha256sum", HAPROXY.path) == before


def test_reload_under_a_steady_stream_fails_no_request(lb_lab: LbLab) -> None:
    answered: Counter[str] = Counter()
    failures: list[str] = []
    stop = threading.Event()

    def stream() -> None:
        while not stop.is_set():
            try:
                answered[get(lb_lab.service_vip, 80)] += 1
            except Exception as error:  # every failure is counted, whatever it is
                failures.append(f"{type(error).__name__}: {error}")

    client = threading.Thread(target=stream)
    client.start()
    try:
        wait_for(lambda: sum(answered.values()) >= 20, "requests before the reload")
        result = apply([lb_lab.setup(extra_ports=(8080,))])
        assert [r.title for r in result.changes] == [
            "write /etc/haproxy/haproxy.cfg on c1-lb-0 (checked with haproxy on the VM)",
            "reload haproxy on c1-lb-0 (seamless: established connections stay)",
        ]
        # The new frontend answers once the reloaded worker runs; the stream goes on meanwhile.
        wait_for(lambda: get(lb_lab.service_vip, 8080) != "", "the new frontend :8080")
        during = sum(answered.values())
        wait_for(lambda: sum(answered.values()) >= during + 20, "requests after the reload")
    finally:
        stop.set()
        client.join()
    assert failures == []
    assert sum(answered.values()) >= 40
    assert apply([lb_lab.setup(extra_ports=(8080,))]).changes == []


def test_a_file_that_haproxy_refuses_on_the_vm_is_not_installed(lb_lab: LbLab) -> None:
    before = lb_lab.run_on_lb("sha256sum", HAPROXY.path)
    ctx = RunContext(dry_run=False, journal=NullJournal(), emitter=Emitter(()))
    with pytest.raises(RemoteCommandFailed) as raised:
        VmSetup(ctx, lb_lab.lb)._install_checked(HAPROXY, b"frontend broken\n    bind :x\n")
    assert "haproxy" in raised.value.stderr.lower() or "alert" in raised.value.stderr.lower()
    assert lb_lab.run_on_lb("sha256sum", HAPROXY.path) == before
    assert ".aksnet-new" not in lb_lab.run_on_lb("ls", "-a", "/etc/haproxy")


def test_a_dead_worker_is_taken_out_and_requests_keep_being_answered(lb_lab: LbLab) -> None:
    dead = lb_lab.workers[-1]
    stop_server(dead)
    wait_for(lambda: lb_lab.server_status()[dead.name].startswith("DOWN"), "the health check")
    status = lb_lab.server_status()
    assert all(status[w.name] == "UP" for w in lb_lab.workers[:-1])
    answered = spread(lb_lab)
    assert sum(answered.values()) == REQUESTS
    assert set(answered) == {w.name for w in lb_lab.workers[:-1]}
