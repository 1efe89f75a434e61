"""kubeadm configurations: checked against the v1beta3 schema written from kubeadm's API types
(schemas/kubeadm-v1beta3.json), with the cluster's subnets, the API VIP endpoint and SANs, and
the join token kept out of reprs and logs."""

from __future__ import annotations

import logging
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from aksnet.errors import InvalidInput
from aksnet.infra.jointoken import CertificateKey, JoinToken
from aksnet.infra.manifests import (
    KubeadmConfig,
    KubeadmNode,
    render_kubeadm_config,
)
from tests.infra.conftest import API_VIP, cluster
from tests.infra.validation import validate_kubeadm

CA_HASH = "sha256:" + "0123456789abcdef" * 4
SPEC = cluster("flannel", windows=True, pod_cidr="10.200.0.0/16", service_cidr="10.96.0.0/16")


def _documents(config: KubeadmConfig) -> dict[str, dict[str, Any]]:
    documents = [d for d in yaml.safe_load_all(config.reveal()) if d]
    for document in documents:
        validate_kubeadm(document)
    return {d["kind"]: d for d in documents}


def _init(token: JoinToken, **changes: Any) -> KubeadmConfig:
    node = KubeadmNode("c1-cp-0", "init", address="198.18.0.10")
    return render_kubeadm_config(SPEC, API_VIP, node, token, **changes)


def test_init_configuration_has_the_subnets_the_vip_endpoint_and_sans() -> None:
    token = JoinToken.generate()
    documents = _documents(_init(token, extra_sans=["c1.lab.example", "198.18.0.201"]))
    assert set(documents) == {"InitConfiguration", "ClusterConfiguration"}
    cluster_config = documents["ClusterConfiguration"]
    assert cluster_config["networking"]["podSubnet"] == "10.200.0.0/16"
    assert cluster_config["networking"]["serviceSubnet"] == "10.96.0.0/16"
    assert cluster_config["controlPlaneEndpoint"] == f"{API_VIP}:6443"
    assert cluster_config["apiServer"]["certSANs"] == [API_VIP, "c1.lab.example", "198.18.0.201"]
    assert cluster_config["kubernetesVersion"] == SPEC.kubernetes_version
    init = documents["InitConfiguration"]
    assert init["bootstrapTokens"][0]["token"] == token.reveal()
    assert init["localAPIEndpoint"] == {"advertiseAddress": "198.18.0.10", "bindPort": 6443}
    assert init["nodeRegistration"]["kubeletExtraArgs"] == {"node-ip": "198.18.0.10"}
    assert "taints" not in init["nodeRegistration"]  # kubeadm's control-plane taint applies


def test_a_worker_joins_through_the_vip_pinned_to_the_cluster_ca() -> None:
    node = KubeadmNode(
        "c1-linux-0", "worker", address="198.18.0.11", max_pods=110, taints=("gpu=yes:NoSchedule",)
    )
    token = JoinToken.generate()
    config = render_kubeadm_config(SPEC, API_VIP, node, token, ca_cert_hashes=[CA_HASH])
    join = _documents(config)["JoinConfiguration"]
    discovery = join["discovery"]["bootstrapToken"]
    assert discovery == {
        "token": token.reveal(),
        "apiServerEndpoint": f"{API_VIP}:6443",
        "caCertHashes": [CA_HASH],
    }
    registration = join["nodeRegistration"]
    assert registration["kubeletExtraArgs"] == {"max-pods": "110", "node-ip": "198.18.0.11"}
    assert registration["taints"] == [{"key": "gpu", "value": "yes", "effect": "NoSchedule"}]
    assert "controlPlane" not in join


def test_a_windows_worker_uses_the_containerd_named_pipe() -> None:
    node = KubeadmNode("c1-win-0", "worker", os_type="Windows", taints=())
    config = render_kubeadm_config(
        SPEC, API_VIP, node, JoinToken.generate(), ca_cert_hashes=[CA_HASH]
    )
    registration = _documents(config)["JoinConfiguration"]["nodeRegistration"]
    assert registration["criSocket"] == "npipe:////./pipe/containerd-containerd"
    assert registration["taints"] == []  # an empty list: no taint, unlike an absent field


