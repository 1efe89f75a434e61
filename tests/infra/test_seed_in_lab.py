"""A seed from node_seed boots a lab Linux node (a network namespace running a real sshd):
reachable at the seed's static address with the pinned aksnet-generated host key, hostname,
passwordless sudo and the written files in place. Needs root; skipped otherwise."""

from __future__ import annotations

import io
import uuid

import paramiko

from aksnet.infra.hostkeys import HostKeyPair, generate_host_key
from aksnet.infra.nodeseed import SeedFile, node_seed
from aksnet.lab.linux import LinuxVmSpec
from aksnet.model.network import network_setting
from tests.linuxlab.conftest import Lab, run

# The Linux lab's fixtures, re-exported so pytest finds them by name in this module.
from tests.linuxlab.conftest import lab as lab
from tests.linuxlab.conftest import lab_dir as lab_dir


def _connect(address: str, host_key: HostKeyPair, user_key: HostKeyPair) -> paramiko.SSHClient:
    """A client that accepts only the pinned host key (no trust on first use)."""
    pinned = host_key.public_key()
    client = paramiko.SSHClient()
    client.get_host_keys().add(address, pinned.get_name(), pinned)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        address,
        username="clouduser",
        pkey=paramiko.Ed25519Key.from_private_key(io.StringIO(user_key.private_openssh)),
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
    )
    return client


def test_a_node_seed_boots_a_lab_node_reachable_with_the_pinned_key(lab: Lab) -> None:
    subnet, gateway = lab.network.subnet, lab.network.gateway
    network = network_setting(
        name="labtest",
        vswitch_name="LabSwitch",
        ip_address_prefix=str(subnet),
        gateway=str(gateway),
        dns_servers=[str(gateway)],
        k8s_node_ip_pool_start=str(subnet.network_address + 10),
        k8s_node_ip_pool_end=str(subnet.network_address + 40),
        vip_pool_start=str(subnet.network_address + 200),
        vip_pool_end=str(subnet.network_address + 210),
    )
    address = str(subnet.network_address + 17)
    host_key, user_key = generate_host_key("ed25519"), generate_host_key("ed25519")
    hostname = f"c1-cp-{uuid.uuid4().hex[:6]}"
    mac = "02-A5-00-00-07-11"  # Hyper-V's dash form; the seed matches it in colon form
    seed = node_seed(
        hostname=hostname,
        mac=mac,
        network=network,
        address=address,
        admin_user="clouduser",
        authorized_key=user_key.public_line,
        host_keys=(host_key,),
        files=(SeedFile("/etc/aksnet/node.txt", "seeded by aksnet\n", "0640"),),
    )
    iso = seed.write_iso(lab.seeds / f"{hostname}.iso")
    lab.runtime.start(LinuxVmSpec(name="seedvm", mac=mac, seed_iso=iso))
    with _connect(address, host_key, user_key) as client:
        assert run(client, "hostname") == (0, f"{hostname}\n")
        status, out = run(client, "ip -4 -o address show dev eth0")
        assert status == 0 and f"inet {address}/{subnet.prefixlen} " in out
        assert run(client, "sudo -n id -u") == (0, "0\n")
        assert run(client, "sudo -n cat /etc/aksnet/node.txt") == (0, "seeded by aksnet\n")
        assert run(client, "stat -c %a /etc/aksnet/node.txt") == (0, "640\n")
