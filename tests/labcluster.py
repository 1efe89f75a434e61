"""The one way tests build a lab for clusters: a two-host lab shared by a test package, a fresh
store per test holding the lab's network, and what a test needs to look at what a create made.

A conftest.py takes its fixtures from here, with its own lab prefix (which names the lab's
bridge and namespaces, so that a leftover is traced to its package):

    lab = lab_fixture("akc")
    fabric = fabric_fixture()

The hosts are emulated Hyper-V behind real PSRP; a Linux VM they start is a namespace with a
real sshd and the lab's emulated kubeadm/kubectl; a Windows VM is a namespace with an emulated
Windows node served over HTTPS on port 5986 (aksnet.lab). The lab takes a free /24 of
198.19.0.0/16 (slots 256-511), never the lab's own 198.18.0.0/16. Root only: skipped otherwise.

Tests stay independent on a shared lab: each gets its own store, and every cluster recorded in
it is removed when the test ends, also when it failed halfway.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aksnet.cluster.hosts import HostConnections, close_all
from aksnet.cluster.keys import ClusterKeys
from aksnet.cluster.remove import remove_cluster
from aksnet.infra.windowsseed import WINRM_PORT
from aksnet.lab.fabric import Lab, LabSpec
from aksnet.lab.linux import sweep
from aksnet.model.network import network_setting
from aksnet.remote.base import Cmdlet, Credential, Endpoint
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.psrp import PSRPSession
from aksnet.remote.ssh import SSHSession
from aksnet.state.store import Store
from tests.linuxlab.conftest import _needs_root
from tests.provision.conftest import VLAN, lab_network

SLOTS = range(256, 512)  # 198.19.0.0/16: never a lab someone runs
CALLS = "/var/lib/aksnet-lab/k8s-calls.jsonl"  # the emulated kubeadm/kubectl's call log
ADMIN_USER = "clouduser"
DHCP_NETWORK = "dhcpnet"


@dataclass
class Fabric:
    """A test's view of the lab: its hosts, its own store and its temporary directory."""

    lab: Lab
    hosts: HostConnections
    store: Store
    tmp: Path

    def vms_on_hosts(self) -> dict[str, list[str]]:
        sessions = self.hosts.open()
        try:
            return {
                h: sorted(v["Name"] for v in s.invoke(Cmdlet.of("Get-VM")))
                for h, s in sessions.items()
            }
        finally:
            close_all(sessions)

    def add_dhcp_network(self) -> str:
        """Add network "dhcpnet" in the DHCP model (the lab's DHCP gives the node addresses;
        VIPs .220-.230 of the lab subnet, clear of the static network's) and return its name."""
        subnet = self.lab.network.subnet
        self.store.add_network(
            network_setting(
                name=DHCP_NETWORK,
                vswitch_name="LabSwitch",
                vlan_id=VLAN,
                vip_pool_start=str(subnet.network_address + 220),
                vip_pool_end=str(subnet.network_address + 230),
            )
        )
        return DHCP_NETWORK

    def ssh(self, cluster: str, address: str, known_hosts: KnownHosts) -> SSHSession:
        """A session with the cluster's admin key, trusting only what known_hosts pins."""
        admin = ClusterKeys.beside(self.store.path, cluster).admin()
        return SSHSession(
            address, username=ADMIN_USER, private_key=admin.to_paramiko(), known_hosts=known_hosts
        )


def k8s_calls(ssh: SSHSession) -> list[dict[str, Any]]:
    """Every call the node's emulated kubeadm/kubectl recorded, oldest first."""
    text = ssh.run(["sudo", "-n", "cat", CALLS]).text
    return [json.loads(line) for line in text.splitlines()]


def windows_session(
    fabric: Fabric, cluster: str, vm: str, address: str, server_name: str | None = None
) -> PSRPSession:
    """A session to the Windows node trusting only the certificate aksnet generated for it,
    with NTLM and the generated password, as aksnet pins it; server_name: the name to match
    the certificate by when address is not the one it was made for (a DHCP node's)."""
    keys = ClusterKeys.beside(fabric.store.path, cluster)
    endpoint = Endpoint(
        address,
        port=WINRM_PORT,
        ssl=True,
        auth="ntlm",
        cert_validation=str(keys.winrm_certificate_path(vm)),
        extra={"tls_server_name": server_name} if server_name else {},
    )
    return PSRPSession(endpoint, Credential(ADMIN_USER, keys.windows_password()))


def running_lab(tmp_path_factory: pytest.TempPathFactory, prefix: str) -> Iterator[Lab]:
    """A started two-host lab (it writes the Linux and Windows stand-in images on each host),
    stopped and swept when the caller is done with it."""
    _needs_root()
    lab_dir = tmp_path_factory.mktemp(f"lab-{prefix}")
    the_lab = Lab(lab_dir, LabSpec(hosts=2), prefix=prefix, slots=SLOTS)
    try:
        the_lab.start()
        yield the_lab
    finally:
        the_lab.stop()
        sweep(lab_dir)


def fresh_fabric(lab: Lab, tmp_path: Path) -> Iterator[Fabric]:
    """A new store with the lab's network; every cluster recorded in it is removed afterwards."""
    store = Store(tmp_path / "home" / "aksnet.db")
    try:
        store.add_network(lab_network(lab))
        yield Fabric(lab, HostConnections.from_lab(lab.lab_dir), store, tmp_path)
    finally:
        try:  # a test that failed halfway must not leave its VMs to the next test
            for spec in store.list_clusters():
                remove_cluster(store, spec.name, HostConnections.from_lab(lab.lab_dir))
        finally:
            store.close()


def lab_fixture(prefix: str) -> Any:
    """The `lab` fixture of a test package: one lab for all of the package's tests."""

    @pytest.fixture(scope="package", name="lab")
    def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
        yield from running_lab(tmp_path_factory, prefix)

    return lab


def fabric_fixture() -> Any:
    """The `fabric` fixture: a fresh store per test on the package's lab."""

    @pytest.fixture(name="fabric")
    def fabric(lab: Lab, tmp_path: Path) -> Iterator[Fabric]:
        yield from fresh_fabric(lab, tmp_path)

    return fabric
