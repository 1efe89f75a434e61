"""Fixtures for Linux node setup: lab nodes with the emulated kubeadm, reached over SSHSession.

The lab fixtures of tests/linuxlab (root only; test slots in 198.19.0.0/16) start the nodes;
each node's session records every argv it sends, which is how tests see that no secret travels
on a command line.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko
import pytest

from aksnet.infra.jointoken import CertificateKey, JoinToken
from aksnet.infra.linuxnode import LinuxNode, LinuxNodeSetup, kubeadm_configs
from aksnet.infra.manifests import NodeRole
from aksnet.lab.linux import k8sstub
from aksnet.model.cluster import ClusterSpec, cluster_spec, node_pool_spec
from aksnet.network.plugins import get_plugin
from aksnet.remote.base import Completed
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.ssh import SSHSession
from tests.linuxlab.conftest import Lab, Vm, lab, lab_dir, run, ssh  # noqa: F401


class RecordingSession(SSHSession):
    """An SSHSession that keeps every argv it sends (checksum runs of put() included) and counts
    its SFTP puts: `execs` is every command and SFTP conversation it started."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[list[str]] = []
        self.puts = 0

    def run(self, argv: Sequence[str], **kwargs: Any) -> Completed:
        self.sent.append(list(argv))
        return super().run(argv, **kwargs)

    def put(self, data: bytes, remote_path: str, *, mode: int = 0o644) -> None:
        self.puts += 1
        super().put(data, remote_path, mode=mode)

    @property
    def execs(self) -> int:
        return len(self.sent) + self.puts


@dataclass
class Node:
    vm: Vm
    name: str
    role: NodeRole
    session: RecordingSession
    client: paramiko.SSHClient | None = None

    def linux_node(self) -> LinuxNode:
        return LinuxNode(self.name, self.vm.address, self.role, self.session)

    def sh(self, command: str) -> str:
        """Run command on the node over an independent connection; fail on a non-zero status."""
        if self.client is None:
            self.client = ssh(self.vm)
        status, out = run(self.client, command)
        assert status == 0, f"{command!r} exited {status}: {out}"
        return out


@dataclass
class Cluster:
    spec: ClusterSpec
    api_vip: str
    token: JoinToken
    certificate_key: CertificateKey
    nodes: list[Node]

    def phase(self) -> LinuxNodeSetup:
        plugin = get_plugin(self.spec.primary_network_plugin)
        configs = kubeadm_configs(self.spec, self.api_vip, self.token, self.certificate_key)
        linux = [n.linux_node() for n in self.nodes]
        secrets = [self.token, self.certificate_key]
        return LinuxNodeSetup(linux, plugin, configs, secrets=secrets)


def start_cluster(the_lab: Lab, tmp_path: Path, plugin: str, roles: Sequence[NodeRole]) -> Cluster:
    spec = cluster_spec(
        name="c1",
        vnet="labnet",
        primary_network_plugin=plugin,
        node_pools=(node_pool_spec(name="linux", count=len(roles) - 1),),
    )
    known = KnownHosts(tmp_path / "known_hosts")
    nodes = []
    for number, role in enumerate(roles, start=1):
        vm = the_lab.vm(number)
        the_lab.runtime.start(vm.spec)
        k8sstub.install(the_lab.lab_dir, vm.spec.name)
        known.pin(vm.address, 22, vm.host_key.public_openssh)
        session = RecordingSession(
            vm.address,
            username="clouduser",
            private_key=vm.user_key.paramiko_key(),
            known_hosts=known,
        )
        nodes.append(Node(vm, f"c1-{role}-{number}", role, session))
    vip = str(ipaddress.IPv4Address(nodes[0].vm.address) + 100)
    return Cluster(spec, vip, JoinToken.generate(), CertificateKey.generate(), nodes)


@pytest.fixture
def cluster_of(lab: Lab, tmp_path: Path) -> Iterator[Any]:  # noqa: F811
    """cluster_of(plugin, roles) -> Cluster on started lab nodes; sessions closed afterwards."""
    made: list[Cluster] = []

    def make(plugin: str, roles: Sequence[NodeRole] = ("init", "worker")) -> Cluster:
        made.append(start_cluster(lab, tmp_path, plugin, roles))
        return made[-1]

    try:
        yield make
    finally:
        for cluster in made:
            for node in cluster.nodes:
                node.session.close()
                if node.client is not None:
                    node.client.close()
