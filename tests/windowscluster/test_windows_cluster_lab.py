"""Issue 4's acceptance with a Windows pool, for flannel and for Calico (needs root): two lab
hosts, a static network setting, 1 control plane + 2 Linux workers + 1 Windows worker.

Shown: the VMs on the hosts with their pool's size, the VLAN, the MAC, the seed ISO and the disk
(the Windows VM on the Windows image with the MicrosoftWindows template); every Linux node over
SSH with its pinned key; the Windows node over PSRP with its pinned certificate: joined, its HNS
network ("flannel.4096" / "Calico", VNI 4096), the firewall rule for UDP 4789 and kube-proxy's
configuration (WinOverlay, the source VIP of the pod CIDR Kubernetes gave it); a second apply
with zero actions; a what-if that lists the actions (before) or none (after) and changes
nothing; Remove returning every address and MAC and leaving no VM.

What is real: PSRP to the hosts and to the Windows node (TLS with the seeded certificate,
NTLM), sshd on the Linux nodes. What is emulated (aksnet.lab): Hyper-V, the Windows node (HNS,
services, kubeadm.exe) and kubeadm/kubectl on Linux nodes (they check their input, create
nothing).
"""

from __future__ import annotations

import ipaddress
import json
import logging
from typing import Any

import pytest
import yaml

from aksnet import api
from aksnet.cluster.cni import CNI_FILE
from aksnet.cluster.create import CreateOptions
from aksnet.cluster.keys import ClusterKeys
from aksnet.infra.provision import DEFAULT_IMAGE, DEFAULT_ROOT, DEFAULT_WINDOWS_IMAGE
from aksnet.infra.windowsjoin import KUBELET_CONF
from aksnet.infra.windowsnode import KUBE_PROXY_CONFIG, network_info
from aksnet.model.cluster import ClusterSpec
from aksnet.model.sizes import vm_size
from aksnet.remote import psfiles
from aksnet.remote.base import Cmdlet
from aksnet.remote.known_hosts import KnownHosts
from aksnet.state.macs import macs_of
from tests.labcluster import Fabric, windows_session
from tests.provision.conftest import VLAN

OPTIONS = CreateOptions(ssh_timeout=60.0, winrm_timeout=60.0, network_timeout=30.0)
WINDOWS_SIZE = "Standard_D2s_v3"
HNS_NETWORK = {"flannel": "flannel.4096", "calico": "Calico"}


def windows_spec(fabric: Fabric, name: str, plugin: str) -> ClusterSpec:
    return api.new_cluster_spec(
        name=name,
        vnet=fabric.store.list_networks()[0].name,
        primary_network_plugin=plugin,
        linux_node_count=2,
        windows_node_count=1,
        windows_node_vm_size=WINDOWS_SIZE,
    )


def store_snapshot(fabric: Fabric) -> tuple[Any, ...]:
    store = fabric.store
    return (store.list_clusters(), store.allocations(), macs_of(store))


