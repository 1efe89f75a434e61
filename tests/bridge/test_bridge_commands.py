"""Every covered cmdlet's bridge command, driven as the module drives it: results, -WhatIf,
progress, warnings and errors with their PowerShell category, id and target."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aksnet.model.sizes import VM_SIZES
from tests.bridge.conftest import Bridge

DHCP = {
    "name": "vnet1",
    "vswitchName": "External",
    "vipPoolStart": "198.18.0.10",
    "vipPoolEnd": "198.18.0.50",
}
STATIC = {
    "name": "static1",
    "vswitchName": "External",
    "ipAddressPrefix": "198.18.1.0/24",
    "gateway": "198.18.1.1",
    "dnsServers": ["198.18.1.1"],
    "k8sNodeIpPoolStart": "198.18.1.10",
    "k8sNodeIpPoolEnd": "198.18.1.100",
    "vipPoolStart": "198.18.1.200",
    "vipPoolEnd": "198.18.1.250",
    "vlanID": 7,
}


def names(bridge: Bridge) -> list[str]:
    return [n["Name"] for n in bridge("Get-AksHciClusterNetwork").results]


def test_new_cluster_network_stores_and_returns_a_typed_object(bridge: Bridge) -> None:
    answer = bridge("New-AksHciClusterNetwork", STATIC)
    assert answer.exit_code == 0
    [result] = answer.of("result")
    assert result["typeName"] == "AksNet.Network"
    assert result["object"]["Vlanid"] == 7 and result["object"]["Model"] == "static"
    assert answer.of("verbose")
    assert names(bridge) == ["static1"]


def test_new_cluster_network_what_if_validates_and_stores_nothing(bridge: Bridge) -> None:
    answer = bridge("New-AksHciClusterNetwork", DHCP, what_if=True)
    assert answer.exit_code == 0 and answer.results == []
    assert names(bridge) == []
    bad = bridge("New-AksHciClusterNetwork", {**DHCP, "name": "Bad-Name"}, what_if=True)
    assert bad.exit_code == 2
    assert bad.error["category"] == "InvalidArgument"
    assert bad.error["errorId"] == "InvalidParameterValue"
    assert bad.error["targetObject"] == "name"
    assert "'Bad-Name'" in bad.error["message"]


def test_new_cluster_network_twice_is_a_conflict_also_under_what_if(bridge: Bridge) -> None:
    assert bridge("New-AksHciClusterNetwork", DHCP).exit_code == 0
    for what_if in (True, False):
        answer = bridge("New-AksHciClusterNetwork", DHCP, what_if=what_if)
        assert answer.exit_code == 4
        assert answer.error["category"] == "ResourceExists"
        assert answer.error["terminating"] is True


def test_new_network_setting_returns_an_object_and_stores_nothing(bridge: Bridge) -> None:
    answer = bridge("New-AksHciNetworkSetting", STATIC)
    assert answer.exit_code == 0
    assert answer.results[0]["K8snodeIPPoolStart"] == "198.18.1.10"
    assert names(bridge) == []


def test_static_model_needs_all_its_parameters(bridge: Bridge) -> None:
    partial = {k: v for k, v in STATIC.items() if k != "gateway"}
    answer = bridge("New-AksHciNetworkSetting", partial)
    assert answer.exit_code == 2 and answer.error["targetObject"] == "gateway"


def test_get_cluster_network_by_name_cluster_and_unknown_name(bridge: Bridge) -> None:
    bridge("New-AksHciClusterNetwork", DHCP)
    bridge("New-AksHciClusterNetwork", STATIC)
    assert names(bridge) == ["static1", "vnet1"]
    one = bridge("Get-AksHciClusterNetwork", {"name": "vnet1"})
    assert [n["Name"] for n in one.results] == ["vnet1"]
    assert one.results[0]["FreeAddresses"] == {"vip": 41}
    missing = bridge("Get-AksHciClusterNetwork", {"name": "nothere"})
    assert missing.exit_code == 3
    assert missing.error["category"] == "ObjectNotFound"
    assert missing.error["terminating"] is False  # like Get-Item: the pipeline goes on
    by_cluster = bridge("Get-AksHciClusterNetwork", {"clusterName": "nocluster"})
    assert by_cluster.exit_code == 3 and by_cluster.results == []


def test_remove_cluster_network_what_if_then_for_real(bridge: Bridge) -> None:
    bridge("New-AksHciClusterNetwork", DHCP)
    what_if = bridge("Remove-AksHciClusterNetwork", {"name": "vnet1"}, what_if=True)
    assert what_if.exit_code == 0 and names(bridge) == ["vnet1"]
    removed = bridge("Remove-AksHciClusterNetwork", {"name": "vnet1"})
    assert removed.exit_code == 0 and removed.results == []
    assert names(bridge) == []
    again = bridge("Remove-AksHciClusterNetwork", {"name": "vnet1"}, what_if=True)
    assert again.exit_code == 3 and again.error["targetObject"] == "vnet1"


def test_load_balancer_setting_object(bridge: Bridge) -> None:
    parameters = {"name": "lb", "loadBalancerSku": "haproxy", "loadBalancerCount": 3}
    answer = bridge("New-AksHciLoadBalancerSetting", parameters)
    [result] = answer.of("result")
    assert result["typeName"] == "AksNet.LoadBalancerSetting"
    assert result["object"] == {
        "Name": "lb",
        "LoadBalancerSku": "HAProxy",
        "VmSize": "Standard_A4_v2",
        "LoadBalancerCount": 3,
    }
    bad = bridge("New-AksHciLoadBalancerSetting", {**parameters, "vmSize": "Huge"})
    assert bad.exit_code == 2 and bad.error["targetObject"] == "vmSize"


def test_vm_sizes(bridge: Bridge) -> None:
    answer = bridge("Get-AksHciVmSize")
    assert [r["VmSize"] for r in answer.results] == [s.name for s in VM_SIZES]
    assert {line["typeName"] for line in answer.of("result")} == {"AksNet.VmSize"}


def test_plugins_all_and_one(bridge: Bridge) -> None:
    assert [p["Name"] for p in bridge("Get-AksNetPlugin").results] == ["calico", "flannel"]
    [flannel] = bridge("Get-AksNetPlugin", {"name": "flannel"}).results
    assert flannel["NetworkPolicies"] is False and flannel["VxlanVni"] == 4096
    unknown = bridge("Get-AksNetPlugin", {"name": "cilium"})
    assert unknown.exit_code == 2 and unknown.error["targetObject"] == "name"


def test_config_round_trip_and_working_dir_selects_the_store(
    bridge: Bridge, bridge_home: Path, monkeypatch: Any
) -> None:
    assert bridge("Get-AksHciConfig").results[0]["labMode"] is False
    vnet = bridge("New-AksHciNetworkSetting", DHCP).results[0]
    work = bridge_home / "work"
    parameters = {"workingDir": str(work), "labMode": True, "vnet": vnet, "cloudAgentPort": 55000}
    assert bridge("Set-AksHciConfig", parameters, what_if=True).results == []
    assert not (bridge_home / "config.json").exists()
    answer = bridge("Set-AksHciConfig", parameters)
    assert answer.exit_code == 0
    config = bridge("Get-AksHciConfig").results[0]
    assert config["workingDir"] == str(work) and config["labMode"] is True
    assert config["vnet"]["Name"] == "vnet1"
    saved = json.loads((bridge_home / "config.json").read_text())
    assert saved["cloudAgentPort"] == 55000


def test_working_dir_is_the_home_when_aksnet_home_is_unset(bridge_home: Path) -> None:
    from tests.bridge.conftest import bridge_env, run_bridge

    env = bridge_env(bridge_home)
    del env["AKSNET_HOME"]
    work = bridge_home / "work"

    def call(command: str, parameters: dict[str, Any]) -> Any:
        request = {"protocol": 1, "command": command, "parameters": parameters}
        return run_bridge(json.dumps(request), env)

    assert call("Set-AksHciConfig", {"workingDir": str(work)}).exit_code == 0
    assert call("New-AksHciClusterNetwork", DHCP).exit_code == 0
    assert (work / "aksnet.db").exists()
    assert call("Get-AksHciConfig", {}).results[0]["StorePath"] == str(work / "aksnet.db")


def test_config_refuses_a_relative_working_dir(bridge: Bridge) -> None:
    answer = bridge("Set-AksHciConfig", {"workingDir": "relative/dir"})
    assert answer.exit_code == 2 and answer.error["targetObject"] == "workingDir"
    assert "absolute" in answer.error["message"]


def test_config_refuses_a_string_vnet_and_strips_proxy_secrets(bridge: Bridge) -> None:
    bad = bridge("Set-AksHciConfig", {"vnet": "vnet1"})
    assert bad.exit_code == 2 and bad.error["targetObject"] == "vnet"
    proxy = {"name": "p", "http": "http://198.18.0.1:3128", "credentialPassword": "hunter22"}
    bridge("Set-AksHciConfig", {"proxySettings": proxy})
    assert bridge("Get-AksHciConfig").results[0]["proxySettings"] == {
        "name": "p",
        "http": "http://198.18.0.1:3128",
    }
