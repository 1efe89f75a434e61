"""CNI manifests for flannel and Calico clusters, with and without Windows pools, checked with
kubernetes-validate in strict mode (built-in kinds) and the Calico CRD schema of schemas/."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate
import pytest

from aksnet.errors import InvalidInput
from aksnet.infra.manifests import calico_ip_pool, render_cni, render_cni_text
from aksnet.infra.templates import TEMPLATES_ENV, templates_dir
from tests.infra.conftest import cluster
from tests.infra.validation import KUBERNETES_SCHEMA_VERSION, validate_manifest

CASES = [
    ("flannel", False, None),
    ("flannel", True, None),
    ("calico", False, None),
    ("calico", False, "ipip"),
    ("calico", True, None),
]


def _by_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in documents if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


@pytest.mark.parametrize(("plugin", "windows", "encapsulation"), CASES)
def test_every_rendered_document_is_valid(
    plugin: str, windows: bool, encapsulation: str | None
) -> None:
    documents = render_cni(cluster(plugin, windows=windows, encapsulation=encapsulation))
    assert documents
    for document in documents:
        validate_manifest(document)


@pytest.mark.parametrize("windows", [False, True])
def test_flannel_net_conf_is_vxlan_vni_4096_port_4789_over_the_pod_cidr(windows: bool) -> None:
    spec = cluster("flannel", windows=windows, pod_cidr="10.200.0.0/16")
    documents = render_cni(spec)
    config = _by_kind(documents, "ConfigMap")["data"]
    net_conf = json.loads(config["net-conf.json"])
    assert net_conf["Network"] == "10.200.0.0/16"
    assert net_conf["SubnetLen"] == 24
    assert net_conf["Backend"] == {"Type": "vxlan", "VNI": 4096, "Port": 4789}
    assert json.loads(config["cni-conf.json"])["plugins"][0]["type"] == "flannel"
    kinds = [d["kind"] for d in documents]
    assert kinds == [
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "ServiceAccount",
        "ConfigMap",
        "DaemonSet",
    ]


def test_the_flannel_daemonset_runs_on_linux_nodes_only_with_the_host_network() -> None:
    pod = _by_kind(render_cni(cluster("flannel", windows=True)), "DaemonSet")["spec"]["template"]
    terms = pod["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    expression = terms["nodeSelectorTerms"][0]["matchExpressions"][0]
    assert expression == {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}
    assert pod["spec"]["hostNetwork"] is True
    container = pod["spec"]["containers"][0]
    assert "--kube-subnet-mgr" in container["args"]
    assert container["securityContext"]["capabilities"]["add"] == ["NET_ADMIN", "NET_RAW"]


def _installation_pool(documents: list[dict[str, Any]]) -> dict[str, Any]:
    network = _by_kind(documents, "Installation")["spec"]["calicoNetwork"]
    assert len(network["ipPools"]) == 1
    pool: dict[str, Any] = network["ipPools"][0]
    return pool


def test_calico_with_windows_pools_uses_vxlan_hns_and_strict_affinity() -> None:
    documents = render_cni(cluster("calico", windows=True, pod_cidr="10.200.0.0/16"))
    installation = _by_kind(documents, "Installation")["spec"]
    assert installation["calicoNetwork"]["bgp"] == "Disabled"
    assert installation["calicoNetwork"]["windowsDataplane"] == "HNS"
    assert installation["serviceCIDRs"] == ["10.96.0.0/12"]
    pool = _installation_pool(documents)
    assert pool["cidr"] == "10.200.0.0/16"
    assert pool["encapsulation"] == "VXLAN"  # Always; never CrossSubnet with Windows
    assert pool["natOutgoing"] == "Enabled"
    assert pool["blockSize"] == 24
    assert _by_kind(documents, "IPAMConfiguration")["spec"] == {"strictAffinity": True}


def test_calico_linux_only_with_ipip_asked_uses_ipip_and_bgp() -> None:
    documents = render_cni(cluster("calico", windows=False, encapsulation="ipip"))
    installation = _by_kind(documents, "Installation")["spec"]
    assert installation["calicoNetwork"]["bgp"] == "Enabled"
    assert "windowsDataplane" not in installation["calicoNetwork"]
    assert _installation_pool(documents)["encapsulation"] == "IPIP"
    assert [d["kind"] for d in documents] == ["Installation"]


def test_calico_linux_only_defaults_to_vxlan() -> None:
    documents = render_cni(cluster("calico", windows=False))
    assert _installation_pool(documents)["encapsulation"] == "VXLAN"
    assert _by_kind(documents, "Installation")["spec"]["calicoNetwork"]["bgp"] == "Disabled"


@pytest.mark.parametrize(
    ("encapsulation", "modes"), [(None, ("Always", "Never")), ("ipip", ("Never", "Always"))]
)
def test_the_ip_pool_the_operator_creates_matches_the_installation(
    encapsulation: str | None, modes: tuple[str, str]
) -> None:
    pool = calico_ip_pool(cluster("calico", windows=False, encapsulation=encapsulation))
    validate_manifest(pool)
    assert (pool["spec"]["vxlanMode"], pool["spec"]["ipipMode"]) == modes
    assert pool["spec"]["cidr"] == "10.244.0.0/16"
    assert pool["spec"]["natOutgoing"] is True
    with pytest.raises(InvalidInput, match="primaryNetworkPlugin"):
        calico_ip_pool(cluster("flannel", windows=False))


def test_a_typo_in_a_kubernetes_field_is_rejected_only_in_strict_mode() -> None:
    daemonset = _by_kind(render_cni(cluster("flannel", windows=False)), "DaemonSet")
    pod_spec = daemonset["spec"]["template"]["spec"]
    pod_spec["hostNetwrok"] = pod_spec.pop("hostNetwork")
    with pytest.raises(kubernetes_validate.ValidationError, match="hostNetwrok"):
        validate_manifest(daemonset)
    # Without --strict the same typo passes: why the tests use strict mode.
    kubernetes_validate.validate(daemonset, KUBERNETES_SCHEMA_VERSION, strict=False)


def test_a_typo_in_a_calico_field_is_rejected() -> None:
    documents = render_cni(cluster("calico", windows=True))
    installation = _by_kind(documents, "Installation")
    pool = installation["spec"]["calicoNetwork"]["ipPools"][0]
    pool["natOutgoin"] = pool.pop("natOutgoing")
    with pytest.raises(jsonschema.ValidationError, match="natOutgoin"):
        validate_manifest(installation)


def test_a_typo_in_a_template_is_caught_by_the_validation(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(TEMPLATES_ENV, raising=False)
    shutil.copytree(templates_dir(), tmp_path, dirs_exist_ok=True)
    template = tmp_path / "flannel.yaml.j2"
    template.write_text(template.read_text().replace("priorityClassName:", "priorityClass:"))
    monkeypatch.setenv(TEMPLATES_ENV, str(tmp_path))
    documents = render_cni(cluster("flannel", windows=False))
    with pytest.raises(kubernetes_validate.ValidationError, match="priorityClass"):
        for document in documents:
            validate_manifest(document)


def test_the_kubernetes_validate_command_accepts_the_flannel_manifest_and_rejects_a_typo(
    tmp_path: Path,
) -> None:
    command = Path(sys.executable).with_name("kubernetes-validate")
    text = render_cni_text(cluster("flannel", windows=True))
    good, bad = tmp_path / "flannel.yaml", tmp_path / "typo.yaml"
    good.write_text(text)
    bad.write_text(text.replace("hostNetwork:", "hostNetwrok:"))
    base = [str(command), "--strict", "-k", KUBERNETES_SCHEMA_VERSION]
    accepted = subprocess.run([*base, str(good)], capture_output=True, text=True, check=False)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    rejected = subprocess.run([*base, str(bad)], capture_output=True, text=True, check=False)
    assert rejected.returncode != 0
    assert "hostNetwrok" in rejected.stdout + rejected.stderr


def test_a_pod_block_calico_cannot_use_is_refused() -> None:
    spec = cluster("calico", windows=False, node_cidr_mask=18)
    with pytest.raises(InvalidInput) as caught:
        render_cni(spec)
    assert caught.value.parameter == "nodeCidrMask"
