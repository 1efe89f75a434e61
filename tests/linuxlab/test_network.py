"""LabNetwork: a bridge per slot, the slot's /24 gateway on it, taken atomically."""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

import pytest

from aksnet.errors import InvalidInput, StateConflict
from aksnet.lab.linux import LabNetwork, state
from aksnet.lab.linux.network import subnet_of
from tests.linuxlab.conftest import TEST_SLOTS, footprint, leftovers


def test_slots_map_into_the_lab_range() -> None:
    assert subnet_of(0) == ipaddress.IPv4Network("198.18.0.0/24")
    assert subnet_of(255) == ipaddress.IPv4Network("198.18.255.0/24")
    assert subnet_of(256) == ipaddress.IPv4Network("198.19.0.0/24")
    assert subnet_of(511) == ipaddress.IPv4Network("198.19.255.0/24")
    with pytest.raises(InvalidInput, match="slot"):
        subnet_of(512)


def test_bad_prefix_and_slots_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"'prefix'.*'toolong'"):
        LabNetwork(tmp_path, "toolong")
    with pytest.raises(InvalidInput, match="'slots'"):
        LabNetwork(tmp_path, "akt", slots=range(500, 600))
    with pytest.raises(StateConflict, match="not up"):
        _ = LabNetwork(tmp_path, "akt").subnet


def _addresses(bridge: str) -> str:
    return subprocess.run(
        ["ip", "-4", "-o", "address", "show", "dev", bridge], capture_output=True, text=True
    ).stdout


def _machine_network() -> tuple[str, str, str]:
    """What the lab must never change: forwarding, the nftables rules, eth0's addresses."""
    forwarding = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    rules = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    return forwarding, rules, _addresses("eth0")


def test_two_labs_take_different_slots_and_down_removes_the_bridge(lab_dir: Path) -> None:
    machine = _machine_network()
    first = LabNetwork(lab_dir, "akt", slots=TEST_SLOTS).up()
    second = LabNetwork(lab_dir, "akt", slots=TEST_SLOTS).up()
    try:
        assert first.slot != second.slot
        assert first.subnet != second.subnet
        for net in (first, second):
            assert net.subnet.subnet_of(ipaddress.IPv4Network("198.19.0.0/16"))
            assert f"inet {net.gateway}/24 " in _addresses(net.bridge)
        assert set(state.read(lab_dir)["bridges"]) == {first.bridge, second.bridge}
        assert _machine_network() == machine
    finally:
        bridges = [first.bridge, second.bridge]
        before = footprint(lab_dir, bridges)
        first.down()
        second.down()
        second.down()
    assert len(before) == 2
    assert leftovers(lab_dir, bridges, before) == []
    assert state.read(lab_dir)["bridges"] == {}


def test_a_subnet_held_by_another_prefix_is_skipped(lab_dir: Path) -> None:
    first = LabNetwork(lab_dir, "akt", slots=TEST_SLOTS).up()
    try:
        assert first.slot is not None
        other = LabNetwork(lab_dir, "aku", slots=range(first.slot, TEST_SLOTS.stop)).up()
        try:
            assert other.slot != first.slot
            assert other.subnet != first.subnet
            assert set(state.read(lab_dir)["bridges"]) == {first.bridge, other.bridge}
        finally:
            other.down()
    finally:
        first.down()
