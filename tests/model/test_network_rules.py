"""One test per documented network-setting rule (akshci-module.md §1.6, §1.7, §1.9, §2, §6)."""

from ipaddress import IPv4Address

import pytest

from aksnet.api import new_cluster_spec
from aksnet.errors import InvalidInput, NotFound, StateConflict
from aksnet.model.network import network_setting
from aksnet.state.store import Store
from tests.model.conftest import static


def refused(parameter: str, **params: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        network_setting(**params)  # type: ignore[arg-type]
    assert info.value.parameter == parameter
    return info.value


def test_name_must_be_all_lowercase_letters_and_numbers() -> None:
    for bad in ("LabNet", "lab-net", "lab net", ""):
        err = refused("name", **static(name=bad))
        assert "lowercase letters and numbers" in str(err)
    assert network_setting(**static(name="labnet2")).name == "labnet2"


def test_vswitch_name_is_required() -> None:
    refused("vswitchName", **static(vswitch_name=" "))


def test_vlan_id_is_optional_and_must_be_a_vlan() -> None:
    assert network_setting(**static()).vlan_id is None
    assert network_setting(**static(vlan_id=0)).to_dict()["Vlanid"] == 0
    assert network_setting(**static(vlan_id=7)).vlan_id == 7
    for bad in (4095, -1, True):
        refused("vlanID", **static(vlan_id=bad))


def test_dns_servers_one_to_three() -> None:
    refused("dnsServers", **static(dns_servers=[]))
    four = ["198.18.0.1", "198.18.0.2", "198.18.0.3", "198.18.0.4"]
    err = refused("dnsServers", **static(dns_servers=four))
    assert "at most 3" in str(err)
    assert len(network_setting(**static(dns_servers=four[:3])).dns_servers) == 3
    refused("dnsServers", **static(dns_servers=["not-an-ip"]))


def test_static_model_requires_every_static_parameter() -> None:
    for missing in ("ip_address_prefix", "gateway", "k8s_node_ip_pool_start"):
        params = static()
        del params[missing]
        err = refused(
            {
                "ip_address_prefix": "ipAddressPrefix",
                "gateway": "gateway",
                "k8s_node_ip_pool_start": "k8sNodeIpPoolStart",
            }[missing],
            **params,
        )
        assert "static IP model" in str(err)


def test_dhcp_model_takes_only_the_vip_pool() -> None:
    dhcp = network_setting(
        name="dhcpnet",
        vswitch_name="S",
        vip_pool_start="198.18.1.200",
        vip_pool_end="198.18.1.210",
    )
    assert dhcp.model == "dhcp" and dhcp.pool_kinds == ("vip",)
    with pytest.raises(InvalidInput):
        dhcp.pool("node")


def test_vip_pool_is_mandatory_and_ordered() -> None:
    refused("vipPoolStart", **static(vip_pool_start="nonsense"))
    err = refused(
        "vipPoolEnd", **static(vip_pool_start="198.18.0.204", vip_pool_end="198.18.0.200")
    )
    assert "must not come before" in str(err)


def test_prefix_must_be_a_network_address() -> None:
    err = refused("ipAddressPrefix", **static(ip_address_prefix="198.18.0.5/24"))
    assert "host bits" in str(err)
    refused("ipAddressPrefix", **static(ip_address_prefix="198.18.0.0"))


def test_node_pool_must_be_inside_the_prefix() -> None:
    refused("k8sNodeIpPoolStart", **static(k8s_node_ip_pool_end="198.18.1.5"))


def test_vip_pool_must_be_inside_the_prefix() -> None:
    err = refused("vipPoolStart", **static(vip_pool_end="198.18.1.4"))
    assert "inside ipAddressPrefix 198.18.0.0/24" in str(err)


def test_gateway_must_be_inside_the_prefix() -> None:
    refused("gateway", **static(gateway="198.18.5.1"))


def test_gateway_must_be_outside_both_pools() -> None:
    refused("gateway", **static(gateway="198.18.0.12"))
    refused("gateway", **static(gateway="198.18.0.201"))


def test_gateway_is_not_the_network_or_broadcast_address() -> None:
    refused("gateway", **static(gateway="198.18.0.0"))
    refused("gateway", **static(gateway="198.18.0.255"))


def test_pools_must_not_overlap_each_other() -> None:
    err = refused(
        "vipPoolStart", **static(vip_pool_start="198.18.0.30", vip_pool_end="198.18.0.40")
    )
    assert "must not overlap the node IP pool" in str(err)


def test_network_and_broadcast_addresses_are_never_handed_out(store: Store) -> None:
    setting = network_setting(
        **static(
            gateway="198.18.0.100",
            k8s_node_ip_pool_start="198.18.0.0",
            k8s_node_ip_pool_end="198.18.0.3",
            vip_pool_start="198.18.0.250",
            vip_pool_end="198.18.0.255",
        )
    )
    store.add_network(setting)
    node = store.allocate("labnet", "node", owner_kind="vm", owner="a", count=3)
    vip = store.allocate("labnet", "vip", owner_kind="service", owner="s", count=5)
    handed = {a.address for a in node + vip}
    assert IPv4Address("198.18.0.0") not in handed
    assert IPv4Address("198.18.0.255") not in handed
    assert store.free_count("labnet", "node") == 0 and store.free_count("labnet", "vip") == 0
    with pytest.raises(InvalidInput):
        store.allocate("labnet", "vip", owner_kind="service", owner="s", addresses=["198.18.0.255"])


def test_a_setting_cannot_change_once_a_cluster_uses_it(store: Store) -> None:
    store.add_network(network_setting(**static()))
    store.update_network(network_setting(**static(vlan_id=7)))  # no cluster yet: allowed
    assert store.get_network("labnet").vlan_id == 7
    store.add_cluster(new_cluster_spec(name="c1", vnet="labnet"))
    with pytest.raises(StateConflict) as info:
        store.update_network(network_setting(**static(vlan_id=8)))
    assert "c1" in str(info.value)
    assert store.get_network("labnet").vlan_id == 7


def test_removing_a_setting_that_a_cluster_uses_is_refused(store: Store) -> None:
    store.add_network(network_setting(**static()))
    store.add_cluster(new_cluster_spec(name="c1", vnet="labnet"))
    with pytest.raises(StateConflict) as info:
        store.remove_network("labnet")
    assert "Remove those clusters first" in str(info.value)
    store.remove_cluster("c1")
    store.remove_network("labnet")
    with pytest.raises(NotFound):
        store.get_network("labnet")


def test_duplicate_and_overlapping_settings_are_refused(store: Store) -> None:
    store.add_network(network_setting(**static()))
    with pytest.raises(StateConflict, match="already exists"):
        store.add_network(network_setting(**static()))
    overlapping = network_setting(
        name="other", vswitch_name="S", vip_pool_start="198.18.0.204", vip_pool_end="198.18.0.220"
    )
    with pytest.raises(StateConflict, match="overlaps"):
        store.add_network(overlapping)
    assert [n.name for n in store.list_networks()] == ["labnet"]
