"""A cluster created with its HAProxy load-balancer VM (loadBalancerSku HAProxy), and one with
loadBalancerSku none (kube-vip on the control plane), end to end on the lab (needs root).

What is real: PSRP to the hosts, the VMs' sshd and pinned host keys, HAProxy and keepalived on
the load-balancer VM (the machine's Debian packages, started by the lab's emulated systemctl),
TLS from kubectl and the kubernetes client through the VIP. What is emulated: Hyper-V, kubeadm
and the API server behind the VIP (the lab's small one).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from aksnet import api
from aksnet.cluster.create import CreateOptions
from aksnet.cluster.keys import ClusterKeys
from aksnet.loadbalancer.kubevip import MANIFEST_PATH
from aksnet.model.cluster import ClusterSpec
from aksnet.model.sizes import vm_size
from aksnet.remote.base import Cmdlet
from aksnet.remote.known_hosts import KnownHosts
from aksnet.state.macs import macs_of
from tests.infra.validation import validate_manifest
from tests.labcluster import Fabric
from tests.provision.conftest import VLAN

OPTIONS = CreateOptions(ssh_timeout=60.0)
KUBECTL = Path(sys.executable).parent / "kubectl"
DEADLINE = 60.0  # for keepalived to take the VIP and HAProxy's checks to find the API server
T = TypeVar("T")


def spec_of(fabric: Fabric, name: str, sku: str, workers: int) -> ClusterSpec:
    return api.new_cluster_spec(
        name=name,
        vnet=fabric.store.list_networks()[0].name,
        primary_network_plugin="flannel",
        node_pool_name="linux",
        node_count=workers,
        load_balancer_sku=sku,
    )


def eventually(attempt: Callable[[], T], what: str) -> T:
    """attempt()'s first answer that raises nothing, polled until DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    while True:
        try:
            return attempt()
        except Exception as error:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: no answer in {DEADLINE:g} s") from error
        time.sleep(0.5)


def kubectl_nodes(kubeconfig: Path) -> set[str]:
    done = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(kubeconfig), "get", "nodes", "-o", "name"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return {line.removeprefix("node/") for line in done.stdout.split()}


def client_nodes(kubeconfig: Path) -> set[str]:
    api_client = k8s_config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(kubeconfig)
    )
    try:
        items = k8s.CoreV1Api(api_client).list_node().items
        return {str(n.metadata.name) for n in items if n.metadata is not None}
    finally:
        api_client.close()


def vm_on_hosts(fabric: Fabric, name: str) -> tuple[str, dict[str, Any]]:
    """The host that has VM `name`, and its VM, adapter and VLAN settings in one dict."""
    sessions = fabric.hosts.open()
    try:
        for host, session in sessions.items():
            if name not in {v["Name"] for v in session.invoke(Cmdlet.of("Get-VM"))}:
                continue
            (vm,) = session.invoke(Cmdlet.of("Get-VM", Name=name))
            (adapter,) = session.invoke(Cmdlet.of("Get-VMNetworkAdapter", VMName=name))
            (vlan,) = session.invoke(Cmdlet.of("Get-VMNetworkAdapterVlan", VMName=name))
            return host, {**vm, **adapter, **vlan}
    finally:
        for session in sessions.values():
            session.close()
    raise AssertionError(f"VM {name} is on no host")


