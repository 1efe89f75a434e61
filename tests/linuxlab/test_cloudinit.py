"""The lab's cloud-init parsing: hostname and network-config v2 matched by MAC address."""

from __future__ import annotations

import ipaddress

import pytest

from aksnet.errors import InvalidInput
from aksnet.lab.linux.cloudinit import address_for, check_user_data, hostname_of, load_document

MAC = "02:a5:00:00:00:01"


def _config(**entry: object) -> dict[str, object]:
    return {"version": 2, "ethernets": {"nic0": {"match": {"macaddress": MAC}, **entry}}}


def test_static_address_and_gateway_are_taken_from_the_entry_matching_the_mac() -> None:
    other = {"match": {"macaddress": "02:a5:00:00:00:99"}, "addresses": ["198.19.1.99/24"]}
    config = _config(addresses=["198.19.1.10/24"], gateway4="198.19.1.1")
    config["ethernets"]["other"] = other  # type: ignore[index]
    found = address_for(config, MAC.upper())
    assert found.interface == ipaddress.IPv4Interface("198.19.1.10/24")
    assert found.gateway == ipaddress.IPv4Address("198.19.1.1")


def test_default_route_counts_as_gateway_and_yaml_text_is_parsed() -> None:
    text = (
        "network:\n  version: 2\n  ethernets:\n    eth0:\n"
        "      addresses: [198.19.1.11/24]\n"
        "      routes: [{to: default, via: 198.19.1.1}]\n"
        "      nameservers: {addresses: [198.19.1.1]}\n"
    )
    found = address_for(load_document(text, "network-config"), MAC)
    assert str(found.interface) == "198.19.1.11/24"
    assert str(found.gateway) == "198.19.1.1"
    assert found.nameservers == ("198.19.1.1",)


def test_dhcp_version_1_and_unmatched_macs_are_refused_clearly() -> None:
    with pytest.raises(InvalidInput, match=r"dhcp4.*needs the lab's DHCP"):
        address_for(_config(dhcp4=True), MAC)
    with pytest.raises(InvalidInput, match=r"dhcp6.*not supported in the lab"):
        address_for(_config(dhcp6=True), MAC)
    with pytest.raises(InvalidInput, match="version"):
        address_for({"version": 1, "config": []}, MAC)
    with pytest.raises(InvalidInput, match="matches MAC address 02:a5:00:00:00:02"):
        address_for(_config(addresses=["198.19.1.10/24"]), "02:a5:00:00:00:02")
    with pytest.raises(InvalidInput, match=r"network-config.*missing"):
        address_for({}, MAC)


def test_hostname_comes_from_meta_data_then_user_data() -> None:
    assert hostname_of({"local-hostname": "node1.lab", "instance-id": "i"}, {}) == "node1"
    assert hostname_of({"instance-id": "i-1"}, {"hostname": "fromuser"}) == "fromuser"
    with pytest.raises(InvalidInput, match="local-hostname"):
        hostname_of({"local-hostname": "bad_name!"}, {})


@pytest.mark.parametrize(
    ("user_data", "parameter"),
    [
        ({"write_files": [{"path": "/usr/local/bin/x", "content": "x"}]}, "write_files path"),
        ({"write_files": [{"path": "/etc/../usr/x", "content": "x"}]}, "write_files path"),
        ({"write_files": [{"path": "/etc", "content": "x"}]}, "write_files path"),
        ({"write_files": [{"path": "/etc/x", "encoding": "gzip"}]}, "write_files encoding"),
        ({"write_files": [{"path": "/etc/x", "permissions": "rw"}]}, "write_files permissions"),
        ({"users": [{"name": "u", "passwd": "$6$hash"}]}, "users"),
        ({"users": [{"name": "Bad Name"}]}, "users name"),
        ({"ssh_keys": {"dsa_private": "k"}}, "ssh_keys"),
    ],
)
def test_user_data_the_lab_cannot_apply_is_refused(
    user_data: dict[str, object], parameter: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        check_user_data(user_data)
    assert error.value.parameter == parameter
    assert "$6$hash" not in str(error.value)


def test_supported_user_data_passes_the_check() -> None:
    check_user_data(
        {
            "users": ["default", {"name": "clouduser", "sudo": "ALL=(ALL) NOPASSWD:ALL"}],
            "ssh_keys": {"ed25519_private": "k", "ed25519_public": "p"},
            "write_files": [{"path": "/opt/a/b", "content": "x", "permissions": "0600"}],
            "runcmd": [["true"]],
        }
    )
