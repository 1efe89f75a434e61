"""Real HTTP through the real HAProxy on a lab load-balancer node, configured by
LoadBalancerSetup over SSH, with the VIPs held by the real keepalived.

The tests share one lab (module fixture) and run in file order: first setup, a second run that
does nothing, a dry run, a reload under a steady stream of requests, a file that haproxy -c
refuses on the VM, and a worker whose server dies.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from aksnet.errors import RemoteCommandFailed
from aksnet.loadbalancer.frontends import Backend, Frontend
from aksnet.loadbalancer.setup import HAPROXY, LoadBalancerSetup, LoadBalancerVm, VmSetup
from aksnet.plan import apply, dry_run
from aksnet.plan.journal import NullJournal
from aksnet.plan.progress import Emitter
from aksnet.plan.runner import RunContext
from aksnet.remote.base import Completed
from tests.loadbalancer.conftest import NODE_PORT, LbLab, get, stop_server, wait_for

REQUESTS = 60


def spread(lab: LbLab, port: int = 80, count: int = REQUESTS) -> Counter[str]:
    return Counter(get(lab.service_vip, port) for _ in range(count))


class CountingShell:
    """The load-balancer VM's session, counting the commands (and SFTP puts) sent through it."""

    def __init__(self, shell: Any) -> None:
        self.shell, self.commands = shell, 0

    def run(self, argv: Sequence[str], **kwargs: Any) -> Completed:
        self.commands += 1
        done: Completed = self.shell.run(argv, **kwargs)
        return done

    def put(self, data: bytes, remote_path: str, *, mode: int = 0o644) -> None:
        self.commands += 1
        self.shell.put(data, remote_path, mode=mode)


def counted_setup(lab: LbLab) -> tuple[LoadBalancerSetup, CountingShell]:
    shell = CountingShell(lab.lb.shell)
    vm = LoadBalancerVm(lab.lb.name, lab.lb.address, shell)
    return LoadBalancerSetup([vm], lab.frontends(), cluster="c1", api_vip=lab.api_vip), shell


FIRST_RUN = [
    "write /etc/haproxy/haproxy.cfg on c1-lb-0 (checked with haproxy on the VM)",
    "write /etc/keepalived/keepalived.conf on c1-lb-0 (checked with keepalived on the VM)",
    "start haproxy on c1-lb-0",
    "start keepalived on c1-lb-0",
]


def test_dry_run_on_a_fresh_vm_lists_four_actions_and_changes_nothing(lb_lab: LbLab) -> None:
    # The node has Debian's own haproxy.cfg (as a fresh VM with the package would).
    before = lb_lab.run_on_lb("sha256sum", HAPROXY.path)
    assert [r.title for r in dry_run([lb_lab.setup()]).changes] == FIRST_RUN
    assert lb_lab.run_on_lb("sha256sum", HAPROXY.path) == before
    assert "keepalived.conf\n" not in lb_lab.run_on_lb("ls", "-a", "/etc/keepalived")
    assert "haproxy.pid" not in lb_lab.run_on_lb("ls", "/run")


def test_first_run_starts_haproxy_and_keepalived_and_traffic_flows(lb_lab: LbLab) -> None:
    setup, shell = counted_setup(lb_lab)
    result = apply([setup])
    assert [r.title for r in result.changes] == FIRST_RUN
    assert shell.commands == 1 + len(FIRST_RUN)  # the facts in one read, one command per action
    # keepalived (VRRP) puts both VIPs on the node's interface.
    wait_for(lambda: lb_lab.service_vip in lb_lab.run_on_lb("ip", "-br", "addr"), "the VIPs")
    assert lb_lab.api_vip in lb_lab.run_on_lb("ip", "-br", "addr")
    wait_for(lambda: get(lb_lab.service_vip, 80) != "", "the first answer through the VIP")
    answered = spread(lb_lab)
    assert sum(answered.values()) == REQUESTS
    assert set(answered) == {w.name for w in lb_lab.workers}
    assert min(answered.values()) >= REQUESTS // 3 - 2  # round robin


def test_second_run_performs_zero_actions(lb_lab: LbLab) -> None:
    setup, shell = counted_setup(lb_lab)
    assert apply([setup]).changes == []
    assert shell.commands == 1  # every fact in one read


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
    # A connection established before the reload, used only after it.
    established = socket.create_connection((lb_lab.service_vip, 80), timeout=5)
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
        established.sendall(b"GET / HTTP/1.0\r\n\r\n")
        reply = b"".join(iter(lambda: established.recv(4096), b""))
    finally:
        established.close()
        stop.set()
        client.join()
    assert reply.startswith(b"HTTP/1.0 200")
    assert reply.rsplit(b"\r\n\r\n", 1)[1].decode() in {w.name for w in lb_lab.workers}
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
    assert ".haproxy.cfg." not in lb_lab.run_on_lb("ls", "-a", "/etc/haproxy")  # no temp file


def test_a_dead_worker_is_taken_out_and_requests_keep_being_answered(lb_lab: LbLab) -> None:
    dead = lb_lab.workers[-1]
    stop_server(dead)
    wait_for(lambda: lb_lab.server_status()[dead.name].startswith("DOWN"), "the health check")
    status = lb_lab.server_status()
    assert all(status[w.name] == "UP" for w in lb_lab.workers[:-1])
    answered = spread(lb_lab)
    assert sum(answered.values()) == REQUESTS
    assert set(answered) == {w.name for w in lb_lab.workers[:-1]}


def test_the_emulated_systemctl_refuses_other_units_and_verbs(lb_lab: LbLab) -> None:
    for argv in (["systemctl", "restart", "haproxy"], ["systemctl", "start", "sshd"]):
        done = lb_lab.lb.shell.run(["sudo", "-n", *argv], check=False)
        assert done.exit_status == 1
        assert "EMULATED systemctl (aksnet lab): unsupported" in done.stderr.decode()


def test_a_new_service_vip_is_taken_by_a_keepalived_reload(lb_lab: LbLab) -> None:
    vip = str(ipaddress.IPv4Address(lb_lab.service_vip) + 1)
    nodes = tuple(Backend(w.name, w.vm.address, NODE_PORT) for w in lb_lab.workers[:-1])
    frontends = [*lb_lab.frontends((8080,)), Frontend("svc-default-db-5432", vip, 5432, nodes)]
    setup = LoadBalancerSetup([lb_lab.lb], frontends, cluster="c1", api_vip=lb_lab.api_vip)
    assert [r.title for r in apply([setup]).changes] == [
        "write /etc/haproxy/haproxy.cfg on c1-lb-0 (checked with haproxy on the VM)",
        "write /etc/keepalived/keepalived.conf on c1-lb-0 (checked with keepalived on the VM)",
        "reload haproxy on c1-lb-0 (seamless: established connections stay)",
        "reload keepalived on c1-lb-0 (VIPs still configured stay held)",
    ]
    wait_for(lambda: f" {vip}/32" in lb_lab.run_on_lb("ip", "-br", "addr"), "the new VIP")
    wait_for(lambda: get(vip, 5432) in {w.name for w in lb_lab.workers[:-1]}, "the new Service")
