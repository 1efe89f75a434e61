"""The lab as a whole: a Hyper-V host reached with the product's PSRP transport creates a Linux VM
from a seed ISO it received over PSRP, and the VM becomes a namespace reachable over pinned SSH."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet.infra.hostkeys import generate_host_key
from aksnet.infra.seediso import build_seed_iso
from aksnet.lab.fabric import BANNER, Lab, LabSpec
from aksnet.lab.linux import sweep
from aksnet.remote import psfiles
from aksnet.remote.base import Cmdlet, Credential, Endpoint
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.psrp import PSRPSession
from aksnet.remote.ssh import SSHSession
from tests.linuxlab.conftest import TEST_SLOTS, _needs_root, leftovers, new_keypair


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    _needs_root()
    lab_dir = tmp_path / "lab"
    started = Lab(lab_dir, LabSpec(hosts=2), prefix="akf", slots=TEST_SLOTS)
    try:
        yield started.start()
    finally:
        started.stop()
        sweep(lab_dir)


def psrp_session(lab: Lab, host: str) -> PSRPSession:
    ep = lab.endpoints()[host]
    user, password = lab.credentials()
    endpoint = Endpoint(
        ep["address"],
        port=ep["port"],
        ssl=True,
        auth="basic",
        cert_validation=ep["ca_path"],
        lab=True,
    )
    return PSRPSession(endpoint, Credential(user, password))


def test_hosts_speak_psrp_over_https_and_say_they_are_a_lab(lab: Lab) -> None:
    for host in ("hci1", "hci2"):
        session = psrp_session(lab, host)
        try:
            (vmhost,) = session.invoke(Cmdlet.of("Get-VMHost"))
            (switch,) = session.invoke(Cmdlet.of("Get-VMSwitch", Name="LabSwitch"))
        finally:
            session.close()
        assert vmhost["Name"] == host and vmhost["Lab"] is True
        assert switch["SwitchType"] in ("External", 2) and switch["Lab"] is True
    status = lab.status("running")
    assert status["lab"] is True and status["banner"] == BANNER and "emulated" in BANNER
    assert set(status["hosts"]) == {"hci1", "hci2"}
    assert "password" not in str(status)


def test_a_linux_vm_started_on_a_host_becomes_a_node_reachable_over_pinned_ssh(
    lab: Lab, tmp_path: Path
) -> None:
    host_key, user_key = generate_host_key("ed25519"), new_keypair()
    address = str(lab.network.subnet.network_address + 21)
    mac = "02:a5:00:00:01:15"
    iso = build_seed_iso(
        tmp_path / "seed.iso",
        meta_data={"instance-id": "c1w1", "local-hostname": "c1-w1"},
        user_data={
            "users": [{"name": "clouduser", "ssh_authorized_keys": [user_key.public_openssh],
                       "sudo": "ALL=(ALL) NOPASSWD:ALL", "shell": "/bin/bash"}],
            "ssh_keys": {"ed25519_private": host_key.private_openssh,
                         "ed25519_public": host_key.public_line},
        },
        network_config={"version": 2, "ethernets": {"nic0": {
            "match": {"macaddress": mac}, "set-name": "eth0",
            "addresses": [f"{address}/24"], "gateway4": str(lab.network.gateway)}}},
    )  # fmt: skip
    iso_path = r"C:\ClusterStorage\Volume1\c1 w1\seed.iso"
    session = psrp_session(lab, "hci2")
    try:
        session.invoke(
            Cmdlet.of("New-Item", ItemType="Directory", Path=r"C:\ClusterStorage\Volume1\c1 w1")
        )
        psfiles.put(session, iso.read_bytes(), iso_path)
        session.invoke(
            Cmdlet.of("New-VM", Name="c1w1", Generation=2, MemoryStartupBytes=2 * 1024**3,
                      SwitchName="LabSwitch", NoVHD=True),
            Cmdlet.of("Set-VMNetworkAdapter", VMName="c1w1", StaticMacAddress="02A500000115"),
            Cmdlet.of("Add-VMDvdDrive", VMName="c1w1", Path=iso_path),
            Cmdlet.of("Start-VM", Name="c1w1"),
        )  # fmt: skip
        (vm,) = session.invoke(Cmdlet.of("Get-VM", Name="c1w1"))
        assert vm["State"] in ("Running", 2) and vm["Lab"] is True

        known = KnownHosts(tmp_path / "known_hosts")
        known.pin(address, 22, host_key.public_line)
        with SSHSession(
            address, username="clouduser", private_key=user_key.paramiko_key(), known_hosts=known
        ) as ssh:
            assert ssh.run(["hostname"]).text.strip() == "c1-w1"
            assert address in ssh.run(["ip", "-4", "-o", "addr", "show", "eth0"]).text

        session.invoke(Cmdlet.of("Stop-VM", Name="c1w1", Force=True))
        assert lab.runtime is not None and lab.runtime.running() == []
        with socket.socket() as probe:
            probe.settimeout(2)
            assert probe.connect_ex((address, 22)) != 0
    finally:
        session.close()


def test_stop_leaves_nothing_behind(tmp_path: Path) -> None:
    _needs_root()
    lab_dir = tmp_path / "lab"
    lab = Lab(lab_dir, LabSpec(hosts=1), prefix="akf", slots=TEST_SLOTS).start()
    bridge, port = lab.network.bridge, lab.endpoints()["hci1"]["port"]
    lab.stop()
    assert leftovers(lab_dir, [bridge]) == []
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
