"""Test helpers: a Windows VM's seed (the contract's layout) and its creation over PSRP."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aksnet.infra.provision import DEFAULT_WINDOWS_IMAGE
from aksnet.infra.seediso import build_seed_iso
from aksnet.infra.windowsseed import (
    CERT_FILE,
    KEY_FILE,
    generate_admin_password,
    generate_winrm_certificate,
    windows_seed,
)
from aksnet.model.network import NetworkSetting, network_setting
from aksnet.remote import psfiles
from aksnet.remote.base import Cmdlet, Credential, Endpoint
from aksnet.remote.psrp import PSRPSession

CERT_PATH, KEY_PATH = CERT_FILE, KEY_FILE
ADMIN = "aksnetadmin"


@dataclass
class WindowsVm:
    name: str
    mac: str
    address: str | None  # None: DHCP
    cert_path: Path
    password: str = field(repr=False)

    @contextlib.contextmanager
    def session(
        self, address: str | None = None, password: str | None = None
    ) -> Iterator[PSRPSession]:
        """NTLM over HTTPS, the node's own certificate pinned (contract 4); closed after."""
        where = address or self.address
        assert where is not None
        session = PSRPSession(
            Endpoint(where, port=5986, ssl=True, auth="ntlm", cert_validation=str(self.cert_path)),
            Credential(ADMIN, self.password if password is None else password),
        )
        try:
            yield session
        finally:
            session.close()


def network(lab_subnet: ipaddress.IPv4Network, gateway: str, dhcp: bool) -> NetworkSetting:
    """The lab's network setting: static on its /24 (nodes from .20), or the DHCP model."""
    base = lab_subnet.network_address
    vip_start, vip_end = str(base + 200), str(base + 220)
    if dhcp:
        return network_setting(
            name="labdhcp", vswitch_name="LabSwitch", vip_pool_start=vip_start, vip_pool_end=vip_end
        )
    return network_setting(
        name="labnet",
        vswitch_name="LabSwitch",
        vip_pool_start=vip_start,
        vip_pool_end=vip_end,
        ip_address_prefix=str(lab_subnet),
        gateway=gateway,
        dns_servers=[gateway],
        k8s_node_ip_pool_start=str(base + 20),
        k8s_node_ip_pool_end=str(base + 90),
    )


def build_seed(
    scratch: Path,
    vm: WindowsVm,
    setting: NetworkSetting,
    *,
    with_key: bool = True,
) -> Path:
    """The Windows seed ISO aksnet builds (aksnet.infra.windowsseed); with_key=False leaves the
    key out of write_files, as a broken seed would."""
    certificate = generate_winrm_certificate(vm.name, vm.address)
    vm.cert_path.write_text(certificate.cert_pem)
    seed = windows_seed(
        hostname=vm.name,
        mac=vm.mac,
        network=setting,
        address=vm.address,
        admin_user=ADMIN,
        password=vm.password,
        certificate=certificate,
    )
    user_data = dict(seed.user_data)
    if not with_key:
        user_data["write_files"] = [f for f in user_data["write_files"] if f["path"] != KEY_PATH]
    return build_seed_iso(
        scratch / f"{vm.name}.iso",
        meta_data=seed.meta_data,
        user_data=user_data,
        network_config=seed.network_config,
    )


def new_vm(name: str, number: int, address: str | None, scratch: Path) -> WindowsVm:
    mac = f"02:a7:00:00:02:{number:02x}"
    return WindowsVm(name, mac, address, scratch / f"{name}-cert.pem", generate_admin_password())


def create_on_host(session: PSRPSession, vm: WindowsVm, iso: Path) -> None:
    """As aksnet does: the ISO and a differencing disk from the Windows image, New-VM, the DVD,
    Start-VM."""
    folder = rf"C:\ClusterStorage\Volume1\aksnet\{vm.name}"
    disk, iso_path = folder + r"\disk.vhdx", folder + r"\seed.iso"
    session.invoke(Cmdlet.of("New-Item", ItemType="Directory", Path=folder))
    psfiles.put(session, iso.read_bytes(), iso_path)
    session.invoke(
        Cmdlet.of("New-VHD", Path=disk, ParentPath=DEFAULT_WINDOWS_IMAGE, Differencing=True),
        Cmdlet.of("New-VM", Name=vm.name, Generation=2, MemoryStartupBytes=4 * 1024**3,
                  SwitchName="LabSwitch", VHDPath=disk),
        Cmdlet.of("Set-VMNetworkAdapter", VMName=vm.name,
                  StaticMacAddress=vm.mac.replace(":", "")),
        Cmdlet.of("Add-VMDvdDrive", VMName=vm.name, Path=iso_path),
        Cmdlet.of("Start-VM", Name=vm.name),
    )  # fmt: skip
