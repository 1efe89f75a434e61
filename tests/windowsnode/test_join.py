"""kubeadm.exe join on a Windows node over PSRP (aksnet.infra.windowsjoin), against the lab's
emulated Windows node and its emulated control plane (aksnet.lab.k8sregistry; kubeadm.exe
checks the JoinConfiguration like the lab's Linux kubeadm and registers the node).

Shown: a join writes the configuration, runs kubeadm.exe through Start-Process with the file
(never the token) on its command line, leaves C:\\k\\kubelet.conf and deletes the file holding the
token; a refused join raises RemoteCommandFailed with kubeadm's reason and the token masked, and
deletes the file too; a joined node gets no second join (zero actions)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet.errors import RemoteCommandFailed
from aksnet.infra.jointoken import JoinToken
from aksnet.infra.linuxnode import LinuxNode
from aksnet.infra.manifests import KubeadmConfig, KubeadmNode, render_kubeadm_config
from aksnet.infra.windowsjoin import (
    JOIN_CONFIG,
    KUBEADM_EXE,
    KUBELET_CONF,
    JoinWindowsNodes,
    PathExistsFact,
    WindowsNode,
    join_node,
)
from aksnet.lab import k8sregistry
from aksnet.lab.hyperv import WindowsNode as LabWindowsNode
from aksnet.lab.wsman import WSManServer
from aksnet.model.cluster import ClusterSpec, cluster_spec, node_pool_spec
from aksnet.plan import apply
from aksnet.remote.base import Cmdlet, Completed, Credential, Endpoint
from aksnet.remote.psrp import PSRPSession
from tests.windowsnode.conftest import PASSWORD, USER

VIP = "198.18.0.200"
ENDPOINT = f"{VIP}:6443"
CA_HASH = "sha256:" + "ab" * 32
NAME = "c1-win-0"


class NoShell:
    """The first control plane's shell, for phases that must not need it."""

    def run(self, argv: object, **_: object) -> Completed:
        raise AssertionError(f"no SSH expected, got {argv!r}")

    def put(self, data: bytes, remote_path: str, *, mode: int = 0o644) -> None:
        raise AssertionError("no SSH expected")


FIRST = LinuxNode("c1-cp-0", "198.18.0.10", "init", NoShell())


def spec() -> ClusterSpec:
    pools = (node_pool_spec(name="win", count=1, os_type="Windows"),)
    return cluster_spec(name="c1", vnet="net", primary_network_plugin="flannel", node_pools=pools)


def config(token: JoinToken, name: str = NAME) -> KubeadmConfig:
    node = KubeadmNode(name, "worker", "198.18.0.13", os_type="Windows")
    return render_kubeadm_config(spec(), VIP, node, token, ca_cert_hashes=[CA_HASH])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[LabWindowsNode, PSRPSession]]:
    node = LabWindowsNode(NAME, tmp_path / NAME, ip_address="198.18.0.13", lab_dir=tmp_path)
    exe = node.fs.real(KUBEADM_EXE)
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_bytes(b"EMULATED")  # on the lab's Windows image
    server = WSManServer(node, users={USER: PASSWORD}, auth="basic")
    server.start()
    endpoint = Endpoint(host="127.0.0.1", port=server.port, ssl=False, auth="basic", lab=True)
    session = PSRPSession(endpoint, Credential(USER, PASSWORD))
    try:
        yield node, session
    finally:
        session.close()
        server.stop()


def exists(session: PSRPSession, path: str) -> bool:
    return session.invoke(Cmdlet.of("Test-Path", LiteralPath=path)) == [True]


def test_a_join_registers_the_node_and_leaves_no_token_file(
    served: tuple[LabWindowsNode, PSRPSession], tmp_path: Path
) -> None:
    node, session = served
    k8sregistry.init_cluster(tmp_path, ENDPOINT, "10.244.0.0/16", "10.96.0.0/12")
    token = JoinToken.generate()
    join_node(session, config(token), [token.reveal()])
    assert exists(session, KUBELET_CONF) and not exists(session, JOIN_CONFIG)
    assert [c["args"] for c in node.kubeadm_calls] == [["join", "--config", JOIN_CONFIG]]
    assert node.kubeadm_calls[0]["outcome"] == "accepted"
    document = k8sregistry.read_cluster(tmp_path, ENDPOINT)
    assert document is not None
    assert document["nodes"][NAME]["os"] == "windows"


def test_a_refused_join_says_why_with_the_token_masked(
    served: tuple[LabWindowsNode, PSRPSession],
) -> None:
    _, session = served  # no kubeadm init ran for the endpoint: the join is refused
    token = JoinToken.generate()
    with pytest.raises(RemoteCommandFailed) as caught:
        join_node(session, config(token), [token.reveal()])
    assert caught.value.exit_status == 1
    assert "kubeadm init has not run" in str(caught.value)
    assert token.reveal() not in str(caught.value) + caught.value.stderr
    assert not exists(session, JOIN_CONFIG) and not exists(session, KUBELET_CONF)


def test_the_phase_joins_once_and_a_second_run_does_nothing(
    served: tuple[LabWindowsNode, PSRPSession], tmp_path: Path
) -> None:
    node, session = served
    k8sregistry.init_cluster(tmp_path, ENDPOINT, "10.244.0.0/16", "10.96.0.0/12")
    token = JoinToken.generate()
    join_node(session, config(token), [token.reveal()])
    phase = JoinWindowsNodes(
        [WindowsNode(NAME, "198.18.0.13", session)], FIRST, lambda n, h: config(token), token
    )
    again = apply([phase])
    assert again.changes == [] and again.records == []
    assert len(node.kubeadm_calls) == 1


def test_joined_reads_as_a_fact(served: tuple[LabWindowsNode, PSRPSession]) -> None:
    _, session = served
    fact = PathExistsFact(session, KUBELET_CONF)
    assert fact.read(NAME) is None
    session.invoke(Cmdlet.of("Set-Content", LiteralPath=KUBELET_CONF, Value="x"))
    assert fact.read(NAME) is True
