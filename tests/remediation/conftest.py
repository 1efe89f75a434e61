"""One two-host lab for the package (in-process, prefix akr, slots 256-511) and one flannel
cluster with a Windows worker on it (module scope: the drift tests share it), plus what the
tests need to inject drift: host sessions, SSH to the Linux nodes, PSRP to the Windows node.

What is real: PSRP to the hosts and to the Windows node, sshd, sudo and nftables in each Linux
node's namespace. What is emulated (aksnet.lab): Hyper-V, the Windows node (HNS), kubeadm.
Root only: skipped otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aksnet import api
from aksnet.cluster.create import CreateOptions
from aksnet.cluster.hosts import HostConnections, close_all
from aksnet.cluster.keys import ClusterKeys
from aksnet.cluster.remove import remove_cluster
from aksnet.lab.fabric import Lab, LabSpec
from aksnet.lab.linux import sweep
from aksnet.remote.base import Cmdlet
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.psrp import PSRPSession
from aksnet.remote.ssh import SSHSession
from aksnet.state.store import Store
from tests.linuxlab.conftest import _needs_root
from tests.provision.conftest import lab_network
from tests.windowscluster.conftest import windows_session

SLOTS = range(256, 512)
OPTIONS = CreateOptions(ssh_timeout=60.0, winrm_timeout=60.0, network_timeout=30.0)
NAME = "rf"
CP, LINUX, WINDOWS, LB = "rf-cp-0", "rf-rf-linux-0", "rf-rf-windows-0", "rf-lb-0"


@dataclass
class Cluster:
    lab: Lab
    hosts: HostConnections
    store: Store
    tmp: Path
    name: str = NAME

    def vm(self, kind: str) -> str:
        """cp, linux, windows or lb: the first VM of that kind, as create names it."""
        short = {"cp": "cp", "lb": "lb"}.get(kind, f"{self.name}-{kind}")
        return f"{self.name}-{short}-0"

    def address(self, vm: str) -> str:
        (found,) = [str(a.address) for a in self.store.allocations() if a.owner == vm]
        return found

    def host_of(self, vm: str) -> tuple[str, PSRPSession, dict[str, PSRPSession]]:
        """The host the VM runs on, its session, and all sessions (the caller closes them)."""
        sessions = self.hosts.open()
        for host, session in sessions.items():
            if any(v["Name"] == vm for v in session.invoke(Cmdlet.of("Get-VM"))):
                return host, session, sessions
        close_all(sessions)
        raise AssertionError(f"{vm} is on no host")

    def host_of_name(self, vm: str) -> str:
        host, _session, sessions = self.host_of(vm)
        close_all(sessions)
        return host

    def on_host(self, vm: str, *statements: Cmdlet) -> list[object]:
        _host, session, sessions = self.host_of(vm)
        try:
            return list(session.invoke(*statements))
        finally:
            close_all(sessions)

    def ssh(self, vm: str) -> SSHSession:
        keys = ClusterKeys.beside(self.store.path, self.name)
        known = KnownHosts(self.tmp / f"known_{vm}")
        address = self.address(vm)
        known.pin(address, 22, keys.host_key(vm).public_line)
        return SSHSession(
            address,
            username="clouduser",
            private_key=keys.admin().to_paramiko(),
            known_hosts=known,
        )

    def windows(self) -> PSRPSession:
        vm = self.vm("windows")
        return windows_session(self, self.name, vm, self.address(vm))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A flannel cluster "rf": 1 control plane, 1 Linux and 1 Windows worker, 1 LB VM."""
    yield from lab_cluster(tmp_path_factory, NAME, "flannel")


def lab_cluster(
    tmp_path_factory: pytest.TempPathFactory, name: str, plugin: str
) -> Iterator[Cluster]:
    _needs_root()
    tmp = tmp_path_factory.mktemp("remediation")
    lab = Lab(tmp / "lab", LabSpec(hosts=2), prefix="akr", slots=SLOTS)
    store: Store | None = None
    try:
        lab.start()
        store = Store(tmp / "home" / "aksnet.db")
        store.add_network(lab_network(lab))
        hosts = HostConnections.from_lab(lab.lab_dir)
        spec = api.new_cluster_spec(
            name=name,
            vnet=store.list_networks()[0].name,
            primary_network_plugin=plugin,
            linux_node_count=1,
            windows_node_count=1,
            windows_node_vm_size="Standard_D2s_v3",
        )
        api.new_cluster(store, spec, hosts, options=OPTIONS)
        yield Cluster(lab, hosts, store, tmp, name)
    finally:
        try:
            if store is not None:
                for spec in store.list_clusters():
                    remove_cluster(store, spec.name, HostConnections.from_lab(lab.lab_dir))
                store.close()
        finally:
            lab.stop()
            sweep(lab.lab_dir)
