"""Fixtures for the load balancer on the lab: one load-balancer node running the real HAProxy and
keepalived (started by the lab's emulated systemctl), and three worker nodes, each running a tiny
HTTP server on a NodePort that answers with its node's name.

Root only (skipped otherwise); the nodes live in a test slot of 198.19.0.0/16, started once per
module, and everything (servers, nodes, bridge) is torn down when the module ends, also when a
test fails.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from aksnet.lab.linux import LabNetwork, LinuxVmRuntime, state, svcstub, sweep
from aksnet.loadbalancer.frontends import API_SERVER_PORT, Backend, Frontend
from aksnet.loadbalancer.setup import LoadBalancerSetup, LoadBalancerVm
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.ssh import SSHSession
from tests.linuxlab.conftest import TEST_SLOTS, Lab, Vm, _needs_root

NODE_PORT = 30080
DEADLINE = 20.0
POLL = 0.1  # seconds between looks while waiting for a server or HAProxy's checks

# The stand-in for kube-proxy and a pod: answers every GET with the node's name.
HTTP_SERVER = """
import http.server, sys
name, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer((address, port), Handler).serve_forever()
"""

# Reads HAProxy's stats over its admin socket, inside the load-balancer node.
SHOW_STAT = """
import socket
s = socket.socket(socket.AF_UNIX)
s.connect("/run/haproxy/admin.sock")
s.sendall(b"show stat\\n")
print(b"".join(iter(lambda: s.recv(65536), b"")).decode())
"""


@dataclass
class Worker:
    vm: Vm
    name: str
    server: subprocess.Popen[bytes] | None = None


@dataclass
class LbLab:
    lab: Lab
    lb_vms: list[Vm]
    lbs: list[LoadBalancerVm]
    workers: list[Worker]
    api_vip: str
    service_vip: str
    sessions: list[SSHSession] = field(default_factory=list)

    @property
    def lb_vm(self) -> Vm:
        return self.lb_vms[0]

    @property
    def lb(self) -> LoadBalancerVm:
        return self.lbs[0]

    def frontends(self, extra_ports: tuple[int, ...] = ()) -> list[Frontend]:
        nodes = tuple(Backend(w.name, w.vm.address, NODE_PORT) for w in self.workers)
        api = tuple(Backend(w.name, w.vm.address, API_SERVER_PORT) for w in self.workers)
        frontends = [Frontend("api-server", self.api_vip, API_SERVER_PORT, api)]
        for port in (80, *extra_ports):
            frontends.append(Frontend(f"svc-default-web-{port}", self.service_vip, port, nodes))
        return frontends

    def setup(self, extra_ports: tuple[int, ...] = ()) -> LoadBalancerSetup:
        return LoadBalancerSetup(
            self.lbs, self.frontends(extra_ports), cluster="c1", api_vip=self.api_vip
        )

    def node_pid(self, vm: Vm) -> int:
        return int(state.read(self.lab.lab_dir)["nodes"][vm.spec.name]["pid"])

    def server_status(self) -> dict[str, str]:
        """HAProxy's status ('UP', 'DOWN', ...) of each server of svc-default-web-80."""
        argv = ["nsenter", "--target", str(self.node_pid(self.lb_vm)), "--mount", "--net", "--"]
        done = subprocess.run(
            [*argv, sys.executable, "-c", SHOW_STAT], capture_output=True, text=True, check=True
        )
        lines = [line.split(",") for line in done.stdout.splitlines() if line]
        header = lines[0]
        rows = [dict(zip(header, line, strict=False)) for line in lines[1:]]
        return {
            r["svname"]: r["status"]
            for r in rows
            if r.get("# pxname") == "svc-default-web-80" and r["svname"] not in ("BACKEND",)
        }

    def run_on_lb(self, *argv: str, index: int = 0) -> str:
        """Run argv as root inside load-balancer node `index`; its output."""
        pid = self.node_pid(self.lb_vms[index])
        enter = ["nsenter", "--target", str(pid), "--mount", "--net", "--"]
        return subprocess.run([*enter, *argv], capture_output=True, text=True, check=True).stdout