def test_a_joining_control_plane_gets_its_endpoint_and_the_certificate_key() -> None:
    key = CertificateKey.generate()
    node = KubeadmNode("c1-cp-1", "control-plane", address="198.18.0.12")
    config = render_kubeadm_config(
        SPEC, API_VIP, node, JoinToken.generate(), ca_cert_hashes=[CA_HASH], certificate_key=key
    )
    control_plane = _documents(config)["JoinConfiguration"]["controlPlane"]
    assert control_plane == {
        "localAPIEndpoint": {"advertiseAddress": "198.18.0.12", "bindPort": 6443},
        "certificateKey": key.reveal(),
    }
    assert key.reveal() not in config.redacted()


def test_a_dhcp_node_lets_kubeadm_find_its_address() -> None:
    config = render_kubeadm_config(
        SPEC, API_VIP, KubeadmNode("c1-cp-0", "init"), JoinToken.generate()
    )
    init = _documents(config)["InitConfiguration"]
    assert "localAPIEndpoint" not in init
    assert "kubeletExtraArgs" not in init["nodeRegistration"]


def test_a_typo_in_a_kubeadm_field_is_rejected() -> None:
    cluster_config = _documents(_init(JoinToken.generate()))["ClusterConfiguration"]
    cluster_config["networking"]["podSubnets"] = cluster_config["networking"].pop("podSubnet")
    with pytest.raises(jsonschema.ValidationError, match="podSubnets"):
        validate_kubeadm(cluster_config)


def test_the_token_never_appears_in_reprs_redacted_text_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = JoinToken.generate()
    config = _init(token, certificate_key=CertificateKey.generate())
    secret = token.reveal()
    assert secret in config.reveal()
    for shown in (repr(config), str(config), config.redacted(), repr(token), str(token)):
        assert secret not in shown
    assert "<23 characters>" in config.redacted()
    redacted = [d for d in yaml.safe_load_all(config.redacted()) if d]  # still YAML, for plans
    assert redacted[0]["bootstrapTokens"][0]["token"] == "<23 characters>"
    assert caplog.records and secret not in caplog.text
    assert token.token_id in secret and token.token_id == secret.split(".")[0]


def test_a_malformed_token_is_refused_without_showing_it() -> None:
    with pytest.raises(InvalidInput) as caught:
        JoinToken("abcdef.NOT-A-VALID-SECRET")
    assert "NOT-A-VALID-SECRET" not in str(caught.value)
    assert caught.value.parameter == "token"
    with pytest.raises(InvalidInput, match="certificateKey"):
        CertificateKey("xyz")


@pytest.mark.parametrize(
    ("node", "changes", "parameter"),
    [
        (KubeadmNode("n", "init"), {"api_vip": "not-an-ip"}, "api_vip"),
        (KubeadmNode("n", "worker"), {}, "ca_cert_hashes"),
        (KubeadmNode("n", "worker"), {"ca_cert_hashes": ["md5:abc"]}, "ca_cert_hashes"),
        (KubeadmNode("n", "control-plane"), {"ca_cert_hashes": [CA_HASH]}, "certificate_key"),
        (KubeadmNode("n", "init", os_type="Windows"), {}, "role"),
        (KubeadmNode("n", "init", address="198.18.0.999"), {}, "address"),
        (KubeadmNode("n", "init", taints=("no-effect",)), {}, "taints"),
        (KubeadmNode("n", "init"), {"extra_sans": ["bad name!"]}, "extra_sans"),
        (KubeadmNode("n", "init"), {"token_ttl": "two hours"}, "token_ttl"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(
    node: KubeadmNode, changes: dict[str, Any], parameter: str
) -> None:
    vip = changes.pop("api_vip", API_VIP)
    with pytest.raises(InvalidInput) as caught:
        render_kubeadm_config(SPEC, vip, node, JoinToken.generate(), **changes)
    assert caught.value.parameter == parameter
