"""WindowsNodeSetup against the lab's emulated Windows node over real PSRP: every cmdlet is bound
against its contract there, so a wrong parameter fails the run."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from aksnet.errors import InvalidInput
from aksnet.infra.windowsnode import (
    HELPER_MODULE,
    HELPER_PATH,
    KUBE_PROXY_CONFIG,
    HnsNetworkFact,
    HnsNetworkInfo,
    WindowsNodeSetup,
    WindowsNodeSpec,
)
from aksnet.lab.hyperv.hns import HnsNetwork
from aksnet.network.plugins import CALICO, FLANNEL, Plugin
from aksnet.plan import RunResult, apply, dry_run, format_result
from aksnet.remote import psfiles
from tests.windowsnode.conftest import LabWindowsNode

PLUGINS = [pytest.param(FLANNEL, id="flannel"), pytest.param(CALICO, id="calico")]


def spec(lab: LabWindowsNode, subnet: str = "10.244.3.0/24") -> WindowsNodeSpec:
    return WindowsNodeSpec(lab.node.name, lab.session, subnet, "10.244.0.0/16")


def phase(plugin: Plugin, *labs: LabWindowsNode) -> WindowsNodeSetup:
    nodes = [spec(lab, f"10.244.{3 + i}.0/24") for i, lab in enumerate(labs)]
    return WindowsNodeSetup(plugin, nodes, network_timeout=10, poll_interval=0.05)


def network(lab: LabWindowsNode, name: str) -> HnsNetwork:
    found = [n for n in lab.node.networks if n.name == name]
    assert len(found) == 1, f"expected one HNS network {name}, found {lab.node.networks}"
    return found[0]


def done_titles(result: RunResult) -> list[str]:
    return [r.title for r in result.changes]


def node_state(lab: LabWindowsNode) -> dict[str, Any]:
    node = lab.node
    files = sorted(
        (str(p.relative_to(node.fs.root)), p.read_bytes())
        for p in node.fs.root.rglob("*")
        if p.is_file()
    )
    return copy.deepcopy(
        {
            "networks": [(n.id, n.name, n.subnets) for n in node.networks],
            "rules": dict(node.firewall_rules),
            "services": {k: s.status for k, s in node.services.items()},
            "files": files,
        }
    )


@pytest.mark.parametrize("plugin", PLUGINS)
def test_first_run_sets_up_the_node(plugin: Plugin, win_node: LabWindowsNode) -> None:
    apply([phase(plugin, win_node)])

    pods = network(win_node, plugin.windows.hns_network_name)
    assert pods.type == "Overlay"
    assert pods.subnets == [
        {
            "AddressPrefix": "10.244.3.0/24",
            "GatewayAddress": "10.244.3.1",
            "Policies": [{"Type": "VSID", "VSID": 4096}],
        }
    ]
    external = network(win_node, "External")
    assert external.type == "Overlay"
    assert external.subnets[0]["AddressPrefix"] == "192.168.255.0/30"
    assert external.subnets[0]["GatewayAddress"] == "192.168.255.1"
    assert external.subnets[0]["Policies"] == [{"Type": "VSID", "VSID": 9999}]

    vxlan = win_node.node.firewall_rules["aksnet-udp-4789"]
    assert (vxlan["Protocol"], vxlan["LocalPort"], vxlan["Action"]) == ("UDP", ["4789"], "Allow")
    assert "aksnet-tcp-10250" in win_node.node.firewall_rules
    for service in plugin.windows.services:
        assert win_node.node.services[service.lower()].status == "Running", service
    assert win_node.node.services["containerd"].status == "Stopped"  # not the plugin's


@pytest.mark.parametrize("plugin", PLUGINS)
def test_kube_proxy_configuration_and_helper_module(
    plugin: Plugin, win_node: LabWindowsNode
) -> None:
    apply([phase(plugin, win_node)])

    config = json.loads(psfiles.get(win_node.session, KUBE_PROXY_CONFIG))
    assert config == {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "kernelspace",
        "hostnameOverride": "win1",
        "clusterCIDR": "10.244.0.0/16",
        "featureGates": {"WinOverlay": True},
        "winkernel": {
            "networkName": plugin.windows.hns_network_name,
            "sourceVip": "10.244.3.2",
            "enableDSR": False,
        },
    }
    assert psfiles.get(win_node.session, HELPER_PATH) == HELPER_MODULE.read_bytes()
    assert "hns" in win_node.node.imported_modules


@pytest.mark.parametrize("plugin", PLUGINS)
def test_second_run_performs_zero_actions(plugin: Plugin, win_node: LabWindowsNode) -> None:
    first = apply([phase(plugin, win_node)])
    network = plugin.windows.hns_network_name
    others = [s for s in plugin.windows.services if s != "kube-proxy"]
    assert done_titles(first) == [
        "New-NetFirewallRule aksnet-udp-4789 (UDP 4789), aksnet-tcp-10250 (TCP 10250) on win1",
        f"Copy the HNS helper module to {HELPER_PATH} and New-HnsNetwork External "
        "(Overlay 192.168.255.0/30, VSID 9999) on win1; the node's network blips",
        f"New-HnsNetwork {network} (Overlay 10.244.3.0/24, VNI 4096) on win1",
        f"Write {KUBE_PROXY_CONFIG} (kernelspace, WinOverlay, source VIP 10.244.3.2) and "
        "restart kube-proxy on win1",
        f"Start-Service {', '.join(others)} on win1",
    ]
    before = node_state(win_node)

    second = apply([phase(plugin, win_node)])

    assert second.changes == []
    assert "0 actions performed" in format_result(second)
    assert node_state(win_node) == before


@pytest.mark.parametrize("plugin", PLUGINS)
def test_dry_run_changes_nothing_and_lists_what_apply_does(
    plugin: Plugin, win_node: LabWindowsNode
) -> None:
    before = node_state(win_node)

    planned = dry_run([phase(plugin, win_node)])

    assert node_state(win_node) == before
    assert win_node.node.networks == []
    titles = [r.title for r in planned.changes]
    assert any(plugin.windows.hns_network_name in t and "VNI 4096" in t for t in titles)
    assert done_titles(apply([phase(plugin, win_node)])) == titles


def test_reboot_repairs_lost_networks_but_keeps_a_surviving_external(
    win_node: LabWindowsNode,
) -> None:
    apply([phase(FLANNEL, win_node)])
    external = network(win_node, "External")
    external.persistent = True  # it survives the restart; flannel.4096 does not

    win_node.node.reboot()
    assert [n.name for n in win_node.node.networks] == ["External"]
    assert win_node.node.imported_modules == set()
    repaired = apply([phase(FLANNEL, win_node)])

    assert network(win_node, "External").id == external.id  # not recreated: no blip
    assert network(win_node, "flannel.4096").subnets[0]["Policies"] == [
        {"Type": "VSID", "VSID": 4096}
    ]
    assert done_titles(repaired) == [
        "New-HnsNetwork flannel.4096 (Overlay 10.244.3.0/24, VNI 4096) on win1",
        "Restart-Service kube-proxy on win1 (its HNS network was recreated)",
    ]
    assert apply([phase(FLANNEL, win_node)]).changes == []


def test_reboot_that_loses_external_recreates_both(win_node: LabWindowsNode) -> None:
    apply([phase(CALICO, win_node)])
    win_node.node.reboot()

    repaired = apply([phase(CALICO, win_node)])

    assert sorted(n.name for n in win_node.node.networks) == ["Calico", "External"]
    assert [t.split(" (")[0] for t in done_titles(repaired)] == [
        "New-HnsNetwork External",
        "New-HnsNetwork Calico",
        "Restart-Service kube-proxy on win1",
    ]


def test_a_pod_network_with_the_wrong_vni_is_replaced(win_node: LabWindowsNode) -> None:
    apply([phase(FLANNEL, win_node)])
    wrong = network(win_node, "flannel.4096")
    wrong.subnets[0]["Policies"] = [{"Type": "VSID", "VSID": 1}]

    result = apply([phase(FLANNEL, win_node)])

    assert done_titles(result)[0].startswith("Replace HNS network flannel.4096")
    replaced = network(win_node, "flannel.4096")
    assert replaced.id != wrong.id
    assert replaced.subnets[0]["Policies"] == [{"Type": "VSID", "VSID": 4096}]


def test_nodes_are_set_up_in_parallel_each_with_its_subnet(
    win_node: LabWindowsNode, win_node2: LabWindowsNode
) -> None:
    result = apply([phase(FLANNEL, win_node, win_node2)], per_host=1)

    assert {r.host for r in result.changes} == {"win1", "win2"}
    assert network(win_node, "flannel.4096").subnets[0]["AddressPrefix"] == "10.244.3.0/24"
    assert network(win_node2, "flannel.4096").subnets[0]["AddressPrefix"] == "10.244.4.0/24"
    assert apply([phase(FLANNEL, win_node, win_node2)]).changes == []


def test_network_fact_reads_type_prefix_and_vni(win_node: LabWindowsNode) -> None:
    fact = HnsNetworkFact(win_node.session, "FLANNEL.4096")
    assert fact.read("win1") is None
    apply([phase(FLANNEL, win_node)])
    assert fact.read("win1") == HnsNetworkInfo("flannel.4096", "Overlay", "10.244.3.0/24", 4096)


@pytest.mark.parametrize(
    ("parameter", "subnet", "cluster"),
    [
        ("pod_subnet", "10.244.3.0/33", "10.244.0.0/16"),
        ("pod_subnet", "10.245.3.0/24", "10.244.0.0/16"),
        ("cluster_cidr", "10.244.3.0/24", "cluster"),
    ],
)
def test_bad_subnets_are_refused_naming_the_parameter(
    parameter: str, subnet: str, cluster: str, win_node: LabWindowsNode
) -> None:
    with pytest.raises(InvalidInput) as raised:
        WindowsNodeSpec("win1", win_node.session, subnet, cluster)
    assert parameter in str(raised.value)


def test_a_changed_kube_proxy_configuration_is_rewritten(win_node: LabWindowsNode) -> None:
    apply([phase(FLANNEL, win_node)])
    win_node.node.fs.real(KUBE_PROXY_CONFIG).write_bytes(b"mode: userspace\n")

    result = apply([phase(FLANNEL, win_node)])

    assert [t.split(" (")[0] for t in done_titles(result)] == [f"Write {KUBE_PROXY_CONFIG}"]
    assert json.loads(psfiles.get(win_node.session, KUBE_PROXY_CONFIG))["mode"] == "kernelspace"


def test_a_missing_helper_module_is_shipped_before_networks_are_created(
    win_node: LabWindowsNode,
) -> None:
    apply([phase(FLANNEL, win_node)])
    win_node.node.fs.real(HELPER_PATH).unlink()
    win_node.node.reboot()

    result = apply([phase(FLANNEL, win_node)])

    titles = [t.split(" (")[0] for t in done_titles(result)]
    assert titles[:2] == [
        f"Copy the HNS helper module to {HELPER_PATH} and New-HnsNetwork External",
        "New-HnsNetwork flannel.4096",
    ]
    assert sorted(n.name for n in win_node.node.networks) == ["External", "flannel.4096"]


@pytest.mark.parametrize("name", ["", "win 1", "win1\nmode: userspace", "-win", "w" * 64])
def test_bad_node_names_are_refused(name: str, win_node: LabWindowsNode) -> None:
    with pytest.raises(InvalidInput) as raised:
        WindowsNodeSpec(name, win_node.session, "10.244.3.0/24", "10.244.0.0/16")
    assert "name" in str(raised.value)


def test_a_node_listed_twice_is_refused(win_node: LabWindowsNode) -> None:
    with pytest.raises(InvalidInput) as raised:
        WindowsNodeSetup(FLANNEL, [spec(win_node), spec(win_node)])
    assert "nodes" in str(raised.value)
