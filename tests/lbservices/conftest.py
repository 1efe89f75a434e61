"""A lab cluster created with its HAProxy load balancer, for Sync-AksHciLoadBalancer.

New-AksHciCluster (api.new_cluster) on a two-host lab (prefix "aks", slots in 198.19.0.0/16)
creates a flannel cluster with one control plane, two Linux workers and the load-balancer VM
c1-lb-0; its network's VIP pool is .200-.204 of the lab subnet (the API VIP takes .200). The
emulated `kubeadm join` starts the lab's EMULATED kube-proxy on each worker
(aksnet.lab.linux.proxystub), which serves every NodePort with the node's name. Root only
(skipped otherwise); the cluster and the lab are torn down when the module ends, also when a
test fails.

What is real: PSRP to the hosts, SSH with pinned host keys, HAProxy and keepalived on the
load-balancer VM, TLS to the API through the VIP, the kubernetes client and kubectl, HTTP from
the machine to the VIPs. Emulated: Hyper-V, kubeadm, the API server, kube-proxy and the pods.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import kubernetes
import pytest

from aksnet import api
from aksnet.cluster.create import CreateOptions
from aksnet.cluster.hosts import HostConnections, close_all
from aksnet.lab.fabric import Lab, LabSpec
from aksnet.lab.linux import sweep
from aksnet.loadbalancer.apply import ClusterConnections, connect
from aksnet.model.network import network_setting
from aksnet.remote.psrp import PSRPSession
from aksnet.state.store import Store
from tests.linuxlab.conftest import _needs_root
from tests.provision.conftest import VLAN, node_image

SLOTS = range(256, 512)
WORKERS = ("c1-linux-0", "c1-linux-1")
OPTIONS = CreateOptions(ssh_timeout=60.0)


@dataclass
class ServicesLab:
    lab: Lab
    hosts: HostConnections
    store: Store
    connections: ClusterConnections  # for the tests' own looks (the sync connects itself)
    core: kubernetes.client.CoreV1Api
    kubeconfig: Path
    subnet_prefix: str  # "198.19.x." of the lab

    @property
    def lab_dir(self) -> Path:
        return self.lab.lab_dir

    def address(self, host: int) -> str:
        return f"{self.subnet_prefix}{host}"

    def run_on_lb(self, *argv: str) -> str:
        """Run argv as root on the load-balancer VM (over its SSH session); its output."""
        return self.connections.vms[0].shell.run(["sudo", "-n", *argv]).text


@pytest.fixture(scope="module")
def services_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServicesLab]:
    _needs_root()
    base = tmp_path_factory.mktemp("lbservices")
    lab = Lab(base / "lab", LabSpec(hosts=2), prefix="aks", slots=SLOTS)
    sessions: dict[str, PSRPSession] = {}
    store = Store(base / "home" / "aksnet.db")
    hosts: HostConnections | None = None
    connections: ClusterConnections | None = None
    try:
        lab.start()
        sessions = HostConnections.from_lab(lab.lab_dir).open()
        for session in sessions.values():
            node_image(session)
        subnet = lab.network.subnet
        prefix = str(subnet.network_address).rsplit(".", 1)[0] + "."
        store.add_network(
            network_setting(
                name="net1",
                vswitch_name="LabSwitch",
                vlan_id=VLAN,
                ip_address_prefix=str(subnet),
                gateway=str(lab.network.gateway),
                dns_servers=[str(lab.network.gateway)],
                k8s_node_ip_pool_start=f"{prefix}10",
                k8s_node_ip_pool_end=f"{prefix}40",
                vip_pool_start=f"{prefix}200",
                vip_pool_end=f"{prefix}204",
            )
        )
        hosts = HostConnections.from_lab(lab.lab_dir)
        spec = api.new_cluster_spec(
            name="c1",
            vnet="net1",
            primary_network_plugin="flannel",
            node_pool_name="linux",
            node_count=len(WORKERS),
            load_balancer_sku="HAProxy",
        )
        api.new_cluster(store, spec, hosts, options=OPTIONS)
        credential = api.get_credential(store, "c1", config_path=base / "kube")
        connections = connect(store, "c1")
        core = kubernetes.client.CoreV1Api(connections.api_client)
        yield ServicesLab(lab, hosts, store, connections, core, Path(credential.path), prefix)
    finally:
        try:
            if connections is not None:
                connections.close()
            if hosts is not None and store.list_clusters():
                api.remove_cluster(store, "c1", hosts)
        finally:
            store.close()
            close_all(sessions)
            lab.stop()
            sweep(lab.lab_dir)