def test_a_cluster_with_its_haproxy_load_balancer(fabric: Fabric) -> None:
    spec = spec_of(fabric, "c1", "HAProxy", workers=2)
    nodes = ["c1-cp-0", "c1-linux-0", "c1-linux-1"]

    # What-if on nothing: the load-balancer VM and its configuration listed, nothing changed.
    plan = api.new_cluster(fabric.store, spec, fabric.hosts, what_if=True, options=OPTIONS)
    titles = [r.title for r in plan.run.changes]
    assert sorted(t.split()[1] for t in titles if t.startswith("New-VM")) == sorted(
        ["c1-lb-0", *nodes]
    )
    lb_entry = "Configure the load balancer on c1-lb-0 (once its VM runs)"
    assert lb_entry in titles
    assert titles.index(lb_entry) < titles.index("Set up Linux nodes on c1-cp-0 (once its VM runs)")
    assert fabric.store.list_clusters() == [] and fabric.store.allocations() == []
    assert fabric.vms_on_hosts() == {"hci1": [], "hci2": []}

    created = api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    lb_titles = [r.title for r in created.run.changes if r.host == "c1-lb-0"]
    assert "start haproxy on c1-lb-0" in lb_titles and "start keepalived on c1-lb-0" in lb_titles
    assert not any("load-balancer" in w for w in created.warnings)

    view = api.get_cluster(fabric.store, "c1").to_dict()
    roles = {n["Name"]: n["Role"] for n in view["Nodes"]}
    assert roles == {
        "c1-cp-0": "control-plane",
        "c1-linux-0": "worker",
        "c1-linux-1": "worker",
        "c1-lb-0": "loadbalancer",
    }
    assert view["LoadBalancer"]["Vms"] == ["c1-lb-0"]
    lb = {n["Name"]: n for n in view["Nodes"]}["c1-lb-0"]
    assert {n["Name"]: n["Address"] for n in created.nodes}["c1-lb-0"] == lb["Address"]

    host, found = vm_on_hosts(fabric, "c1-lb-0")
    assert created.placement["c1-lb-0"] == host
    size = vm_size(spec.load_balancer.vm_size)
    assert (found["ProcessorCount"], found["MemoryStartup"]) == (size.cpu, size.memory_bytes)
    assert found["MacAddress"] == lb["Mac"].replace(":", "").upper()
    assert found["AccessVlanId"] == VLAN
    _check_haproxy_on_the_vm(fabric, lb["Address"], created.api_vip, view)

    # The admin kubeconfig reaches the API server through the VIP and HAProxy.
    credential = api.get_credential(fabric.store, "c1", config_path=fabric.tmp / "kube")
    kubeconfig = Path(credential.path)
    server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    assert server == f"https://{created.api_vip}:6443"
    assert eventually(lambda: kubectl_nodes(kubeconfig), "kubectl get nodes") == set(nodes)
    assert eventually(lambda: client_nodes(kubeconfig), "list_node") == set(nodes)

    again = api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    assert again.run.changes == [] and again.run.records == []
    before = (fabric.store.allocations(), macs_of(fabric.store))
    replan = api.new_cluster(fabric.store, spec, fabric.hosts, what_if=True, options=OPTIONS)
    assert replan.run.changes == []
    assert (fabric.store.allocations(), macs_of(fabric.store)) == before

    _scale_the_control_plane(fabric, kubeconfig, lb["Address"], created.api_vip)

    view = api.get_cluster(fabric.store, "c1").to_dict()
    removed = api.remove_cluster(fabric.store, "c1", fabric.hosts)
    held = sorted([*(n["Address"] for n in view["Nodes"]), created.api_vip])
    assert sorted(removed.released_addresses) == held and lb["Address"] in held
    assert lb["Mac"] in removed.released_macs
    assert fabric.vms_on_hosts() == {"hci1": [], "hci2": []}
    assert fabric.store.allocations() == [] and macs_of(fabric.store) == []


def _scale_the_control_plane(fabric: Fabric, kubeconfig: Path, lb_address: str, vip: str) -> None:
    """1 -> 3 -> 1 control planes: the API frontend's backends follow, by a seamless reload."""
    reload = "reload haproxy on c1-lb-0 (seamless: established connections stay)"
    for count in (3, 1):
        scaled = api.set_cluster(
            fabric.store, "c1", fabric.hosts, control_plane_node_count=count, options=OPTIONS
        )
        assert reload in [r.title for run in scaled.runs for r in run.changes]
        nodes = {n["Name"]: n["Address"] for n in scaled.create.nodes}
        planes = sorted(a for n, a in nodes.items() if "-cp-" in n)
        assert len(planes) == count
        assert _api_backends(fabric, lb_address) == planes
        listed = eventually(lambda: kubectl_nodes(kubeconfig), "kubectl get nodes")
        assert {n for n in listed if "-cp-" in n} == {n for n in nodes if "-cp-" in n}


