"""The NoCloud seed of one Linux VM: meta-data, user-data (cloud-config) and network-config v2.

user-data sets the hostname, one admin user with its authorized key and passwordless sudo, the
SSH host keys that aksnet generated (so their fingerprints are pinned before the first
connection; no other key type is generated) and the files to write. network-config v2 matches
the VM's NIC by MAC address and gives it the static address, prefix, gateway and DNS servers of
the network setting, or DHCP for the DHCP model. The default route is written as
``to: 0.0.0.0/0``: cloud-init 22.4 (Debian 12) crashes on ``to: default``. The VLAN is set on the
Hyper-V port (access mode), so the guest sees an untagged NIC.

The user-data holds private host keys: a NodeSeed never shows it in repr, and logs name only
fingerprints.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aksnet.errors import InvalidInput, mask
from aksnet.infra.hostkeys import HostKeyPair, public_key_from_line
from aksnet.infra.seediso import build_seed_iso
from aksnet.model.network import NetworkSetting
from aksnet.network.addressing import parse_address

log = logging.getLogger(__name__)

DEFAULT_ROUTE = "0.0.0.0/0"  # not "default": cloud-init 22.4 fails on it
INTERFACE = "eth0"
SUDO_RULE = "ALL=(ALL) NOPASSWD:ALL"
_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_MAC = re.compile(r"^[0-9a-f]{12}$")
_PERMISSIONS = re.compile(r"^0[0-7]{3}$")


@dataclass(frozen=True)
class SeedFile:
    """A file cloud-init writes on first boot. Its content is not shown (it may be secret)."""

    path: str
    content: str = field(repr=False)
    permissions: str = "0644"
    owner: str = "root:root"

    def to_cloud_config(self) -> dict[str, str]:
        return {
            "path": self.path,
            "content": self.content,
            "permissions": self.permissions,
            "owner": self.owner,
        }


@dataclass(frozen=True)
class NodeSeed:
    """The three NoCloud documents of one VM, ready for build_seed_iso."""

    meta_data: dict[str, Any]
    user_data: dict[str, Any] = field(repr=False)
    network_config: dict[str, Any]
    host_key_fingerprints: tuple[str, ...] = ()

    def write_iso(self, path: str | os.PathLike[str]) -> Path:
        """Build the seed ISO at path (atomically, mode 0600: it holds private keys)."""
        return build_seed_iso(
            path,
            meta_data=self.meta_data,
            user_data=self.user_data,
            network_config=self.network_config,
        )

    def __repr__(self) -> str:
        return (
            f"NodeSeed(instance_id={self.meta_data['instance-id']!r}, "
            f"hostname={self.meta_data['local-hostname']!r}, "
            f"network_config={self.network_config!r}, "
            f"host_key_fingerprints={self.host_key_fingerprints!r}, "
            f"user_data={mask(repr(self.user_data))})"
        )

    __str__ = __repr__


def node_seed(
    *,
    hostname: str,
    mac: str,
    network: NetworkSetting,
    address: str | None,
    admin_user: str,
    authorized_key: str,
    host_keys: Sequence[HostKeyPair],
    files: Sequence[SeedFile] = (),
    instance_id: str | None = None,
) -> NodeSeed:
    """The seed of one VM. address is the VM's allocated IPv4 address in the static model and
    None in the DHCP model."""
    name = check_hostname(hostname)
    meta_data = {"instance-id": instance_id or f"aksnet-{name}", "local-hostname": name}
    user_data = _user_data(name, admin_user, authorized_key, host_keys, files)
    network_config = network_config_v2(network, normalize_mac(mac), address)
    fingerprints = tuple(k.fingerprint for k in host_keys)
    log.debug("seed for %s: %s model, host keys %s", name, network.model, fingerprints)
    return NodeSeed(meta_data, user_data, network_config, fingerprints)


def network_config_v2(network: NetworkSetting, mac: str, address: str | None) -> dict[str, Any]:
    """network-config v2 for the NIC with this MAC: static from the setting, or DHCP."""
    ethernet: dict[str, Any] = {"match": {"macaddress": mac}, "set-name": INTERFACE}
    if not network.is_static:
        if address is not None:
            raise InvalidInput(
                "address", address, f"network '{network.name}' uses DHCP: give no address."
            )
        ethernet["dhcp4"] = True
        return {"version": 2, "ethernets": {INTERFACE: ethernet}}
    ethernet.update(_static_settings(network, address))
    return {"version": 2, "ethernets": {INTERFACE: ethernet}}


def _static_settings(network: NetworkSetting, address: str | None) -> dict[str, Any]:
    prefix = network.ip_address_prefix
    assert prefix is not None  # is_static
    if address is None:
        raise InvalidInput(
            "address", None, f"network '{network.name}' is static: give the VM's address."
        )
    ip = parse_address("address", address)
    if ip not in prefix or int(ip) in network.never_handed_out():
        raise InvalidInput(
            "address",
            address,
            f"it must be a host address of {prefix}, not its network, broadcast or gateway.",
        )
    settings: dict[str, Any] = {"dhcp4": False, "addresses": [f"{ip}/{prefix.prefixlen}"]}
    if network.gateway is not None:
        settings["routes"] = [{"to": DEFAULT_ROUTE, "via": str(network.gateway)}]
    if network.dns_servers:
        settings["nameservers"] = {"addresses": [str(d) for d in network.dns_servers]}
    return settings


def _user_data(
    hostname: str,
    admin_user: str,
    authorized_key: str,
    host_keys: Sequence[HostKeyPair],
    files: Sequence[SeedFile],
) -> dict[str, Any]:
    if not isinstance(admin_user, str) or not _USER.match(admin_user):
        raise InvalidInput("admin_user", admin_user, "it must be a Linux user name.")
    public_key_from_line(authorized_key)  # refuses what is not an SSH public key
    user_data: dict[str, Any] = {
        "hostname": hostname,
        "preserve_hostname": False,
        "manage_etc_hosts": True,
        "ssh_pwauth": False,
        "disable_root": True,
        "users": [
            {
                "name": admin_user,
                "sudo": SUDO_RULE,
                "shell": "/bin/bash",
                "lock_passwd": True,
                "ssh_authorized_keys": [authorized_key.strip()],
            }
        ],
        **_host_key_settings(host_keys),
    }
    if files:
        user_data["write_files"] = [_checked_file(f).to_cloud_config() for f in files]
    return user_data


def _host_key_settings(host_keys: Sequence[HostKeyPair]) -> dict[str, Any]:
    if not host_keys:
        raise InvalidInput("host_keys", [], "give at least one host key pair generated by aksnet.")
    algorithms = [k.algorithm for k in host_keys]
    if len(set(algorithms)) != len(algorithms):
        raise InvalidInput("host_keys", algorithms, "give at most one key pair per algorithm.")
    ssh_keys: dict[str, str] = {}
    for key in host_keys:
        ssh_keys[f"{key.algorithm}_private"] = key.private_openssh
        ssh_keys[f"{key.algorithm}_public"] = key.public_line
    # Only the injected types: a generated key of another type would be an unpinned host key.
    return {"ssh_keys": ssh_keys, "ssh_deletekeys": True, "ssh_genkeytypes": algorithms}


def _checked_file(item: SeedFile) -> SeedFile:
    if not item.path.startswith("/") or ".." in item.path.split("/"):
        raise InvalidInput("files path", item.path, "it must be an absolute path without '..'.")
    if not _PERMISSIONS.match(item.permissions):
        raise InvalidInput("files permissions", item.permissions, "give octal such as '0644'.")
    return item


def check_hostname(hostname: str) -> str:
    if not isinstance(hostname, str) or not _HOSTNAME.match(hostname):
        raise InvalidInput(
            "hostname",
            hostname,
            "it must be lowercase letters, digits and hyphens, at most 63 characters.",
        )
    return hostname


def normalize_mac(mac: str) -> str:
    """A MAC as cloud-init matches it (``02:a5:00:00:00:01``), from Hyper-V's ``02A500000001``
    or any of the dash and colon forms."""
    digits = re.sub(r"[-:.]", "", str(mac)).lower()
    if not _MAC.match(digits):
        raise InvalidInput("mac", mac, "it must be 12 hex digits, e.g. 00-15-5D-01-02-03.")
    if int(digits[:2], 16) & 1:
        raise InvalidInput("mac", mac, "it must be a unicast address (first octet even).")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))
