"""A cluster with a Windows worker in the DHCP network model on the lab (needs root).

The Windows VM's seed says dhcp4 and its WinRM certificate names the VM only (DNS SAN; no IP SAN:
the address is not known when the seed is made). aksnet learns the address from the host,
connects there and matches the pinned certificate by the VM name (tls_server_name). Shown: the
node joined, its HNS network made by flanneld present, its address learnt and shown by Get; the
same certificate checked against the address itself is refused.

Emulated: the lab's DHCP, Hyper-V, the Windows node (HNS, kubeadm.exe), kubeadm/kubectl on Linux.
Real: PSRP over HTTPS with NTLM to the Windows node, the TLS certificate checks, SSH.
"""

from __future__ import annotations

import pytest

from aksnet import api
from aksnet.cluster.create import CreateOptions
from aksnet.errors import AksNetError
from aksnet.lab import k8sregistry
from aksnet.remote.base import Cmdlet
from tests.labcluster import Fabric, windows_session

OPTIONS = CreateOptions(ssh_timeout=60.0, winrm_timeout=60.0, network_timeout=30.0)


def test_a_windows_worker_joins_a_dhcp_cluster(fabric: Fabric) -> None:
    fabric.add_dhcp_network()
    spec = api.new_cluster_spec(
        name="wd",
        vnet="dhcpnet",
        primary_network_plugin="flannel",
        linux_node_count=1,
        windows_node_count=1,
        windows_node_vm_size="Standard_D2s_v3",
    )
    windows = "wd-wd-windows-0"
    created = api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    address = {n["Name"]: n["Address"] for n in created.nodes}[windows]
    assert address and fabric.store.learnt_addresses(cluster="wd")[windows] == address
    shown = {n["Name"]: n for n in api.get_cluster(fabric.store, "wd").to_dict()["Nodes"]}
    assert (shown[windows]["Address"], shown[windows]["AddressSource"]) == (address, "dhcp")

    vip = created.api_vip
    nodes = (k8sregistry.read_cluster(fabric.lab.lab_dir, f"{vip}:6443") or {})["nodes"]
    assert nodes[windows]["os"] == "windows" and nodes[windows]["address"] == address

    session = windows_session(fabric, "wd", windows, address, windows)
    try:
        networks = {n["Name"]: n for n in session.invoke(Cmdlet.of("Get-HnsNetwork"))}
        assert "flannel.4096" in networks and "External" in networks
    finally:
        session.close()
    by_address = windows_session(fabric, "wd", windows, address)
    try:  # the certificate names the VM, not the address: checked by address, it is refused
        with pytest.raises(AksNetError, match=r"(?i)certificate|hostname|tls"):
            by_address.invoke(Cmdlet.of("Get-HnsNetwork"))
    finally:
        by_address.close()

    again = api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    assert again.run.changes == []
    api.remove_cluster(fabric.store, "wd", fabric.hosts)
    assert fabric.store.learnt_addresses(cluster="wd") == {}
