"""kube-vip's static pod manifest (loadBalancerSku none): valid against the Kubernetes schema in
strict mode, with the VIP, port and interface where kube-vip reads them."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from aksnet.errors import InvalidInput
from aksnet.loadbalancer.kubevip import (
    ADMIN_KUBECONFIG,
    SUPER_ADMIN_KUBECONFIG,
    render_kube_vip_manifest,
)
from tests.infra.validation import validate_manifest


def env_of(pod: dict[str, Any]) -> dict[str, Any]:
    return {
        e["name"]: e.get("value", e.get("valueFrom")) for e in pod["spec"]["containers"][0]["env"]
    }


@pytest.mark.parametrize("first", [True, False])
def test_manifest_is_a_valid_static_pod(first: bool) -> None:
    pod = yaml.safe_load(
        render_kube_vip_manifest("198.18.0.200", "eth0", first_control_plane=first)
    )
    validate_manifest(pod)
    assert (pod["kind"], pod["metadata"]["namespace"]) == ("Pod", "kube-system")
    assert pod["spec"]["hostNetwork"] is True
    env = env_of(pod)
    assert env["address"] == "198.18.0.200"
    assert (env["port"], env["vip_interface"], env["vip_arp"]) == ("6443", "eth0", "true")
    assert (env["cp_enable"], env["svc_enable"]) == ("true", "false")
    capabilities = pod["spec"]["containers"][0]["securityContext"]["capabilities"]["add"]
    assert set(capabilities) == {"NET_ADMIN", "NET_RAW"}
    kubeconfig = SUPER_ADMIN_KUBECONFIG if first else ADMIN_KUBECONFIG
    assert pod["spec"]["volumes"][0]["hostPath"]["path"] == kubeconfig


def test_a_hostile_interface_cannot_change_the_document() -> None:
    with pytest.raises(InvalidInput) as raised:
        render_kube_vip_manifest("198.18.0.200", "eth0\n  - name: evil")
    assert raised.value.parameter == "interface"


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"api_vip": "198.18.0.300"}, "api_vip"),
        ({"api_vip": "fe80::1"}, "api_vip"),
        ({"port": 0}, "port"),
        ({"image": "Bad Image"}, "image"),
    ],
)
def test_bad_input_is_refused(arguments: dict[str, Any], parameter: str) -> None:
    values: dict[str, Any] = {"api_vip": "198.18.0.200", "interface": "eth0", **arguments}
    with pytest.raises(InvalidInput) as raised:
        render_kube_vip_manifest(values.pop("api_vip"), values.pop("interface"), **values)
    assert raised.value.parameter == parameter