def get(address: str, port: int, timeout: float = 3.0) -> str:
    """One HTTP GET on a new connection; the body (a worker's name)."""
    connection = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        assert response.status == 200
        return response.read().decode()
    finally:
        connection.close()


def wait_for(condition: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(POLL)
    raise AssertionError(f"timed out after {deadline} s waiting for {what}")


def _listening(address: str, port: int) -> bool:
    with socket.create_connection((address, port), timeout=1):
        return True


def start_server(lab: Lab, worker: Worker) -> None:
    netns = state.read(lab.lab_dir)["nodes"][worker.vm.spec.name]["netns"]
    argv = [sys.executable, "-c", HTTP_SERVER, worker.name, worker.vm.address, str(NODE_PORT)]
    worker.server = subprocess.Popen(["ip", "netns", "exec", netns, *argv])
    wait_for(lambda: _listening(worker.vm.address, NODE_PORT), f"{worker.name}'s server")


def stop_server(worker: Worker) -> None:
    if worker.server is not None and worker.server.poll() is None:
        worker.server.kill()
        worker.server.wait(timeout=DEADLINE)


def _session(vm: Vm, known: KnownHosts) -> SSHSession:
    known.pin(vm.address, 22, vm.host_key.public_openssh)
    return SSHSession(
        vm.address, username="clouduser", private_key=vm.user_key.paramiko_key(), known_hosts=known
    )


@contextlib.contextmanager
def started_lab(base: Path, prefix: str, lb_count: int, worker_count: int) -> Iterator[LbLab]:
    """lb_count load-balancer nodes (emulated systemctl) and worker_count workers serving
    NODE_PORT, in a test slot; all torn down on exit."""
    _needs_root()
    lab_dir, seeds = base / "lab", base / "seeds"
    lab_dir.mkdir()
    seeds.mkdir()
    network = LabNetwork(lab_dir, prefix, slots=TEST_SLOTS).up()
    runtime = LinuxVmRuntime(lab_dir, network)
    lab = Lab(lab_dir, seeds, network, runtime)
    workers: list[Worker] = []
    sessions: list[SSHSession] = []
    try:
        known = KnownHosts(base / "known_hosts")
        lb_vms, lbs = [], []
        for index in range(lb_count):
            vm = lab.vm(1 + index)
            runtime.start(vm.spec)
            svcstub.install(lab_dir, vm.spec.name)
            sessions.append(_session(vm, known))
            lb_vms.append(vm)
            lbs.append(LoadBalancerVm(f"c1-lb-{index}", vm.address, sessions[-1]))
        for index in range(worker_count):
            worker = Worker(lab.vm(1 + lb_count + index), f"c1-worker-{index + 1}")
            runtime.start(worker.vm.spec)
            workers.append(worker)
            start_server(lab, worker)
        subnet = ipaddress.IPv4Address(network.subnet.network_address)
        yield LbLab(
            lab, lb_vms, lbs, workers, str(subnet + 200), str(subnet + 201), sessions=sessions
        )
    finally:
        for worker in workers:
            stop_server(worker)
        for session in sessions:
            session.close()
        runtime.stop_all()
        network.down()
        sweep(lab_dir)


@pytest.fixture(scope="module")
def lb_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LbLab]:
    """One load-balancer node and three workers."""
    with started_lab(tmp_path_factory.mktemp("lblab"), "akl", 1, 3) as lab:
        yield lab


@pytest.fixture(scope="module")
def pair_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LbLab]:
    """Two load-balancer nodes (keepalived moves the VIPs between them) and two workers."""
    with started_lab(tmp_path_factory.mktemp("lbpair"), "akp", 2, 2) as lab:
        yield lab
