"""One two-host lab for the module (in-process, slots in 198.19.0.0/16), a fresh store per test.

The hosts are emulated Hyper-V behind real PSRP; the Linux VMs they start are namespaces with a
real sshd and the lab's emulated kubeadm/kubectl. Root only: skipped otherwise.
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
from aksnet.lab.fabric import Lab, LabSpec
from aksnet.lab.linux import sweep
from aksnet.remote.base import Cmdlet
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.psrp import PSRPSession
from aksnet.remote.ssh import SSHSession
from aksnet.state.store import Store
from tests.linuxlab.conftest import _needs_root
from tests.provision.conftest import lab_network, node_image

SLOTS = range(256, 512)
CALLS = "/var/lib/aksnet-lab/k8s-calls.jsonl"


@dataclass
class Fabric:
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

    def ssh(self, cluster: str, address: str, known_hosts: KnownHosts) -> SSHSession:
        """A session with the cluster's admin key, trusting only what known_hosts pins."""
        admin = ClusterKeys.beside(self.store.path, cluster).admin()
        return SSHSession(
            address, username="clouduser", private_key=admin.to_paramiko(), known_hosts=known_hosts
        )


def k8s_calls(ssh: SSHSession) -> list[dict[str, Any]]:
    text = ssh.run(["sudo", "-n", "cat", CALLS]).text
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    _needs_root()
    lab_dir = tmp_path_factory.mktemp("clusterlab")
    the_lab = Lab(lab_dir, LabSpec(hosts=2), prefix="akc", slots=SLOTS)
    sessions: dict[str, PSRPSession] = {}
    try:
        the_lab.start()
        sessions = HostConnections.from_lab(lab_dir).open()
        for session in sessions.values():
            node_image(session)
        yield the_lab
    finally:
        close_all(sessions)
        the_lab.stop()
        sweep(lab_dir)


@pytest.fixture
def fabric(lab: Lab, tmp_path: Path) -> Iterator[Fabric]:
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
