"""New-AksHciCluster over the bridge: -WhatIf returns the plan with progress; creation is not
available yet and says so with a NotImplemented error."""

from __future__ import annotations

from tests.bridge.conftest import Bridge
from tests.bridge.test_bridge_commands import DHCP, STATIC


def test_what_if_returns_the_plan_with_progress(bridge: Bridge) -> None:
    bridge("New-AksHciClusterNetwork", STATIC)
    answer = bridge(
        "New-AksHciCluster",
        {"name": "c1", "vnet": "static1", "primaryNetworkPlugin": "flannel", "nodeCount": 2},
        what_if=True,
    )
    assert answer.exit_code == 0, answer.lines
    [result] = answer.of("result")
    assert result["typeName"] == "AksNet.ClusterPlan"
    plan = result["object"]
    assert plan["PrimaryNetworkPlugin"] == "flannel"
    assert plan["NodePools"] == [
        {"Name": "c1-linux", "OsType": "Linux", "Count": 2, "VmSize": "Standard_K8S3_v1"}
    ]
    progress = answer.of("progress")
    assert [p["percentComplete"] for p in progress] == [0, 50, 100]
    assert progress[-1]["completed"] is True
    assert answer.lines[-1]["type"] == "result"  # progress comes before the result


def test_what_if_accepts_network_and_load_balancer_objects(bridge: Bridge) -> None:
    vnet = bridge("New-AksHciClusterNetwork", DHCP).results[0]
    lb_parameters = {"name": "lb", "loadBalancerSku": "none"}
    lb = bridge("New-AksHciLoadBalancerSetting", lb_parameters).results[0]
    answer = bridge(
        "New-AksHciCluster",
        {"name": "c2", "vnet": vnet, "loadBalancerSettings": lb, "enableMonitoring": True},
        what_if=True,
    )
    assert answer.exit_code == 0, answer.lines
    assert answer.results[0]["Network"] == "vnet1"
    [warning] = answer.of("warning")
    assert "-enableMonitoring" in warning["message"]


def test_what_if_reports_invalid_values_by_parameter(bridge: Bridge) -> None:
    bridge("New-AksHciClusterNetwork", DHCP)
    answer = bridge("New-AksHciCluster", {"name": "my-cluster", "vnet": "vnet1"}, what_if=True)
    assert answer.exit_code == 2
    assert answer.error["targetObject"] == "name"
    missing = bridge("New-AksHciCluster", {"name": "c3", "vnet": "nonet"}, what_if=True)
    assert missing.exit_code == 3 and missing.error["targetObject"] == "nonet"
    no_vnet = bridge("New-AksHciCluster", {"name": "c3"}, what_if=True)
    assert no_vnet.exit_code == 2 and no_vnet.error["targetObject"] == "vnet"


def test_without_what_if_it_is_not_available_yet(bridge: Bridge) -> None:
    bridge("New-AksHciClusterNetwork", DHCP)
    answer = bridge("New-AksHciCluster", {"name": "c1", "vnet": "vnet1"})
    assert answer.exit_code == 1
    assert answer.error["category"] == "NotImplemented"
    assert answer.error["errorId"] == "NotAvailableYet"
    assert answer.error["terminating"] is True
    assert "not available yet in this version" in answer.error["message"]
    assert answer.results == []
