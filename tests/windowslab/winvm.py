"""Test helpers: a Windows VM's seed (the contract's layout) and its creation over PSRP."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aksnet.infra.provision import DEFAULT_WINDOWS_IMAGE
from aksnet.infra.seediso import build_seed_iso
from aksnet.remote import psfiles
from aksnet.remote.base import Cmdlet, Credential, Endpoint
from aksnet.remote.psrp import PSRPSession

CERT_PATH = "C:\\ProgramData\\AksNet\\winrm\\cert.pem"
KEY_PATH = "C:\\ProgramData\\AksNet\\winrm\\key.pem"
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


def node_certificate(name: str, address: str | None) -> tuple[bytes, bytes]:
    """EC P-256, self-signed, CN and DNS SAN = name, IP SAN = address, CA:TRUE, 10 years."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    names: list[x509.GeneralName] = [x509.DNSName(name)]
    if address is not None:
        names.append(x509.IPAddress(ipaddress.ip_address(address)))
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def network_config(mac: str, address: str | None, gateway: str, prefix: int) -> dict[str, Any]:
    ethernet: dict[str, Any] = {"match": {"macaddress": mac}, "set-name": "eth0"}
    if address is None:
        ethernet["dhcp4"] = True
    else:
        ethernet.update(
            dhcp4=False,
            addresses=[f"{address}/{prefix}"],
            routes=[{"to": "0.0.0.0/0", "via": gateway}],
            nameservers={"addresses": [gateway]},
        )
    return {"version": 2, "ethernets": {"eth0": ethernet}}


def build_seed(
    scratch: Path,
    vm: WindowsVm,
    net: dict[str, Any],
    *,
    with_key: bool = True,
) -> Path:
    """A Windows seed ISO in the contract's layout; with_key=False leaves the key out."""
    cert_pem, key_pem = node_certificate(vm.name, vm.address)
    vm.cert_path.write_bytes(cert_pem)
    files = [{"path": CERT_PATH, "content": cert_pem.decode()}]
    if with_key:
        files.append({"path": KEY_PATH, "content": key_pem.decode()})
    user_data = {
        "set_hostname": vm.name,
        "users": [{"name": ADMIN, "passwd": vm.password, "groups": "Administrators"}],
        "write_files": files,
        "runcmd": ["echo the lab ignores runcmd"],
    }
    return build_seed_iso(
        scratch / f"{vm.name}.iso",
        meta_data={"instance-id": vm.name, "local-hostname": vm.name},
        user_data=user_data,
        network_config=net,
    )


def new_vm(name: str, number: int, address: str | None, scratch: Path) -> WindowsVm:
    mac = f"02:a7:00:00:02:{number:02x}"
    return WindowsVm(name, mac, address, scratch / f"{name}-cert.pem", secrets.token_urlsafe(12))


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
