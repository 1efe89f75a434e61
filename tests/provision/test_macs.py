"""The managed MAC pool: locally administered, recorded in the store, one per VM, never shared."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from aksnet.errors import CapacityExceeded, InvalidInput
from aksnet.infra.macpool import DEFAULT_POOL, MacPool, colon_form, hyperv_form, parse_mac
from aksnet.state.macs import macs_of, release_macs
from aksnet.state.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "aksnet.db")


def test_formats_round_trip() -> None:
    mac = parse_mac("02-A5-4B-00-00-0a")
    assert colon_form(mac) == "02:a5:4b:00:00:0a" and hyperv_form(mac) == "02A54B00000A"
    assert parse_mac(hyperv_form(mac)) == mac


@pytest.mark.parametrize(
    "text", ["02:a5:4b:00:00", "zz:a5:4b:00:00:00", "", "02:a5:4b:00:00:00:00"]
)
def test_bad_macs_name_the_parameter(text: str) -> None:
    with pytest.raises(InvalidInput, match="'mac'"):
        parse_mac(text)


@pytest.mark.parametrize("first", ["00:15:5d:00:00:00", "03:00:00:00:00:00"])
def test_pools_outside_locally_administered_unicast_are_refused(first: str) -> None:
    with pytest.raises(InvalidInput, match="locally administered unicast"):
        MacPool.of(first, first)


def test_an_owner_keeps_its_mac_and_owners_never_share(store: Store) -> None:
    first = DEFAULT_POOL.allocate(store, "c1-cp-0", "c1")
    second = DEFAULT_POOL.allocate(store, "c1-linux-0", "c1")
    assert first != second and first >> 40 == 0x02
    assert DEFAULT_POOL.allocate(store, "c1-cp-0", "c1") == first
    assert [m.owner for m in macs_of(store, cluster="c1")] == ["c1-cp-0", "c1-linux-0"]


def test_released_macs_return_to_the_pool(store: Store) -> None:
    pool = MacPool.of("02:00:00:00:00:00", "02:00:00:00:00:01")
    a = pool.allocate(store, "a", "c1")
    pool.allocate(store, "b", "c2")
    with pytest.raises(CapacityExceeded, match="MAC pool"):
        pool.allocate(store, "c", "c2")
    assert release_macs(store, cluster="c1") == 1
    assert pool.allocate(store, "c", "c2") == a
    with pytest.raises(InvalidInput):
        release_macs(store)


def test_two_processes_never_hand_out_one_mac(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    Store(path).close()
    got: dict[str, int] = {}

    def worker(prefix: str) -> None:
        with Store(path) as own:
            for i in range(20):
                got[f"{prefix}-{i}"] = DEFAULT_POOL.allocate(own, f"{prefix}-{i}")

    threads = [threading.Thread(target=worker, args=(p,)) for p in ("x", "y", "z")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 60 and len(set(got.values())) == 60
