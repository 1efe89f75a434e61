"""A Windows VM that a lab host starts from the Windows image boots into an emulated Windows node
reachable over PSRP at its seeded address, with its seeded certificate and password only."""

from __future__ import annotations

import json
import socket
import ssl
from pathlib import Path

import pytest

from aksnet.errors import AksNetError, AuthenticationFailed
from aksnet.lab.fabric import STATUS_FILE, Lab
from aksnet.lab.linux import netns
from aksnet.model.network import NetworkSetting
from aksnet.remote.base import Cmdlet
from aksnet.remote.psrp import PSRPSession
from tests.windowslab import winvm


def _static_vm(lab: Lab, tmp_path: Path, number: int) -> winvm.WindowsVm:
    address = str(lab.network.subnet.network_address + 40 + number)
    return winvm.new_vm(f"c1win{number}", number, address, tmp_path)


def _net(lab: Lab, vm: winvm.WindowsVm) -> NetworkSetting:
    """The lab's static network setting, or its DHCP model when the VM has no address."""
    return winvm.network(lab.network.subnet, str(lab.network.gateway), dhcp=vm.address is None)


def _refused(address: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((address, port)) != 0


def test_a_windows_vm_becomes_a_node_reachable_at_its_address_with_the_pinned_cert(
    lab: Lab, host: PSRPSession, tmp_path: Path
) -> None:
    vm = _static_vm(lab, tmp_path, 1)
    winvm.create_on_host(host, vm, winvm.build_seed(tmp_path, vm, _net(lab, vm)))
    assert vm.address is not None
    (adapter,) = host.invoke(Cmdlet.of("Get-VMNetworkAdapter", VMName=vm.name))
    assert adapter["IPAddresses"] == [vm.address]

    with vm.session() as node:
        assert node.invoke(Cmdlet.of("Test-Path", LiteralPath=r"C:\k\kubeadm.exe")) == [True]
        cert = node.invoke(Cmdlet.of("Get-Content", LiteralPath=winvm.CERT_PATH, Raw=True))
        assert cert == [vm.cert_path.read_text()]
        (address,) = node.invoke(Cmdlet.of("Get-NetIPAddress", AddressFamily="IPv4"))
        assert address["IPAddress"] == vm.address and address["Lab"] is True
    # Pinned means pinned: another certificate (the host's lab CA) does not validate the node.
    other = winvm.WindowsVm(vm.name, vm.mac, vm.address, Path(lab.endpoints()["hci1"]["ca_path"]),
                            vm.password)  # fmt: skip
    with pytest.raises(AksNetError), other.session() as node:
        node.invoke(Cmdlet.of("Get-Service", Name="kubelet"))
    record = json.loads((lab.lab_dir / STATUS_FILE).read_text())["windows_vms"][vm.name]
    assert record["address"] == vm.address and record["emulated"] is True
    assert vm.password not in (lab.lab_dir / STATUS_FILE).read_text()


def test_a_wrong_password_is_refused(lab: Lab, host: PSRPSession, tmp_path: Path) -> None:
    vm = _static_vm(lab, tmp_path, 2)
    winvm.create_on_host(host, vm, winvm.build_seed(tmp_path, vm, _net(lab, vm)))
    with pytest.raises(AuthenticationFailed), vm.session(password="not-" + vm.password) as node:
        node.invoke(Cmdlet.of("Get-Service", Name="kubelet"))


def test_stop_vm_closes_the_port_and_removes_the_namespace_and_start_brings_the_node_back(
    lab: Lab, host: PSRPSession, tmp_path: Path
) -> None:
    vm = _static_vm(lab, tmp_path, 3)
    winvm.create_on_host(host, vm, winvm.build_seed(tmp_path, vm, _net(lab, vm)))
    assert vm.address is not None
    namespace = f"akw{lab.network.slot}-{vm.name}"
    assert netns.netns_exists(namespace) and not _refused(vm.address, 5986)
    with vm.session() as node:
        node.invoke(Cmdlet.of("Set-Content", LiteralPath=r"C:\k\mark.txt", Value="kept"))

    host.invoke(Cmdlet.of("Stop-VM", Name=vm.name, Force=True))
    assert _refused(vm.address, 5986)
    assert not netns.netns_exists(namespace)
    assert lab.windows_vms is not None and lab.windows_vms.running() == []

    host.invoke(Cmdlet.of("Start-VM", Name=vm.name))
    with vm.session() as node:  # the same disk: the file written before the stop is there
        assert node.invoke(Cmdlet.of("Get-Content", LiteralPath=r"C:\k\mark.txt")) == ["kept"]
    host.invoke(Cmdlet.of("Stop-VM", Name=vm.name, Force=True))
    host.invoke(Cmdlet.of("Remove-VM", Name=vm.name, Force=True))
    assert not netns.netns_exists(namespace)


def test_a_seed_without_the_key_boots_into_nothing_and_the_lab_says_why(
    lab: Lab, host: PSRPSession, tmp_path: Path
) -> None:
    vm = _static_vm(lab, tmp_path, 4)
    iso = winvm.build_seed(tmp_path, vm, _net(lab, vm), with_key=False)
    winvm.create_on_host(host, vm, iso)
    assert vm.address is not None
    (state,) = host.invoke(Cmdlet.of("Get-VM", Name=vm.name))
    assert state["State"] in ("Running", 2)
    assert _refused(vm.address, 5986)
    status = json.loads((lab.lab_dir / STATUS_FILE).read_text())["windows_vms"][vm.name]
    assert winvm.KEY_PATH in status["booted_into_nothing"]
    host.invoke(Cmdlet.of("Stop-VM", Name=vm.name, Force=True))
    assert vm.name not in json.loads((lab.lab_dir / STATUS_FILE).read_text())["windows_vms"]


def _served_certificate(address: str, trusted: Path) -> bytes:
    """The certificate the listener presents, verified against the seeded one (by chain only:
    a DHCP node's certificate has no IP SAN)."""
    context = ssl.create_default_context(cafile=str(trusted))
    context.check_hostname = False
    with (
        socket.create_connection((address, 5986), timeout=5) as raw,
        context.wrap_socket(raw) as tls,
    ):
        served = tls.getpeercert(binary_form=True)
    assert served is not None
    return served


def test_a_dhcp_windows_vm_gets_a_lease_reported_by_the_host_and_keeps_it(
    lab: Lab, host: PSRPSession, tmp_path: Path
) -> None:
    vm = winvm.new_vm("c1dhcp", 5, None, tmp_path)
    winvm.create_on_host(host, vm, winvm.build_seed(tmp_path, vm, _net(lab, vm)))
    first = str(lab.network.subnet.network_address + 100)
    (adapter,) = host.invoke(Cmdlet.of("Get-VMNetworkAdapter", VMName=vm.name))
    assert adapter["IPAddresses"] == [first]
    pem = vm.cert_path.read_text()
    assert _served_certificate(first, vm.cert_path) == ssl.PEM_cert_to_DER_cert(pem)
    status = json.loads((lab.lab_dir / STATUS_FILE).read_text())
    assert status["dhcp_range"].startswith(first + "-")
    assert status["dhcp"]["label"] == "EMULATED DHCP"
    assert status["dhcp"]["leases"][vm.mac]["address"] == first

    host.invoke(Cmdlet.of("Stop-VM", Name=vm.name, Force=True))
    host.invoke(Cmdlet.of("Start-VM", Name=vm.name))
    (adapter,) = host.invoke(Cmdlet.of("Get-VMNetworkAdapter", VMName=vm.name))
    assert adapter["IPAddresses"] == [first]
