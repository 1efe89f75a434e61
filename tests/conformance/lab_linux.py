"""One Linux lab node (LabNetwork + LinuxVmRuntime, real sshd) for the conformance suite.

The node is seeded like tests/linuxlab's nodes: a NoCloud seed from build_seed_iso with a host
key from generate_host_key and a user "clouduser" with a key of the test's own. Its sshd logs to
the node's launcher.log, which is how the suite counts authentication attempts at the server.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from aksnet.infra.hostkeys import HostKeyPair, generate_host_key
from aksnet.infra.seediso import build_seed_iso
from aksnet.lab.linux import LabNetwork, LinuxVmRuntime, LinuxVmSpec, state, sweep
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.ssh import SSHSession

USER = "clouduser"
NODE = "conf1"
MAC = "02:a5:c0:00:00:01"
# 198.19.0.0/16 (slots 256-511): test slots, never the lab's own 198.18.0.0/16.
TEST_SLOTS = range(256, 512)
# The node's user sources ~/.bashrc for commands over SSH (Debian's bash does so when sshd
# starts it); it puts FAKE_BIN first on PATH, so a lying sha256sum there tampers checksums.
FAKE_BIN = f"/home/{USER}/fake-bin"
BASHRC = f'PATH="{FAKE_BIN}:$PATH"\n'
LIAR = '#!/bin/sh\necho 0000000000000000000000000000000000000000000000000000000000000000  "$2"\n'


def missing_lab_tools() -> str | None:
    """Why the Linux lab cannot run here, or None."""
    if os.geteuid() != 0:
        return "the Linux lab needs root (network namespaces, bridges, mounts)"
    for tool in ("ip", "unshare", "/usr/sbin/sshd", "useradd"):
        if shutil.which(tool) is None:
            return f"the Linux lab needs {tool}"
    return None


@dataclass
class LinuxLab:
    """A running lab node and what a client needs to reach it."""

    lab_dir: Path
    address: str
    host_key: HostKeyPair
    user_key: HostKeyPair
    known_hosts: KnownHosts

    def sshd_log(self) -> str:
        node_dir = Path(state.read(self.lab_dir)["nodes"][NODE]["node_dir"])
        return (node_dir / "launcher.log").read_text(errors="replace")

    def refused_logins(self) -> int:
        """Connections sshd closed during authentication (OpenSSH logs these at INFO)."""
        return self.sshd_log().count(f"Connection closed by authenticating user {USER}")

    def accepted_logins(self) -> int:
        return self.sshd_log().count(f"Accepted publickey for {USER}")

    @contextmanager
    def lying_sha256sum(self, session: SSHSession) -> Iterator[None]:
        """Commands over SSH find a sha256sum that reports a wrong digest, until exit."""
        try:
            session.run(["mkdir", "-p", "--", FAKE_BIN])
            session.put(LIAR.encode(), f"{FAKE_BIN}/sha256sum", mode=0o755)
            yield
        finally:
            session.run(["rm", "-rf", "--", FAKE_BIN])


def _user_data(host_key: HostKeyPair, user_key: HostKeyPair) -> dict[str, object]:
    return {
        "users": [
            {
                "name": USER,
                "ssh_authorized_keys": [user_key.public_line],
                "sudo": "ALL=(ALL) NOPASSWD:ALL",
                "shell": "/bin/bash",
            }
        ],
        "ssh_keys": {
            "ed25519_private": host_key.private_openssh,
            "ed25519_public": host_key.public_line,
        },
        "write_files": [{"path": f"/home/{USER}/.bashrc", "content": BASHRC, "owner": USER}],
        "runcmd": [["true"]],
    }


def _network_config(address: str, gateway: str) -> dict[str, object]:
    return {
        "version": 2,
        "ethernets": {
            "nic0": {
                "match": {"macaddress": MAC},
                "set-name": "eth0",
                "addresses": [f"{address}/24"],
                "gateway4": gateway,
            }
        },
    }


@contextmanager
def running_node(base: Path) -> Iterator[LinuxLab]:
    """Start one node on its own lab bridge; stop everything on exit, also after a failure."""
    why = missing_lab_tools()
    if why is not None:
        pytest.skip(why)
    lab_dir = base / "lab"
    lab_dir.mkdir()
    try:
        network = LabNetwork(lab_dir, "akc", slots=TEST_SLOTS).up()
        runtime = LinuxVmRuntime(lab_dir, network)
        try:
            yield _start(base, lab_dir, network, runtime)
        finally:
            runtime.stop_all()
            network.down()
    finally:
        sweep(lab_dir)


def _start(base: Path, lab_dir: Path, network: LabNetwork, runtime: LinuxVmRuntime) -> LinuxLab:
    host_key = generate_host_key(comment="aksnet-conformance-node")
    user_key = generate_host_key(comment="aksnet-conformance-user")
    address = str(network.subnet.network_address + 10)
    hostname = f"conf-{uuid.uuid4().hex[:6]}"
    iso = build_seed_iso(
        base / "seed.iso",
        meta_data={"instance-id": hostname, "local-hostname": hostname},
        user_data=_user_data(host_key, user_key),
        network_config=_network_config(address, str(network.gateway)),
    )
    runtime.start(LinuxVmSpec(name=NODE, mac=MAC, seed_iso=iso))
    known_hosts = KnownHosts(base / "known_hosts")
    known_hosts.pin(address, 22, host_key.public_line)
    return LinuxLab(lab_dir, address, host_key, user_key, known_hosts)
