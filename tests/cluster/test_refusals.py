"""What cluster creation refuses before it creates anything (no lab needed: no host is asked)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet import api
from aksnet.cluster import records
from aksnet.cluster.hosts import HostConnections
from aksnet.errors import InvalidInput, StateConflict
from aksnet.remote.base import Credential, Endpoint
from aksnet.state.lease import HeldLease
from aksnet.state.macs import macs_of
from aksnet.state.store import Store

NOWHERE = HostConnections({}, Credential("nobody", "unused"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "aksnet.db") as opened:
        yield opened


def add_network(store: Store, name: str, *, static: bool) -> None:
    addressing = (
        {
            "ip_address_prefix": "198.19.250.0/24",
            "gateway": "198.19.250.1",
            "dns_servers": ["198.19.250.1"],
            "k8s_node_ip_pool_start": "198.19.250.10",
            "k8s_node_ip_pool_end": "198.19.250.40",
        }
        if static
        else {}
    )
    api.new_network_setting(
        store,
        name=name,
        vswitch_name="sw",
        vip_pool_start="198.19.250.200",
        vip_pool_end="198.19.250.210",
        **addressing,
    )


def assert_nothing_recorded(store: Store, tmp_path: Path) -> None:
    assert store.list_clusters() == []
    assert store.allocations() == []
    assert macs_of(store) == []
    assert not (tmp_path / "clusters").exists()


def test_a_windows_pool_passes_the_checks_and_stops_only_at_the_missing_hosts(
    store: Store, tmp_path: Path
) -> None:
    add_network(store, "net1", static=True)
    spec = api.new_cluster_spec(
        name="c1",
        vnet="net1",
        primary_network_plugin="flannel",
        linux_node_count=2,
        windows_node_count=1,
    )
    with pytest.raises(InvalidInput) as caught:
        api.new_cluster(store, spec, NOWHERE)
    assert caught.value.parameter == "hosts"
    assert_nothing_recorded(store, tmp_path)  # no password, no certificate generated either


def test_a_windows_pool_with_ip_in_ip_is_refused_before_anything_is_created(
    store: Store, tmp_path: Path
) -> None:
    add_network(store, "net1", static=True)
    with pytest.raises(InvalidInput) as caught:
        api.new_cluster_spec(
            name="c1",
            vnet="net1",
            primary_network_plugin="calico",
            linux_node_count=1,
            windows_node_count=1,
            encapsulation="ipip",
        )
    assert caught.value.parameter == "encapsulation"
    assert "Windows nodes support only vxlan" in str(caught.value)
    assert_nothing_recorded(store, tmp_path)


def test_a_windows_pool_of_count_zero_is_not_a_windows_pool(store: Store, tmp_path: Path) -> None:
    add_network(store, "net1", static=True)
    spec = api.new_cluster_spec(name="c1", vnet="net1", linux_node_count=1, windows_node_count=0)
    # It stops only at the missing hosts.
    with pytest.raises(InvalidInput) as caught:
        api.new_cluster(store, spec, NOWHERE)
    assert caught.value.parameter == "hosts"
    assert_nothing_recorded(store, tmp_path)


def test_a_windows_pool_in_the_dhcp_model_passes_the_checks(store: Store, tmp_path: Path) -> None:
    add_network(store, "dhcp1", static=False)
    spec = api.new_cluster_spec(name="c1", vnet="dhcp1", linux_node_count=1, windows_node_count=1)
    # Its WinRM certificate is matched by its DNS SAN there: it stops only at the missing hosts.
    with pytest.raises(InvalidInput) as caught:
        api.new_cluster(store, spec, NOWHERE)
    assert caught.value.parameter == "hosts"
    assert_nothing_recorded(store, tmp_path)


def test_a_linux_cluster_in_the_dhcp_model_passes_the_checks(store: Store, tmp_path: Path) -> None:
    add_network(store, "dhcp1", static=False)
    spec = api.new_cluster_spec(name="c1", vnet="dhcp1", linux_node_count=1)
    with pytest.raises(InvalidInput) as caught:  # it stops only at the missing hosts
        api.new_cluster(store, spec, NOWHERE)
    assert caught.value.parameter == "hosts"
    assert_nothing_recorded(store, tmp_path)


# Never contacted: each test below is refused before any host is asked.
UNREACHED = HostConnections({"hci1": Endpoint("198.19.250.250")}, Credential("nobody", "unused"))


def test_a_node_pool_named_lb_is_refused_while_the_cluster_has_load_balancer_vms(
    store: Store, tmp_path: Path
) -> None:
    add_network(store, "net1", static=True)
    spec = api.new_cluster_spec(name="c1", vnet="net1", node_pool_name="lb", node_count=1)
    with pytest.raises(InvalidInput, match="c1-lb-") as caught:
        api.new_cluster(store, spec, UNREACHED)
    assert caught.value.parameter == "nodePoolName" and caught.value.value == "lb"
    assert_nothing_recorded(store, tmp_path)


def test_a_create_is_refused_while_another_run_holds_the_cluster(
    store: Store, tmp_path: Path
) -> None:
    add_network(store, "net1", static=True)
    spec = api.new_cluster_spec(name="c1", vnet="net1", node_pool_name="linux", node_count=1)
    with HeldLease(store.path, "c1") as other, pytest.raises(StateConflict) as caught:
        api.new_cluster(store, spec, UNREACHED)
    assert other.holder.run_id in str(caught.value)  # names the run that holds it
    assert_nothing_recorded(store, tmp_path)  # no record, no address, no MAC, no key


def test_a_removal_is_refused_while_another_run_holds_the_cluster(store: Store) -> None:
    add_network(store, "net1", static=True)
    spec = api.new_cluster_spec(name="c1", vnet="net1", node_pool_name="linux", node_count=1)
    records.ensure_recorded(store, spec)
    with HeldLease(store.path, "c1"), pytest.raises(StateConflict):
        api.remove_cluster(store, "c1", UNREACHED)
    assert records.state_of(store, "c1") == records.CREATING  # not marked 'removing'
    assert [s.name for s in store.list_clusters()] == ["c1"]
