"""The lab as a whole: a Hyper-V host reached with the product's PSRP transport creates a Linux VM
from a seed ISO it received over PSRP, and the VM becomes a namespace reachable over pinned SSH."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet.errors import RemoteCommandFailed
from aksnet.lab.fabric import BANNER, Lab, LabSpec
from aksnet.lab.linux import sweep
from aksnet.remote.base import Cmdlet
from aksnet.remote.psrp import PSRPSession
from tests.lab import vms
from tests.linuxlab.conftest import TEST_SLOTS, _needs_root, leftovers


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
    return vms.psrp_session(lab.endpoints()[host], *lab.credentials())


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
    session = psrp_session(lab, "hci2")
    try:
        linux = vms.create_linux_vm(session, lab.network.subnet, lab.network.gateway, tmp_path, 1)
        (vm,) = session.invoke(Cmdlet.of("Get-VM", Name="c1w1"))
        assert vm["State"] in ("Running", 2) and vm["Lab"] is True

        with linux.ssh(tmp_path / "known_hosts") as ssh:
            assert ssh.run(["hostname"]).text.strip() == "c1-w1"
            # The lab brings emulated Kubernetes tools, and they say so.
            told = ssh.run(["sudo", "-n", "kubeadm", "version"], check=False)
            assert "EMULATED" in told.text + told.stderr.decode()
            assert linux.address in ssh.run(["ip", "-4", "-o", "addr", "show", "eth0"]).text
        (adapter,) = session.invoke(Cmdlet.of("Get-VMNetworkAdapter", VMName="c1w1"))
        assert linux.address in adapter["IPAddresses"]

        session.invoke(Cmdlet.of("Stop-VM", Name="c1w1", Force=True))
        assert lab.runtime is not None and lab.runtime.running() == []
        with socket.socket() as probe:
            probe.settimeout(2)
            assert probe.connect_ex((linux.address, 22)) != 0
    finally:
        session.close()


def test_windows_nodes_are_emulated_psrp_endpoints_that_keep_hns_state(lab: Lab) -> None:
    endpoint = lab.add_windows_node("c1win1", "198.19.9.30", "00-15-5D-00-01-30")
    session = vms.psrp_session(endpoint, *lab.credentials())
    try:
        assert session.invoke(Cmdlet.of("Get-HnsNetwork")) == []
        (service,) = session.invoke(Cmdlet.of("Get-Service", Name="kubelet"))
        assert service["Lab"] is True
        # The inbox module has no New-HnsNetwork (windows-linux-networking.md §1.9).
        with pytest.raises(RemoteCommandFailed, match="New-HnsNetwork"):
            session.invoke(Cmdlet.of("New-HnsNetwork", Type="Overlay", Name="External"))
    finally:
        session.close()
    assert lab.status("running")["windows_nodes"] == ["c1win1"]


def test_stop_leaves_nothing_behind(tmp_path: Path) -> None:
    _needs_root()
    lab_dir = tmp_path / "lab"
    lab = Lab(lab_dir, LabSpec(hosts=1), prefix="akf", slots=TEST_SLOTS).start()
    bridge, port = lab.network.bridge, lab.endpoints()["hci1"]["port"]
    lab.stop()
    assert leftovers(lab_dir, [bridge]) == []
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_hosts_hold_stand_in_node_images_with_their_os_marker(lab: Lab) -> None:
    from aksnet.infra.provision import DEFAULT_IMAGE, DEFAULT_WINDOWS_IMAGE
    from aksnet.lab import images

    session = psrp_session(lab, "hci1")
    try:
        for path, os_name in ((DEFAULT_IMAGE, "Linux"), (DEFAULT_WINDOWS_IMAGE, "Windows")):
            assert session.invoke(Cmdlet.of("Test-Path", LiteralPath=path)) == [True]
            assert images.image_os(lab.hosts["hci1"].fs.real(path)) == os_name
    finally:
        session.close()
