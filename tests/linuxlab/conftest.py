"""Fixtures for the Linux lab tests: a private lab dir, a lab bridge in a test slot, seeds."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from aksnet.infra.seediso import build_seed_iso
from aksnet.lab.linux import LabNetwork, LinuxVmRuntime, LinuxVmSpec, sweep

TEST_SLOTS = range(256, 512)  # 198.19.0.0/16: never the lab's own 198.18.0.0/16


def _needs_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("the Linux lab needs root (network namespaces, bridges, mounts)")
    for tool in ("ip", "unshare", "/usr/sbin/sshd", "useradd"):
        if shutil.which(tool) is None:
            pytest.skip(f"the Linux lab needs {tool}")


@dataclass
class KeyPair:
    private_openssh: str
    public_openssh: str

    def paramiko_key(self) -> paramiko.Ed25519Key:
        from io import StringIO

        return paramiko.Ed25519Key.from_private_key(StringIO(self.private_openssh))


def new_keypair() -> KeyPair:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    return KeyPair(private, public)


@dataclass
class Vm:
    spec: LinuxVmSpec
    address: str
    hostname: str
    host_key: KeyPair
    user_key: KeyPair


@dataclass
class Lab:
    lab_dir: Path
    seeds: Path
    network: LabNetwork
    runtime: LinuxVmRuntime

    def vm(
        self,
        number: int,
        *,
        network_config: dict[str, Any] | None = None,
        write_files: list[dict[str, Any]] | None = None,
    ) -> Vm:
        """A seed for VM `number` with address .10+number of the test's /24."""
        host_key, user_key = new_keypair(), new_keypair()
        address = str(self.network.subnet.network_address + 10 + number)
        mac = f"02:a5:00:00:{number // 256:02x}:{number % 256:02x}"
        hostname = f"labvm{number}-{uuid.uuid4().hex[:6]}"
        user_data = {
            "users": [
                {
                    "name": "clouduser",
                    "ssh_authorized_keys": [user_key.public_openssh],
                    "sudo": "ALL=(ALL) NOPASSWD:ALL",
                    "shell": "/bin/bash",
                }
            ],
            "ssh_keys": {
                "ed25519_private": host_key.private_openssh,
                "ed25519_public": host_key.public_openssh,
            },
            "write_files": write_files
            or [{"path": "/etc/aksnet-test.txt", "content": "seeded\n", "owner": "clouduser"}],
            "runcmd": [["true"]],
        }
        if network_config is None:
            network_config = {
                "version": 2,
                "ethernets": {
                    "nic0": {
                        "match": {"macaddress": mac},
                        "set-name": "eth0",
                        "addresses": [f"{address}/24"],
                        "gateway4": str(self.network.gateway),
                    }
                },
            }
        iso = build_seed_iso(
            self.seeds / f"{hostname}.iso",
            meta_data={"instance-id": hostname, "local-hostname": hostname},
            user_data=user_data,
            network_config=network_config,
        )
        spec = LinuxVmSpec(name=f"vm{number}", mac=mac, seed_iso=iso)
        return Vm(spec, address, hostname, host_key, user_key)


@pytest.fixture
def lab_dir(tmp_path: Path) -> Iterator[Path]:
    _needs_root()
    directory = tmp_path / "lab"
    directory.mkdir()
    try:
        yield directory
    finally:
        sweep(directory)


@pytest.fixture
def lab(lab_dir: Path, tmp_path: Path) -> Iterator[Lab]:
    network = LabNetwork(lab_dir, "akt", slots=TEST_SLOTS).up()
    runtime = LinuxVmRuntime(lab_dir, network)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    try:
        yield Lab(lab_dir, seeds, network, runtime)
    finally:
        runtime.stop_all()
        network.down()


def ssh(vm: Vm, host_key: KeyPair | None = None) -> paramiko.SSHClient:
    """A paramiko client that accepts only the seed's host key (or host_key)."""
    pinned = (host_key or vm.host_key).paramiko_key()
    client = paramiko.SSHClient()
    client.get_host_keys().add(vm.address, pinned.get_name(), pinned)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        vm.address,
        username="clouduser",
        pkey=vm.user_key.paramiko_key(),
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
    )
    return client


def run(client: paramiko.SSHClient, command: str) -> tuple[int, str]:
    _, stdout, stderr = client.exec_command(command, timeout=20)
    out = stdout.read().decode() + stderr.read().decode()
    return stdout.channel.recv_exit_status(), out


def footprint(lab_dir: Path, names: list[str]) -> set[str]:
    """What `ip -j link`, the netns files and pgrep show of these names and this lab dir.

    Links and namespaces are identified by ifindex and inode too: when tests run concurrently,
    another run may take a freed slot and create links of the same name.
    """
    found: set[str] = set()
    links = json.loads(subprocess.run(["ip", "-j", "link"], capture_output=True).stdout)
    found |= {f"link {ln['ifname']}#{ln['ifindex']}" for ln in links if ln["ifname"] in names}
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            found.add(f"netns {name}#{os.stat(Path('/run/netns', name)).st_ino}")
    pgrep = subprocess.run(["pgrep", "-a", "-f", str(lab_dir)], capture_output=True, text=True)
    found |= {f"process {line}" for line in pgrep.stdout.splitlines()}
    return found


def leftovers(lab_dir: Path, names: list[str], before: set[str] | None = None) -> list[str]:
    """What is left of names (those seen in `before`, if given) and of lab_dir's processes."""
    now = footprint(lab_dir, names)
    if before is not None:
        now = {item for item in now if item in before or item.startswith("process ")}
    return sorted(now)
