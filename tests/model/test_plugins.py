"""The network plugins: the capability table as data, refusals, immutability, Windows rules."""

import pytest

from aksnet.api import list_plugins, new_cluster_spec, show_plugin
from aksnet.errors import InvalidInput, StateConflict
from aksnet.model.cluster import node_pool_spec, with_node_pool
from aksnet.network.plugins import check_plugin_unchanged


def test_capability_table_is_the_documented_one() -> None:
    table = {p.name: p.capabilities for p in list_plugins()}
    assert set(table) == {"calico", "flannel"}
    flannel, calico = table["flannel"], table["calico"]
    assert (flannel.network_policies, calico.network_policies) == (False, True)
    assert (flannel.ipv6, calico.ipv6) == (False, True)
    assert flannel.layers_used == calico.layers_used == "L2 (VxLAN)"
    assert flannel.windows_support and calico.windows_support
    assert (flannel.pod_vm_same_network, calico.pod_vm_same_network) == (False, True)
    assert flannel.pod_vm_other_network and calico.pod_vm_other_network
    assert (flannel.command_line_tool, calico.command_line_tool) == (None, "calicoctl")


def test_default_plugin_is_calico() -> None:
    assert new_cluster_spec(name="c1", vnet="n").primary_network_plugin == "calico"


def test_network_policies_with_flannel_are_refused_naming_calico() -> None:
    with pytest.raises(InvalidInput) as info:
        new_cluster_spec(
            name="c1", vnet="n", primary_network_plugin="flannel", network_policies=True
        )
    assert info.value.parameter == "networkPolicies"
    assert "flannel" in str(info.value) and "calico" in str(info.value)


def test_ipv6_with_flannel_is_refused_naming_calico() -> None:
    with pytest.raises(InvalidInput) as info:
        new_cluster_spec(name="c1", vnet="n", primary_network_plugin="flannel", ipv6=True)
    assert info.value.parameter == "ipv6" and "calico" in str(info.value)
    assert new_cluster_spec(name="c1", vnet="n", ipv6=True, network_policies=True).ipv6


def test_plugin_cannot_change_after_creation() -> None:
    check_plugin_unchanged("c1", "flannel", None)
    check_plugin_unchanged("c1", "flannel", "FLANNEL")
    with pytest.raises(StateConflict) as info:
        check_plugin_unchanged("c1", "flannel", "calico")
    assert "cannot be changed after the cluster has been deployed" in str(info.value)


def test_every_cluster_uses_vni_4096_on_udp_4789() -> None:
    for plugin in list_plugins():
        assert (plugin.vxlan_vni, plugin.vxlan_port) == (4096, 4789)
        assert plugin.default_encapsulation == "vxlan"
        assert ("udp", "4789") in [(proto, port) for proto, port, _ in plugin.linux.firewall_ports]


def test_plugin_applies_to_windows_pools_with_vxlan_only() -> None:
    assert new_cluster_spec(name="c1", vnet="n", windows_node_count=1).encapsulation == "vxlan"
    with pytest.raises(InvalidInput, match="Windows nodes support only vxlan"):
        new_cluster_spec(name="c1", vnet="n", windows_node_count=1, encapsulation="ipip")
    # The default Windows pool exists even with 0 nodes, so IP-in-IP needs a Linux-only cluster.
    ipip = new_cluster_spec(name="c1", vnet="n", node_pool_name="lin", encapsulation="ipip")
    with pytest.raises(InvalidInput, match="no IP-in-IP"):
        with_node_pool(ipip, node_pool_spec(name="win", os_type="Windows"))
    with pytest.raises(InvalidInput, match="flannel supports only: vxlan"):
        new_cluster_spec(
            name="c1", vnet="n", primary_network_plugin="flannel", encapsulation="ipip"
        )


def test_plugins_state_what_nodes_need() -> None:
    flannel, calico = show_plugin("flannel"), show_plugin("calico")
    assert (
        "br_netfilter" in flannel.linux.kernel_modules and "vxlan" in flannel.linux.kernel_modules
    )
    assert ("net.ipv4.ip_forward", "1") in calico.linux.sysctls
    assert flannel.windows.hns_network_name == "flannel.4096"
    assert calico.windows.hns_network_name == "Calico"
    assert flannel.windows.bootstrap_network == calico.windows.bootstrap_network == "External"
    with pytest.raises(InvalidInput):
        show_plugin("weave")
