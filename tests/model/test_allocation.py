"""Address allocation in the SQLite store: properties, requests, exhaustion, concurrency."""

import multiprocessing
import tempfile
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aksnet.errors import CapacityExceeded, InvalidInput, StateConflict
from aksnet.model.network import network_setting
from aksnet.state.schema import SCHEMA_VERSION
from aksnet.state.store import Store
from tests.model.conftest import static

POOL = range(int(IPv4Address("198.18.0.10")), int(IPv4Address("198.18.0.36")) + 1)

# An operation: ("alloc", count) or ("release", index into the current allocations).
operations = st.lists(
    st.one_of(
        st.tuples(st.just("alloc"), st.integers(1, 6)),
        st.tuples(st.just("release"), st.integers(0, 40)),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(operations)
def test_never_a_duplicate_never_outside_the_pool_and_release_returns(
    ops: list[tuple[str, int]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "s.db") as store:
        store.add_network(network_setting(**static()))
        held: list[str] = []
        for op, n in ops:
            if op == "alloc":
                free = store.free_count("labnet", "node")
                if n > free:
                    with pytest.raises(CapacityExceeded):
                        store.allocate("labnet", "node", owner_kind="vm", owner="x", count=n)
                    continue
                got = store.allocate("labnet", "node", owner_kind="vm", owner="x", count=n)
                held += [str(a.address) for a in got]
            elif held:
                store.release("labnet", [held.pop(n % len(held))])
            stored = [int(a.address) for a in store.allocations("labnet")]
            assert len(stored) == len(set(stored)), "duplicate address"
            assert all(a in POOL for a in stored), "address outside its pool"
            assert sorted(stored) == sorted(int(IPv4Address(h)) for h in held)
            assert store.free_count("labnet", "node") == len(POOL) - len(held)


def test_release_then_allocate_again_gives_the_address_back(store: Store) -> None:
    store.add_network(network_setting(**static()))
    first = store.allocate("labnet", "node", owner_kind="vm", owner="a", count=27)
    store.release("labnet", [str(first[4].address)])
    again = store.allocate("labnet", "node", owner_kind="vm", owner="b")
    assert again[0].address == first[4].address


def test_a_specific_free_address_can_be_requested(store: Store) -> None:
    store.add_network(network_setting(**static()))
    got = store.allocate(
        "labnet", "vip", owner_kind="service", owner="web", addresses=["198.18.0.203"]
    )
    assert str(got[0].address) == "198.18.0.203"


def test_a_taken_address_is_refused_naming_its_owner(store: Store) -> None:
    store.add_network(network_setting(**static()))
    store.allocate("labnet", "vip", owner_kind="service", owner="web", addresses=["198.18.0.203"])
    with pytest.raises(StateConflict, match="service 'web'"):
        store.allocate(
            "labnet", "vip", owner_kind="service", owner="db", addresses=["198.18.0.203"]
        )


def test_an_out_of_pool_address_is_refused(store: Store) -> None:
    store.add_network(network_setting(**static()))
    with pytest.raises(InvalidInput, match=r"VIP pool 198\.18\.0\.200-198\.18\.0\.204"):
        store.allocate(
            "labnet", "vip", owner_kind="service", owner="web", addresses=["198.18.0.20"]
        )


def test_exhaustion_is_refused_with_nothing_written(store: Store) -> None:
    store.add_network(network_setting(**static()))
    store.allocate("labnet", "vip", owner_kind="service", owner="a", count=3)
    with pytest.raises(CapacityExceeded) as info:
        store.allocate("labnet", "vip", owner_kind="service", owner="b", count=3)
    assert (info.value.needed, info.value.free) == (3, 2)
    assert len(store.allocations("labnet")) == 3
    assert [a.owner for a in store.allocations("labnet")] == ["a", "a", "a"]


def test_addresses_for_several_owners_come_in_one_transaction(store: Store) -> None:
    store.add_network(network_setting(**static()))
    store.allocate("labnet", "vip", owner_kind="service", owner="x", count=3)
    got = store.allocate_each("labnet", "vip", owner_kind="vm", owners=["a", "b"], cluster="c1")
    assert [(a.owner, str(a.address)) for a in got] == [
        ("a", "198.18.0.203"),
        ("b", "198.18.0.204"),
    ]
    with pytest.raises(CapacityExceeded):
        store.allocate_each("labnet", "vip", owner_kind="vm", owners=["c", "d"])
    with pytest.raises(CapacityExceeded):
        store.allocate_each("labnet", "vip", owner_kind="vm", owners=["e"])
    assert sorted(a.owner for a in store.allocations("labnet")) == ["a", "b", "x", "x", "x"]


def test_listing_a_network_shows_its_allocations(store: Store) -> None:
    from aksnet.api import get_network_settings

    store.add_network(network_setting(**static()))
    store.allocate("labnet", "node", owner_kind="vm", owner="c1-cp-0", cluster="c1")
    (view,) = get_network_settings(store, "labnet")
    assert view.to_dict()["Allocations"] == [
        {
            "Network": "labnet",
            "Pool": "node",
            "Address": "198.18.0.10",
            "OwnerKind": "vm",
            "Owner": "c1-cp-0",
            "Cluster": "c1",
        }
    ]
    assert view.free == {"node": 26, "vip": 5}


def _allocate_share(path: str, worker: int, start: Any, out: Any) -> None:
    """Allocate 125 addresses, one transaction each, while seven other processes do the same."""
    with Store(path) as store:
        start.wait(60)  # every worker begins at once, so they contend for the same addresses
        got = [
            str(store.allocate("wide", "vip", owner_kind="w", owner=str(worker))[0].address)
            for _ in range(125)
        ]
    out.put(got)


def test_eight_processes_never_receive_the_same_address(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    with Store(path) as store:
        store.add_network(
            network_setting(
                name="wide",
                vswitch_name="S",
                vip_pool_start="198.18.8.1",
                vip_pool_end="198.18.11.232",
            )
        )
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    start = ctx.Event()
    workers = [ctx.Process(target=_allocate_share, args=(path, i, start, queue)) for i in range(8)]
    for w in workers:
        w.start()
    start.set()
    results = [queue.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    handed = [a for r in results for a in r]
    assert len(handed) == len(set(handed)) == 1000, "duplicate or lost address"
    assert all(len(r) == 125 for r in results)
    with Store(path) as store:
        assert len(store.allocations("wide")) == 1000
        assert store.free_count("wide", "vip") == 0


def test_schema_is_versioned_and_a_newer_store_is_refused(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "s.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(RuntimeError, match="newer than this aksnet"):
        Store(path)


def test_store_location_follows_aksnet_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from aksnet.state.paths import default_store_path

    monkeypatch.setenv("AKSNET_HOME", str(tmp_path / "home"))
    assert default_store_path() == tmp_path / "home" / "aksnet.db"
    monkeypatch.delenv("AKSNET_HOME")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_store_path() == tmp_path / "xdg" / "aksnet" / "aksnet.db"
