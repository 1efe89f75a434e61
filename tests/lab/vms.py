"""Test helpers: reach a lab host over PSRP and create a Linux VM on it from a seed ISO."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

from aksnet.infra.hostkeys import HostKeyPair, generate_host_key
from aksnet.infra.seediso import build_seed_iso
from aksnet.remote import psfiles
from aksnet.remote.base import Cmdlet, Credential, Endpoint
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.psrp import PSRPSession
from aksnet.remote.ssh import SSHSession
from tests.linuxlab.conftest import KeyPair, new_keypair


def psrp_session(endpoint: dict[str, Any], username: str, password: str) -> PSRPSession:
    """Basic over HTTPS, validated against the lab's CA (Basic is allowed only in the lab)."""
    return PSRPSession(
        Endpoint(
            endpoint["address"],
            port=endpoint["port"],
            ssl=True,
            auth="basic",
            cert_validation=endpoint["ca_path"],
            lab=True,
        ),
        Credential(username, password),
    )


@dataclass
class LinuxVm:
    name: str
    hostname: str
    address: str
    host_key: HostKeyPair
    user_key: KeyPair

    def ssh(self, known_hosts_path: Path) -> SSHSession:
        known = KnownHosts(known_hosts_path)
        known.pin(self.address, 22, self.host_key.public_line)
        return SSHSession(
            self.address,
            username="clouduser",
            private_key=self.user_key.paramiko_key(),
            known_hosts=known,
        )


def create_linux_vm(
    session: PSRPSession, subnet: IPv4Network, gateway: IPv4Address, scratch: Path, number: int
) -> LinuxVm:
    """Put a seed ISO on the host over PSRP, then New-VM ... Start-VM, as aksnet will."""
    name, hostname = f"c1w{number}", f"c1-w{number}"
    host_key, user_key = generate_host_key("ed25519"), new_keypair()
    address = str(subnet.network_address + 20 + number)
    mac = f"02:a5:00:00:01:{number:02x}"
    iso = build_seed_iso(
        scratch / f"{name}.iso",
        meta_data={"instance-id": name, "local-hostname": hostname},
        user_data={
            "users": [{"name": "clouduser", "ssh_authorized_keys": [user_key.public_openssh],
                       "sudo": "ALL=(ALL) NOPASSWD:ALL", "shell": "/bin/bash"}],
            "ssh_keys": {"ed25519_private": host_key.private_openssh,
                         "ed25519_public": host_key.public_line},
        },
        network_config={"version": 2, "ethernets": {"nic0": {
            "match": {"macaddress": mac}, "set-name": "eth0",
            "addresses": [f"{address}/{subnet.prefixlen}"], "gateway4": str(gateway)}}},
    )  # fmt: skip
    folder = rf"C:\ClusterStorage\Volume1\{name} seed"
    iso_path = folder + r"\seed.iso"
    session.invoke(Cmdlet.of("New-Item", ItemType="Directory", Path=folder))
    psfiles.put(session, iso.read_bytes(), iso_path)
    session.invoke(
        Cmdlet.of("New-VM", Name=name, Generation=2, MemoryStartupBytes=2 * 1024**3,
                  SwitchName="LabSwitch", NoVHD=True),
        Cmdlet.of("Set-VMNetworkAdapter", VMName=name, StaticMacAddress=mac.replace(":", "")),
        Cmdlet.of("Add-VMDvdDrive", VMName=name, Path=iso_path),
        Cmdlet.of("Start-VM", Name=name),
    )  # fmt: skip
    return LinuxVm(name, hostname, address, host_key, user_key)
