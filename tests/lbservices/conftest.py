"""The pieces of a lab cluster with the HAProxy load balancer, for Sync-AksHciLoadBalancer.

One load-balancer node (the real HAProxy and keepalived, started by the lab's emulated
systemctl) and two Linux workers, each running the lab's EMULATED kube-proxy
(aksnet.lab.linux.proxystub, as the emulated `kubeadm join` starts it), in a test slot of the
lab network; the EMULATED API server runs on the machine (127.0.0.1) with the cluster's state
file, which the workers follow. The store holds network net1 (VIP pool .200-.204 of the test
subnet) and cluster c1 (the API VIP .200). Root only (skipped otherwise); everything is torn
down when the module ends, also when a test fails.

Until cluster creation provisions the load-balancer VMs, these are assembled directly; the
product code under test (aksnet.loadbalancer.apply.sync_with) is the same.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import kubernetes
import pytest

from aksnet.cluster.records import api_vip
from aksnet.lab import k8sregistry
from aksnet.lab.k8sapi import pki, process
from aksnet.lab.k8sapi.objects import ObjectStore
from aksnet.lab.k8sapi.resources import EmulatedCluster
from aksnet.lab.k8sapi.server import ApiServer
from aksnet.lab.linux import LabNetwork, LinuxVmRuntime, state, svcstub, sweep
from aksnet.loadbalancer.apply import ClusterConnections
from aksnet.loadbalancer.setup import LoadBalancerVm
from aksnet.model.cluster import cluster_spec
from aksnet.model.network import network_setting
from aksnet.remote.known_hosts import KnownHosts
from aksnet.state.store import Store
from tests.k8sapi.fixtures import client_for
from tests.linuxlab.conftest import TEST_SLOTS, Lab, Vm, _needs_root
from tests.loadbalancer.conftest import _listening, _session, wait_for

WORKERS = ("c1-worker-1", "c1-worker-2")


@dataclass
class ServicesLab:
    lab: Lab
    store: Store
    lb_vm: Vm
    workers: dict[str, Vm]
    connections: ClusterConnections
    core: kubernetes.client.CoreV1Api
    kubeconfig: Path
    subnet_prefix: str  # "198.19.x." of the test slot

    @property
    def lab_dir(self) -> Path:
        return self.lab.lab_dir

    def address(self, host: int) -> str:
        return f"{self.subnet_prefix}{host}"

    def run_on_lb(self, *argv: str) -> str:
        """Run argv as root inside the load-balancer node; its output."""
        pid = state.read(self.lab_dir)["nodes"][self.lb_vm.spec.name]["pid"]
        enter = ["nsenter", "--target", str(pid), "--mount", "--net", "--"]
        return subprocess.run([*enter, *argv], capture_output=True, text=True, check=True).stdout


def start_proxy(lab_dir: Path, vm: Vm, node: str, endpoint: str) -> None:
    """The EMULATED kube-proxy in the worker, started as the emulated `kubeadm join` does."""
    pid = state.read(lab_dir)["nodes"][vm.spec.name]["pid"]
    code = (
        "import sys; from pathlib import Path; from aksnet.lab.linux import proxystub; "
        "proxystub.start_after_join(Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4])"
    )
    enter = ["nsenter", "--target", str(pid), "--mount", "--net", "--"]
    argv = [*enter, sys.executable, "-c", code, str(lab_dir), vm.address, endpoint, node]
    subprocess.run(argv, check=True, capture_output=True)


@contextlib.contextmanager
def running_api(base: Path, lab_dir: Path, endpoint: str) -> Iterator[tuple[ApiServer, Path]]:
    """The EMULATED API server on 127.0.0.1 with the cluster's shared state file."""
    ca = pki.make_ca()
    ca_cert, _ = pki.write_pair(ca, base / "pki", "ca")
    cert, key = pki.write_pair(pki.make_server_cert(ca, ["127.0.0.1"]), base / "pki", "apiserver")
    objects = ObjectStore(process.state_file(lab_dir, endpoint))
    cluster = EmulatedCluster(
        objects, service_subnet="10.96.0.0/12", lab_dir=lab_dir, endpoint=endpoint
    )
    server = ApiServer(cluster, "127.0.0.1", 0, ca_cert=ca_cert, server_cert=cert, server_key=key)
    kubeconfig = base / "admin.conf"
    admin = pki.kubeconfig(f"https://127.0.0.1:{server.port}", ca, pki.make_client_cert(ca))
    pki.write_private(kubeconfig, admin.encode())
    with server:
        yield server, kubeconfig


@pytest.fixture(scope="module")
def services_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServicesLab]:
    _needs_root()
    base = tmp_path_factory.mktemp("lbservices")
    lab_dir, seeds = base / "lab", base / "seeds"
    lab_dir.mkdir()
    seeds.mkdir()
    network = LabNetwork(lab_dir, "aks", slots=TEST_SLOTS).up()
    runtime = LinuxVmRuntime(lab_dir, network)
    lab = Lab(lab_dir, seeds, network, runtime)
    prefix = str(network.subnet.network_address).rsplit(".", 1)[0] + "."
    store = Store(base / "aksnet.db")
    stack = contextlib.ExitStack()
    try:
        store.add_network(
            network_setting(
                name="net1",
                vswitch_name="sw",
                vip_pool_start=f"{prefix}200",
                vip_pool_end=f"{prefix}204",
            )
        )
        spec = cluster_spec(name="c1", vnet="net1")
        store.add_cluster(spec)
        endpoint = f"{api_vip(store, spec)}:6443"
        k8sregistry.init_cluster(lab_dir, endpoint, "10.244.0.0/16", "10.96.0.0/12")
        k8sregistry.register_node(
            lab_dir, endpoint, "c1-cp-0", os_name="linux", address=f"{prefix}9",
            role="control-plane",
        )  # fmt: skip
        lb_vm = lab.vm(1)
        runtime.start(lb_vm.spec)
        svcstub.install(lab_dir, lb_vm.spec.name)
        session = stack.enter_context(_session(lb_vm, KnownHosts(base / "known_hosts")))
        workers = {}
        for index, node in enumerate(WORKERS, start=2):
            vm = workers[node] = lab.vm(index)
            runtime.start(vm.spec)
            k8sregistry.register_node(
                lab_dir, endpoint, node, os_name="linux", address=vm.address, role="worker"
            )
            start_proxy(lab_dir, vm, node, endpoint)
        _, kubeconfig = stack.enter_context(running_api(base, lab_dir, endpoint))
        api_client = client_for(kubeconfig)
        stack.callback(api_client.close)
        connections = ClusterConnections(
            api_client, [LoadBalancerVm("c1-lb-0", lb_vm.address, session)]
        )
        core = kubernetes.client.CoreV1Api(api_client)
        yield ServicesLab(lab, store, lb_vm, workers, connections, core, kubeconfig, prefix)
    finally:
        stack.close()
        runtime.stop_all()
        network.down()
        sweep(lab_dir)
        store.close()


__all__ = ["ServicesLab", "_listening", "services_lab", "wait_for"]