def _api_backends(fabric: Fabric, address: str) -> list[str]:
    """The addresses of the API frontend's servers in haproxy.cfg on the load-balancer VM."""
    keys = ClusterKeys.beside(fabric.store.path, "c1")
    known = KnownHosts(fabric.tmp / "known_lb_scale")
    known.pin(address, 22, keys.host_key("c1-lb-0").public_line)
    with fabric.ssh("c1", address, known) as ssh:
        config = ssh.run(["cat", "/etc/haproxy/haproxy.cfg"]).text
    section = config.split("\nbackend api-server\n", 1)[1].split("\n\n", 1)[0]
    servers = [
        line.split()[2] for line in section.splitlines() if line.strip().startswith("server")
    ]
    return sorted(s.rsplit(":", 1)[0] for s in servers)


def _check_haproxy_on_the_vm(fabric: Fabric, address: str, vip: str, view: dict[str, Any]) -> None:
    """HAProxy's API frontend on the VIP, to the control plane; the VIP held by keepalived."""
    keys = ClusterKeys.beside(fabric.store.path, "c1")
    known = KnownHosts(fabric.tmp / "known_lb")
    known.pin(address, 22, keys.host_key("c1-lb-0").public_line)
    control_plane = {n["Name"]: n["Address"] for n in view["Nodes"]}["c1-cp-0"]
    with fabric.ssh("c1", address, known) as ssh:
        assert ssh.run(["hostname"]).text.strip() == "c1-lb-0"
        config = ssh.run(["cat", "/etc/haproxy/haproxy.cfg"]).text
        assert f"bind {vip}:6443" in config
        assert f"{control_plane}:6443" in config
        eventually(lambda: _has(ssh.run(["ip", "-4", "-o", "addr"]).text, vip), "the API VIP")


def _has(text: str, part: str) -> bool:
    assert part in text
    return True


def test_load_balancer_sku_none_writes_kube_vip_and_makes_no_vm(fabric: Fabric) -> None:
    spec = spec_of(fabric, "c2", "none", workers=1)
    created = api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    assert any("LoadBalancer Services get no address" in w for w in created.warnings)
    on_hosts = fabric.vms_on_hosts()
    assert sorted(on_hosts["hci1"] + on_hosts["hci2"]) == ["c2-cp-0", "c2-linux-0"]
    view = api.get_cluster(fabric.store, "c2").to_dict()
    assert view["LoadBalancer"]["Vms"] == [] and view["LoadBalancer"]["Sku"] == "none"
    assert {n["Role"] for n in view["Nodes"]} == {"control-plane", "worker"}
    titles = [r.title for r in created.run.changes]
    assert f"write {MANIFEST_PATH} (mode 644) on c2-cp-0" in titles
    assert not any(t.endswith("on c2-linux-0") and MANIFEST_PATH in t for t in titles)

    addresses = {n["Name"]: n["Address"] for n in view["Nodes"]}
    keys = ClusterKeys.beside(fabric.store.path, "c2")
    known = KnownHosts(fabric.tmp / "known_cp")
    known.pin(addresses["c2-cp-0"], 22, keys.host_key("c2-cp-0").public_line)
    with fabric.ssh("c2", addresses["c2-cp-0"], known) as ssh:
        manifest = yaml.safe_load(ssh.run(["sudo", "-n", "cat", MANIFEST_PATH]).text)
    validate_manifest(manifest)
    (container,) = manifest["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert created.api_vip in env.values()

    again = api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    assert again.run.changes == []
    removed = api.remove_cluster(fabric.store, "c2", fabric.hosts)
    assert sorted(removed.released_addresses) == sorted([*addresses.values(), created.api_vip])
