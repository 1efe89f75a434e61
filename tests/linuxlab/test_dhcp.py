"""The lab's EMULATED DHCP: leases of .100-.199 of the lab /24, kept per MAC in the lab dir."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from aksnet.errors import CapacityExceeded, InvalidInput
from aksnet.lab.linux.cloudinit import address_for
from aksnet.lab.linux.dhcp import EmulatedDhcp

SUBNET = ipaddress.IPv4Network("198.19.7.0/24")
GATEWAY = ipaddress.IPv4Address("198.19.7.1")


def test_a_new_mac_gets_the_first_free_address_and_keeps_it(tmp_path: Path) -> None:
    dhcp = EmulatedDhcp(tmp_path, SUBNET, GATEWAY)
    first = dhcp.lease("02:a5:00:00:00:01", "n1")
    assert (str(first.interface), first.gateway, first.nameservers) == (
        "198.19.7.100/24",
        GATEWAY,
        (),
    )
    assert str(dhcp.lease("02-A5-00-00-00-02").interface.ip) == "198.19.7.101"
    # Another lab process (a restarted lab) reads the same leases from the lab dir.
    again = EmulatedDhcp(tmp_path, SUBNET, GATEWAY)
    assert again.lease("02a500000001") == first
    assert again.leases()["02:a5:00:00:00:01"] == {"address": "198.19.7.100", "hostname": "n1"}
    status = again.status()
    assert status["label"] == "EMULATED DHCP" and status["range"] == "198.19.7.100-198.19.7.199"


def test_the_range_runs_out_with_a_clear_error(tmp_path: Path) -> None:
    dhcp = EmulatedDhcp(tmp_path, SUBNET, GATEWAY)
    for number in range(100):
        dhcp.lease(f"02:a5:00:00:01:{number:02x}")
    with pytest.raises(CapacityExceeded, match=re.escape("198.19.7.100-198.19.7.199")):
        dhcp.lease("02:a5:00:00:02:00")


def test_a_bad_mac_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="02:a5:0:0:0:1"):
        EmulatedDhcp(tmp_path, SUBNET, GATEWAY).lease("02:a5:0:0:0:1")


def test_a_lease_of_another_subnet_is_replaced(tmp_path: Path) -> None:
    EmulatedDhcp(tmp_path, ipaddress.IPv4Network("198.19.8.0/24"), GATEWAY).lease(
        "02:a5:00:00:00:01"
    )
    moved = EmulatedDhcp(tmp_path, SUBNET, GATEWAY).lease("02:a5:00:00:00:01")
    assert str(moved.interface.ip) == "198.19.7.100"


def test_network_config_dhcp4_takes_the_lease(tmp_path: Path) -> None:
    dhcp = EmulatedDhcp(tmp_path, SUBNET, GATEWAY)
    config = {"version": 2, "ethernets": {"eth0": {"match": {"macaddress": "02:a5:00:00:00:09"},
                                                   "dhcp4": True}}}  # fmt: skip
    found = address_for(config, "02:a5:00:00:00:09", dhcp.lease)
    assert str(found.interface) == "198.19.7.100/24" and found.gateway == GATEWAY
