"""The store keeps the addresses learnt from the hosts (DHCP model): one per VM, replaced when
the host reports another, forgotten with the VM's allocations and with the cluster; a store of
schema version 3 gains the table. No lab."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aksnet import api
from aksnet.cluster.get import get_cluster
from aksnet.errors import InvalidInput
from aksnet.infra.nodeseed import NodeSeed
from aksnet.infra.provision import LearntAddresses, NodeVm, ProvisionSettings, ProvisionVMs
from aksnet.model.network import network_setting
from aksnet.state.schema import MIGRATIONS
from aksnet.state.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "aksnet.db") as opened:
        opened.add_network(
            network_setting(
                name="dhcpnet",
                vswitch_name="sw",
                vip_pool_start="198.19.250.200",
                vip_pool_end="198.19.250.210",
            )
        )
        for name in ("c1", "c2"):
            spec = api.new_cluster_spec(
                name=name, vnet="dhcpnet", node_pool_name="linux", node_count=1
            )
            opened.add_cluster(spec, state="provisioned")
        yield opened


def test_learnt_addresses_are_kept_replaced_and_forgotten(store: Store) -> None:
    assert store.record_learnt_address("c1", "c1-cp-0", "dhcpnet", "198.19.250.30")
    assert not store.record_learnt_address("c1", "c1-cp-0", "dhcpnet", "198.19.250.30")
    assert store.record_learnt_address("c1", "c1-cp-0", "dhcpnet", "198.19.250.31")  # renewed
    store.record_learnt_address("c1", "c1-linux-0", "dhcpnet", "198.19.250.32")
    store.record_learnt_address("c2", "c2-cp-0", "dhcpnet", "198.19.250.33")
    assert store.learnt_addresses(cluster="c1") == {
        "c1-cp-0": "198.19.250.31",
        "c1-linux-0": "198.19.250.32",
    }
    with pytest.raises(InvalidInput, match="address"):
        store.record_learnt_address("c1", "c1-cp-0", "dhcpnet", "not-an-address")

    # Not reservations: the allocations (aksnet's decisions) do not list them.
    assert [a.owner for a in store.allocations(cluster="c1")] == []
    assert store.release_owner("vm", "c1-linux-0") == 0  # a scale-down's release
    assert store.learnt_addresses(cluster="c1") == {"c1-cp-0": "198.19.250.31"}
    store.remove_cluster("c1")
    assert store.learnt_addresses() == {"c2-cp-0": "198.19.250.33"}


def test_get_shows_learnt_addresses_of_a_dhcp_cluster(store: Store) -> None:
    store.record_learnt_address("c1", "c1-cp-0", "dhcpnet", "198.19.250.30")
    view = get_cluster(store, "c1")
    nodes = {n["Name"]: n for n in view.to_dict()["Nodes"]}
    assert nodes["c1-cp-0"]["Address"] == "198.19.250.30"
    assert nodes["c1-cp-0"]["Role"] == "control-plane"
    assert nodes["c1-cp-0"]["AddressSource"] == "dhcp"


def test_a_version_3_store_gains_the_learnt_addresses_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for version, migration in enumerate(MIGRATIONS[:3], start=1):
        conn.executescript(migration)
        conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    with Store(path) as store:
        assert store.learnt_addresses() == {}
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
    conn.close()


def _dhcp_vm(name: str) -> NodeVm:
    seed = NodeSeed({"instance-id": name}, {}, {"version": 2})
    return NodeVm(name, "worker", 2, 4 << 30, 0x02A54B000001, None, seed, "")


def test_provision_starts_from_the_recorded_addresses_and_records_what_it_learns(
    store: Store,
) -> None:
    store.record_learnt_address("c1", "c1-linux-0", "dhcpnet", "198.19.250.30")
    learnt = LearntAddresses(store.path, "c1", "dhcpnet")
    unused: Any = None  # no VM is reached here
    settings = ProvisionSettings("sw", None, "clouduser", admin_key=unused, known_hosts=unused)
    phase = ProvisionVMs([_dhcp_vm("c1-linux-0"), _dhcp_vm("c1-linux-1")], {}, settings, learnt)
    assert phase.addresses == {"c1-linux-0": "198.19.250.30"}  # c1-linux-1: not learnt yet
    learnt.record("c1-linux-1", "198.19.250.31")  # what _provision does once the host reports it
    assert store.learnt_addresses(cluster="c1")["c1-linux-1"] == "198.19.250.31"
