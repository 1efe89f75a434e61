"""The lab's emulated kubeadm, kubectl and modprobe check their input, record it, say EMULATED."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aksnet.infra.manifests import render_cni_text
from aksnet.lab.linux import k8sstub
from aksnet.model.cluster import cluster_spec
from tests.nodesetup.conftest import Cluster, Node

CALLS = "/var/lib/aksnet-lab/k8s-calls.jsonl"
INIT_CONFIG = """\
apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
bootstrapTokens: [{token: abcdef.0123456789abcdef}]
nodeRegistration: {name: n1}
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
kubernetesVersion: v1.29.4
controlPlaneEndpoint: 198.19.1.200:6443
networking: {podSubnet: 10.244.0.0/16, serviceSubnet: 10.96.0.0/12}
"""


def attempt(node: Node, command: str) -> tuple[int, str]:
    """(exit status, stdout and stderr) of command on the node."""
    if node.client is None:
        node.sh("true")
    assert node.client is not None
    _, stdout, stderr = node.client.exec_command(command, timeout=20)
    out = stdout.read().decode() + stderr.read().decode()
    return stdout.channel.recv_exit_status(), out


def write(node: Node, path: str, text: str) -> None:
    node.session.put(text.encode(), path)


def last_call(node: Node) -> dict[str, Any]:
    line: str = node.sh(f"sudo -n tail -n 1 {CALLS}")
    call: dict[str, Any] = json.loads(line)
    return call


@pytest.fixture
def node(cluster_of: Any) -> Node:
    cluster: Cluster = cluster_of("flannel", ("init",))
    return cluster.nodes[0]


def test_kubeadm_accepts_a_valid_init_and_leaves_what_kubeadm_leaves(node: Node) -> None:
    write(node, "init.yaml", INIT_CONFIG)
    status, out = attempt(node, "sudo -n kubeadm init --config init.yaml")
    assert (status, out.startswith("EMULATED kubeadm init")) == (0, True)
    assert node.sh("sudo -n stat -c '%a' /etc/kubernetes/admin.conf") == "600\n"
    assert "BEGIN CERTIFICATE" in node.sh("cat /etc/kubernetes/pki/ca.crt")
    call = last_call(node)
    assert call["outcome"] == "accepted"
    assert call["config"][0]["bootstrapTokens"] == [{"token": "<23 characters>"}]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("podSubnet: 10.244.0.0/16, ", ""), "networking.podSubnet"),
        (("controlPlaneEndpoint: 198.19.1.200:6443", "controlPlaneEndpoint: x"), "Endpoint"),
        (("kubeadm.k8s.io/v1beta3\nkind: Cluster", "kubeadm.k8s.io/v1beta2\nkind: Cluster"), "v1"),
        (("abcdef.0123456789abcdef", "short.token"), "bootstrapTokens"),
        (("kind: ClusterConfiguration", "kind: JoinConfiguration"), "not allowed"),
    ],
)
def test_kubeadm_refuses_an_invalid_configuration(
    node: Node, change: tuple[str, str], reason: str
) -> None:
    write(node, "bad.yaml", INIT_CONFIG.replace(*change))
    status, out = attempt(node, "sudo -n kubeadm init --config bad.yaml")
    assert status == 1 and "EMULATED kubeadm (aksnet lab) refused" in out
    assert reason in out
    assert (last_call(node)["outcome"], node.sh("sudo -n ls /etc/kubernetes 2>&1; true")) == (
        "refused",
        "ls: cannot access '/etc/kubernetes': No such file or directory\n",
    )


@pytest.mark.parametrize(
    "args", ["init", "init --config init.yaml --token abcdef.0123456789abcdef", "reset"]
)
def test_kubeadm_refuses_other_commands_and_flags(node: Node, args: str) -> None:
    write(node, "init.yaml", INIT_CONFIG)
    status, out = attempt(node, f"sudo -n kubeadm {args}")
    assert status == 1 and "usage: kubeadm init|join --config FILE" in out


def test_kubectl_applies_parsed_cni_manifests(node: Node) -> None:
    spec = cluster_spec(name="c1", vnet="labnet", primary_network_plugin="calico")
    write(node, "cni.yaml", render_cni_text(spec))
    status, out = attempt(node, "sudo -n kubectl apply -f cni.yaml")
    assert status == 0 and out.startswith("EMULATED kubectl apply")
    assert "Installation/default" in last_call(node)["objects"]
    write(node, "broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")
    status, out = attempt(node, "sudo -n kubectl apply -f broken.yaml")
    assert status == 1 and "missing or invalid metadata.name of a ConfigMap" in out
    status, out = attempt(node, "bash -lc 'command -v kubectl'")  # login shells find it too
    assert (status, out) == (0, "/opt/aksnet-lab/bin/kubectl\n")


def test_modprobe_never_loads_a_module_into_the_shared_kernel(node: Node) -> None:
    modules = Path("/proc/modules")
    before = modules.read_text() if modules.exists() else None
    status, out = attempt(node, "sudo -n modprobe aksnet_no_such_module")
    assert status == 0 and out.startswith("EMULATED modprobe (aksnet lab): aksnet_no_such_module")
    assert ("not loading" in out) if before is not None else ("no loadable module" in out)
    assert last_call(node)["module"] == "aksnet_no_such_module"
    assert (modules.read_text() if modules.exists() else None) == before


def test_the_emulation_refuses_to_run_outside_a_lab_node() -> None:
    if k8sstub.NODE_MARKER.exists():
        pytest.skip("this machine has a lab node marker")
    with pytest.raises(SystemExit, match="not a lab node"):
        k8sstub.main(["kubeadm", "init", "--config", "/nonexistent"])
