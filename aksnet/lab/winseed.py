"""What the lab reads from a Windows VM's NoCloud seed (the layout cloudbase-init reads).

meta-data: local-hostname. user-data (#cloud-config): ``users`` with one user that has ``name``,
``passwd`` (plain text, as cloudbase-init takes it) and the group Administrators; ``write_files``
with the node's WinRM TLS certificate and private key (PEM) at CERT_PATH and KEY_PATH.
network-config: v2, read by the same code as Linux seeds. ``runcmd`` is for a real node (it makes
the WinRM HTTPS listener); the lab makes its listener itself and ignores it.

windows_seed() raises SeedIncomplete naming the first missing or broken piece.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from aksnet.errors import AksNetError, InvalidInput
from aksnet.lab.linux import cloudinit

CERT_PATH = "C:\\ProgramData\\AksNet\\winrm\\cert.pem"
KEY_PATH = "C:\\ProgramData\\AksNet\\winrm\\key.pem"
ADMINISTRATORS = "administrators"


class SeedIncomplete(AksNetError):
    """The seed lacks a piece a lab Windows node needs (the message says which)."""

    error_id = "LabWindowsSeedIncomplete"


@dataclass(frozen=True)
class WindowsSeed:
    """A Windows VM's seed as the lab uses it. The password and key never show in repr."""

    hostname: str
    username: str
    password: str = field(repr=False)
    cert_pem: bytes = field(repr=False)
    key_pem: bytes = field(repr=False)
    network_config: dict[str, Any] = field(repr=False)


def windows_seed(documents: cloudinit.SeedDocuments) -> WindowsSeed:
    """The pieces of a Windows seed; SeedIncomplete says what is missing or broken."""
    try:
        hostname = cloudinit.hostname_of(documents.meta_data, documents.user_data)
    except InvalidInput as error:
        raise SeedIncomplete(f"meta-data: {error}") from None
    username, password = _admin_user(documents.user_data)
    files = _files(documents.user_data)
    cert_pem, key_pem = files.get(CERT_PATH.lower()), files.get(KEY_PATH.lower())
    if cert_pem is None or key_pem is None:
        raise SeedIncomplete(f"user-data write_files must hold {CERT_PATH} and {KEY_PATH}")
    _check_pair(cert_pem, key_pem)
    if not documents.network_config:
        raise SeedIncomplete("the seed has no network-config")
    return WindowsSeed(hostname, username, password, cert_pem, key_pem, documents.network_config)


def _admin_user(user_data: dict[str, Any]) -> tuple[str, str]:
    for user in user_data.get("users") or []:
        if not isinstance(user, dict) or not user.get("name") or not user.get("passwd"):
            continue
        groups = user.get("groups") or []
        groups = groups.split(",") if isinstance(groups, str) else groups
        if ADMINISTRATORS in {str(g).strip().lower() for g in groups}:
            return str(user["name"]), str(user["passwd"])
    raise SeedIncomplete(
        "user-data users has no user with name, passwd and groups: Administrators "
        "(WinRM admits administrators only)"
    )


def _files(user_data: dict[str, Any]) -> dict[str, bytes]:
    """write_files contents by lower-case Windows path."""
    found: dict[str, bytes] = {}
    for item in user_data.get("write_files") or []:
        if not isinstance(item, dict) or not item.get("path"):
            continue
        path = str(item["path"]).replace("/", "\\").lower()
        found[path] = _decode(item.get("content", ""), str(item.get("encoding", "text")), path)
    return found


def _decode(content: Any, encoding: str, path: str) -> bytes:
    if encoding in ("b64", "base64"):
        try:
            return base64.b64decode(str(content), validate=True)
        except binascii.Error:
            raise SeedIncomplete(f"write_files {path}: content is not base64") from None
    if encoding in ("text", "text/plain"):
        return str(content).encode("utf-8")
    raise SeedIncomplete(f"write_files {path}: encoding {encoding!r} is not text, b64 or base64")


def _check_pair(cert_pem: bytes, key_pem: bytes) -> None:
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise SeedIncomplete(f"{CERT_PATH} is not a PEM certificate") from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise SeedIncomplete(f"{KEY_PATH} is not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise SeedIncomplete(f"{KEY_PATH} must be an EC or RSA key")
    if _spki(key.public_key()) != _spki(cert.public_key()):
        raise SeedIncomplete(f"{KEY_PATH} is not the key of the certificate in {CERT_PATH}")


def _spki(public_key: Any) -> bytes:
    der: bytes = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der