@pytest.mark.parametrize("plugin", ["flannel", "calico"])
def test_a_cluster_with_a_windows_worker_end_to_end(
    fabric: Fabric, plugin: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    name = f"w{plugin[:3]}"
    spec = windows_spec(fabric, name, plugin)
    linux = [f"{name}-cp-0", f"{name}-{name}-linux-0", f"{name}-{name}-linux-1"]
    windows = f"{name}-{name}-windows-0"
    lb = f"{name}-lb-0"  # the HAProxy load-balancer VM

    # What-if on nothing: every action listed (Windows ones per VM), nothing changed anywhere.
    before = store_snapshot(fabric)
    plan = api.new_cluster(fabric.store, spec, fabric.hosts, what_if=True, options=OPTIONS)
    titles = [r.title for r in plan.run.changes]
    assert sorted(t.split()[1] for t in titles if t.startswith("New-VM")) == sorted(
        [*linux, windows, lb]
    )
    assert f"Join Windows nodes on {windows} (once its VM runs)" in titles
    assert f"Set up Windows nodes on {windows} (once its VM runs)" in titles
    assert f"Set up Linux nodes on {windows} (once its VM runs)" not in titles
    assert store_snapshot(fabric) == before
    assert fabric.vms_on_hosts() == {"hci1": [], "hci2": []}
    assert not ClusterKeys.beside(fabric.store.path, name).folder.exists()

    created = api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    changed = [r.title for r in created.run.changes]
    assert f"kubeadm.exe join --config C:\\k\\kubeadm-join.yaml on {windows}" in changed
    keys = ClusterKeys.beside(fabric.store.path, name)
    password = keys.windows_password()
    token, _ = keys.join_secrets()
    for secret in (password, token.reveal()):
        assert secret not in caplog.text and secret not in json.dumps(created.to_dict())

    addresses = {n["Name"]: n["Address"] for n in created.nodes}
    assert sorted(addresses) == sorted([*linux, windows, lb])
    _check_vms(fabric, created.placement, spec, windows)
    _check_linux_nodes(fabric, name, {vm: addresses[vm] for vm in linux}, plugin)
    cidrs = _pod_cidrs(fabric, name, addresses[linux[0]], [*linux, windows])
    cidr = cidrs[windows]
    assert len(set(cidrs.values())) == 4  # one /24 per node, the Windows one its own
    _check_windows_node(fabric, name, windows, addresses[windows], plugin, cidr, spec)

    again = api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    assert again.run.changes == [] and again.run.records == []
    after = store_snapshot(fabric)
    replan = api.new_cluster(fabric.store, spec, fabric.hosts, what_if=True, options=OPTIONS)
    assert replan.run.changes == []
    assert store_snapshot(fabric) == after

    view = api.get_cluster(fabric.store, name).to_dict()
    removed = api.remove_cluster(fabric.store, name, fabric.hosts)
    assert sorted(removed.released_addresses) == sorted([*addresses.values(), created.api_vip])
    assert sorted(removed.released_macs) == sorted(n["Mac"] for n in view["Nodes"])
    assert len(removed.released_macs) == 5
    assert fabric.store.allocations() == [] and macs_of(fabric.store) == []
    assert fabric.vms_on_hosts() == {"hci1": [], "hci2": []}
    assert not keys.folder.exists()


def _check_vms(fabric: Fabric, placement: dict[str, str], spec: ClusterSpec, windows: str) -> None:
    assert set(placement.values()) == {"hci1", "hci2"}  # spread over both hosts
    macs = {m.owner: m for m in macs_of(fabric.store)}
    sessions = fabric.hosts.open()
    try:
        for vm, host in placement.items():
            is_windows = vm == windows
            size = vm_size(
                WINDOWS_SIZE if is_windows else
                spec.control_plane_vm_size if "-cp-" in vm else
                spec.load_balancer.vm_size if "-lb-" in vm else spec.node_pools[0].vm_size
            )  # fmt: skip
            folder = rf"{DEFAULT_ROOT}\{vm}"
            out = sessions[host].invoke(
                Cmdlet.of("Get-VM", Name=vm),
                Cmdlet.of("Get-VMNetworkAdapter", VMName=vm),
                Cmdlet.of("Get-VMNetworkAdapterVlan", VMName=vm),
                Cmdlet.of("Get-VMDvdDrive", VMName=vm),
                Cmdlet.of("Get-VMFirmware", VMName=vm),
                Cmdlet.of("Get-VHD", Path=[rf"{folder}\{vm}.vhdx"]),
            )
            dvd, vhd = _one(out, "DvdMediaType"), _one(out, "ParentPath")
            got = {**_one(out, "Generation"), **_one(out, "MacAddress")}
            got.update({**_one(out, "OperationMode"), **_one(out, "SecureBootTemplate")})
            assert got["State"] in ("Running", 2)
            assert (got["ProcessorCount"], got["MemoryStartup"]) == (size.cpu, size.memory_bytes)
            assert str(got["MacAddress"]).replace("-", "").upper() == f"{macs[vm].mac:012X}"
            assert got["AccessVlanId"] == VLAN
            assert dvd["Path"].lower() == rf"{folder}\seed.iso".lower()
            template = "MicrosoftWindows" if is_windows else "MicrosoftUEFICertificateAuthority"
            assert got["SecureBootTemplate"] == template
            image = DEFAULT_WINDOWS_IMAGE if is_windows else DEFAULT_IMAGE
            assert str(vhd["ParentPath"]).lower() == image.lower()
    finally:
        for session in sessions.values():
            session.close()


def _one(output: list[Any], key: str) -> dict[str, Any]:
    """The one object of a pipeline's output that has key (each cmdlet's objects have theirs)."""
    (found,) = [o for o in output if isinstance(o, dict) and key in o]
    assert isinstance(found, dict)
    return found


def _check_linux_nodes(fabric: Fabric, name: str, addresses: dict[str, str], plugin: str) -> None:
    keys = ClusterKeys.beside(fabric.store.path, name)
    for vm, address in addresses.items():
        known = KnownHosts(fabric.tmp / f"known_{vm}")
        known.pin(address, 22, keys.host_key(vm).public_line)  # the key aksnet generated
        with fabric.ssh(name, address, known) as ssh:
            assert ssh.run(["hostname"]).text.strip() == vm
            if vm.endswith("-cp-0"):  # the CNI was applied through it
                _check_cni(list(yaml.safe_load_all(ssh.run(["cat", CNI_FILE]).text)), plugin)


def _check_cni(manifest: list[dict[str, Any]], plugin: str) -> None:
    """The overlay Windows nodes can join: VXLAN, VNI 4096, UDP 4789 (Calico: VXLAN pool)."""
    if plugin == "flannel":
        (config,) = [d for d in manifest if d and d["kind"] == "ConfigMap"]
        net_conf = json.loads(config["data"]["net-conf.json"])
        assert net_conf["Backend"] == {"Type": "vxlan", "VNI": 4096, "Port": 4789}
    else:
        (installation,) = [d for d in manifest if d and d["kind"] == "Installation"]
        (pool,) = installation["spec"]["calicoNetwork"]["ipPools"]
        assert pool["encapsulation"] == "VXLAN"


def _pod_cidrs(fabric: Fabric, name: str, control_plane: str, nodes: list[str]) -> dict[str, str]:
    """What Kubernetes (the lab's registry, through kubectl on the control plane) gave each node."""
    keys = ClusterKeys.beside(fabric.store.path, name)
    known = KnownHosts(fabric.tmp / "known_cp")
    known.pin(control_plane, 22, keys.host_key(f"{name}-cp-0").public_line)
    argv = ["sudo", "-n", "kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", "get", "node"]
    with fabric.ssh(name, control_plane, known) as ssh:
        return {
            node: ssh.run([*argv, node, "-o", "jsonpath={.spec.podCIDR}"]).text.strip()
            for node in nodes
        }


def _check_windows_node(
    fabric: Fabric,
    name: str,
    vm: str,
    address: str,
    plugin: str,
    cidr: str,
    spec: ClusterSpec,
) -> None:
    subnet = ipaddress.IPv4Network(cidr)
    assert subnet.prefixlen == spec.node_cidr_mask
    assert subnet.subnet_of(ipaddress.IPv4Network(spec.pod_cidr))
    session = windows_session(fabric, name, vm, address)
    try:
        assert session.invoke(Cmdlet.of("Test-Path", LiteralPath=KUBELET_CONF)) == [True]
        networks = {n["Name"]: network_info(n) for n in session.invoke(Cmdlet.of("Get-HnsNetwork"))}
        pod_network = networks[HNS_NETWORK[plugin]]
        assert (pod_network.type, pod_network.vni) == ("Overlay", 4096)
        assert pod_network.address_prefix == cidr
        (rule,) = session.invoke(Cmdlet.of("Get-NetFirewallRule", Name=["aksnet-udp-4789"]))
        assert (rule["Protocol"], rule["Direction"], rule["Action"]) == ("UDP", "Inbound", "Allow")
        assert [str(p) for p in rule["LocalPort"]] == ["4789"]
        config = json.loads(psfiles.get(session, KUBE_PROXY_CONFIG))
        assert config["featureGates"] == {"WinOverlay": True}
        assert config["mode"] == "kernelspace"
        assert config["winkernel"]["networkName"] == HNS_NETWORK[plugin]
        assert config["winkernel"]["sourceVip"] == str(subnet.network_address + 2)
    finally:
        session.close()
