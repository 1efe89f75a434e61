"""The EMULATED cluster's PKI: a cluster CA, the API server's certificate, an admin client.

Real kubeadm writes the same kinds of files (ca.crt/ca.key, apiserver.crt with the node address
and the controlPlaneEndpoint as SANs, admin.conf with an embedded client certificate of the
system:masters group). Keys are EC P-256 to keep generation fast. Private keys are returned as
PEM bytes and written with mode 0600; they never appear in a repr or a log line.
Lab only: product code never imports this module.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=365)
ADMIN_USER = "kubernetes-admin"
ADMIN_GROUP = "system:masters"


@dataclass(frozen=True)
class CertPair:
    """A PEM certificate and its PEM private key (never shown in repr) of the EMULATED PKI."""

    cert_pem: bytes
    key_pem: bytes = field(repr=False)

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)


def make_ca(common_name: str = "kubernetes") -> CertPair:
    """A self-signed cluster CA, as `kubeadm init` makes it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY * 10)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return _pair(cert, key)


def make_server_cert(
    ca: CertPair, addresses: Sequence[str], dns_names: Sequence[str] = ()
) -> CertPair:
    """The API server's certificate: every address (node address, API VIP) and name as SANs."""
    sans: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    names = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", *dns_names]
    sans += [x509.DNSName(n) for n in names]
    return _issue(ca, "kube-apiserver", None, sans, ExtendedKeyUsageOID.SERVER_AUTH)


def make_client_cert(ca: CertPair, user: str = ADMIN_USER, group: str = ADMIN_GROUP) -> CertPair:
    """A client certificate for `user` in `group` (CN and O, as Kubernetes reads them)."""
    return _issue(ca, user, group, [], ExtendedKeyUsageOID.CLIENT_AUTH)


def kubeconfig(
    server: str, ca: CertPair, client: CertPair, cluster: str = "kubernetes", user: str = ADMIN_USER
) -> str:
    """An admin kubeconfig with the CA and the client certificate and key embedded."""
    context = f"{user}@{cluster}"
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster,
                "cluster": {"server": server, "certificate-authority-data": _b64(ca.cert_pem)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(client.cert_pem),
                    "client-key-data": _b64(client.key_pem),
                },
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": cluster, "user": user}}],
        "current-context": context,
        "preferences": {},
    }
    return str(yaml.safe_dump(document, sort_keys=False))


def write_pair(pair: CertPair, directory: Path, stem: str) -> tuple[Path, Path]:
    """Write <stem>.crt (0644) and <stem>.key (0600) into directory; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(pair.cert_pem)
    write_private(key_path, pair.key_pem)
    return cert_path, key_path


def read_pair(directory: Path, stem: str) -> CertPair:
    return CertPair(
        (directory / f"{stem}.crt").read_bytes(), (directory / f"{stem}.key").read_bytes()
    )


def write_private(path: Path, data: bytes) -> None:
    """Write a secret file created with mode 0600 (never readable by others, even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _issue(
    ca: CertPair,
    common_name: str,
    organization: str | None,
    sans: list[x509.GeneralName],
    usage: x509.ObjectIdentifier,
) -> CertPair:
    key = ec.generate_private_key(ec.SECP256R1())
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return _pair(builder.sign(ca_key, hashes.SHA256()), key)


def _pair(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> CertPair:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return CertPair(cert.public_bytes(serialization.Encoding.PEM), key_pem)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
