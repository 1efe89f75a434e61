"""kubeadm init, then join, through the emulated kubeadm; the token stays out of argv and logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import pytest

from aksnet.errors import RemoteCommandFailed
from aksnet.infra.linuxconf import CA_CERT, KUBEADM_FILE, ca_cert_hash
from aksnet.infra.linuxnode import LinuxNode, LinuxNodeSetup
from aksnet.infra.manifests import KubeadmConfig
from aksnet.network.plugins import get_plugin
from aksnet.plan import RecordingListener, apply, format_result
from tests.nodesetup.conftest import Cluster, Node

CALLS = "/var/lib/aksnet-lab/k8s-calls.jsonl"


def calls_on(node: Node) -> list[dict[str, Any]]:
    return [json.loads(line) for line in node.sh(f"sudo -n cat {CALLS}").splitlines()]


def runs_of(node: Node, verb: str) -> list[dict[str, Any]]:
    """The node's kubeadm init or join calls (the join-secret checks are recorded too)."""
    return [c for c in calls_on(node) if c["tool"] == "kubeadm" and c["args"][:1] == [verb]]


def documents(call: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in call["config"]}


def test_init_gets_the_cluster_networking_and_join_pins_the_ca(cluster_of: Any) -> None:
    cluster: Cluster = cluster_of("flannel", ("init", "control-plane", "worker"))
    apply([cluster.phase()])
    init, *joiners = cluster.nodes
    [call] = runs_of(init, "init")
    assert (call["tool"], call["outcome"], call["args"]) == (
        "kubeadm",
        "accepted",
        ["init", "--config", KUBEADM_FILE],
    )
    config = documents(call)["ClusterConfiguration"]
    assert config["networking"]["podSubnet"] == cluster.spec.pod_cidr
    assert config["networking"]["serviceSubnet"] == cluster.spec.service_cidr
    assert config["controlPlaneEndpoint"] == f"{cluster.api_vip}:6443"
    assert cluster.api_vip in config["apiServer"]["certSANs"]
    ca_hash = ca_cert_hash(init.sh(f"cat {CA_CERT}").encode())
    for node in joiners:
        [join] = runs_of(node, "join")
        assert join["args"] == ["join", "--config", KUBEADM_FILE]
        discovery = documents(join)["JoinConfiguration"]["discovery"]["bootstrapToken"]
        assert discovery["caCertHashes"] == [ca_hash]
        assert discovery["apiServerEndpoint"] == f"{cluster.api_vip}:6443"
        assert "EMULATED" in node.sh(f"sudo -n kubeadm join --config {KUBEADM_FILE}")
    joining_control_plane = documents(runs_of(joiners[0], "join")[0])["JoinConfiguration"]
    assert joining_control_plane["controlPlane"]["certificateKey"] == "<64 characters>"


def test_the_token_travels_only_in_the_file_never_in_argv_logs_or_records(
    cluster_of: Any, caplog: pytest.LogCaptureFixture
) -> None:
    cluster: Cluster = cluster_of("calico")
    token = cluster.token.reveal()
    listener = RecordingListener()
    with caplog.at_level(logging.DEBUG):
        result = apply([cluster.phase()], listeners=[listener])
    for node in cluster.nodes:
        # Delivered: the node's configuration (0600, root) holds it ...
        assert token in node.sh(f"sudo -n cat {KUBEADM_FILE}")
        # ... but no command line carried it, and the lab's record shows it masked.
        assert node.session.sent, "the session recorded nothing"
        assert not [argv for argv in node.session.sent if any(token in a for a in argv)]
        assert token not in node.sh(f"sudo -n cat {CALLS}")
        assert "<23 characters>" in node.sh(f"sudo -n cat {CALLS}")
        assert cluster.certificate_key.reveal() not in node.sh(f"sudo -n cat {CALLS}")
    shown = caplog.text + format_result(result) + repr(result) + repr(listener.events)
    assert "kubeadm init --config" in shown
    assert token not in shown
    assert token.split(".")[1] not in shown


def test_a_refused_kubeadm_fails_the_run_without_the_token_and_a_fixed_run_converges(
    cluster_of: Any, caplog: pytest.LogCaptureFixture
) -> None:
    cluster: Cluster = cluster_of("flannel", ("init",))
    token = cluster.token.reveal()
    good = cluster.phase().configs

    def without_pod_subnet(node: LinuxNode, hashes: Sequence[str]) -> KubeadmConfig:
        config = good(node, hashes)
        text = config.reveal().replace("podSubnet:", "notPodSubnet:")
        return KubeadmConfig(config.node, config.role, text, (cluster.token,))

    plugin = get_plugin("flannel")
    broken = LinuxNodeSetup([n.linux_node() for n in cluster.nodes], plugin, without_pod_subnet)
    with caplog.at_level(logging.DEBUG), pytest.raises(RemoteCommandFailed) as error:
        apply([broken])
    assert "networking.podSubnet" in str(error.value)
    assert token not in str(error.value) + repr(error.value) + caplog.text
    init = cluster.nodes[0]
    assert init.sh("sudo -n test -e /etc/kubernetes/kubelet.conf || echo absent") == "absent\n"
    fixed = apply([cluster.phase()])
    assert [r.title for r in fixed.changes] == [
        f"write {KUBEADM_FILE} (mode 600) on {init.name}",
        f"kubeadm init --config {KUBEADM_FILE} on {init.name}",
    ]
