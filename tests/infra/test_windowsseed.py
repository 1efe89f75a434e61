"""Windows NoCloud seeds (cloudbase-init's layout) checked by cloud-init's own tools where they
apply: `cloud-init schema` on the user-data and `cloud-init devel net-convert` on the
network-config, read back from the ISO; the WinRM certificate's shape checked with
`cryptography` and with Python's TLS verifier; secrets never shown."""

from __future__ import annotations

import ipaddress
import logging
import ssl
import string
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from aksnet.cluster.keys import ClusterKeys
from aksnet.errors import InvalidInput
from aksnet.infra.nodeseed import NodeSeed
from aksnet.infra.windowsseed import (
    CERT_FILE,
    KEY_FILE,
    WinRmCertificate,
    generate_admin_password,
    generate_winrm_certificate,
    windows_seed,
)
from tests.infra.conftest import dhcp_network, static_network
from tests.infra.test_nodeseed import CLOUD_MAC, MAC, _cloud_init, _iso_files, _net_convert
from tests.infra.test_nodeseed import needs_cloud_init as _needs_cloud_init

ADDRESS = "198.18.0.12"
PASSWORD = "Xy7!" + "q" * 20


def _certificate(address: str | None = ADDRESS) -> WinRmCertificate:
    return generate_winrm_certificate("c1-win-0", address)


def _seed(certificate: WinRmCertificate, **changes: object) -> NodeSeed:
    arguments: dict[str, object] = {
        "hostname": "c1-win-0",
        "mac": MAC,
        "network": static_network(),
        "address": ADDRESS,
        "admin_user": "clouduser",
        "password": PASSWORD,
        "certificate": certificate,
    }
    return windows_seed(**{**arguments, **changes})  # type: ignore[arg-type]


@_needs_cloud_init
def test_windows_seed_passes_cloud_init_schema_and_net_convert(tmp_path: Path) -> None:
    files = _iso_files(_seed(_certificate()).write_iso(tmp_path / "seed.iso"), tmp_path)
    schema = _cloud_init("schema", "--config-file", str(files["user-data"]))
    assert schema.returncode == 0, schema.stdout + schema.stderr
    assert "Valid cloud-config" in schema.stdout
    rendered = _net_convert(files["network-config"], tmp_path / "networkd")
    assert f"MACAddress={CLOUD_MAC}" in rendered
    assert f"Address={ADDRESS}/24" in rendered and "Gateway=198.18.0.1" in rendered
    assert files["meta-data"].read_text().count("c1-win-0") == 2  # instance-id, local-hostname


@_needs_cloud_init
def test_dhcp_windows_seed_converts_to_dhcp(tmp_path: Path) -> None:
    seed = _seed(_certificate(None), network=dhcp_network(), address=None)
    files = _iso_files(seed.write_iso(tmp_path / "seed.iso"), tmp_path)
    assert "DHCP=ipv4" in _net_convert(files["network-config"], tmp_path / "networkd")


def test_user_data_has_hostname_user_files_and_listener_commands() -> None:
    certificate = _certificate()
    user_data = _seed(certificate).user_data
    assert user_data["set_hostname"] == "c1-win-0"
    assert user_data["users"] == [
        {"name": "clouduser", "passwd": PASSWORD, "groups": "Administrators"}
    ]
    files = {f["path"]: f["content"] for f in user_data["write_files"]}
    assert files == {CERT_FILE: certificate.cert_pem, KEY_FILE: certificate.key_pem}
    assert any("WSMan:\\localhost\\Listener -Transport HTTPS" in c for c in user_data["runcmd"])
    assert all(PASSWORD not in c for c in user_data["runcmd"])


def test_the_seed_shares_the_linux_network_config() -> None:
    from aksnet.infra.nodeseed import network_config_v2

    seed = _seed(_certificate())
    assert seed.network_config == network_config_v2(static_network(), CLOUD_MAC, ADDRESS)


def test_certificate_is_a_self_signed_p256_trust_anchor_for_its_name_and_address() -> None:
    cert = x509.load_pem_x509_certificate(_certificate().cert_pem.encode())
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp256r1"
    assert cert.subject == cert.issuer
    assert cert.subject.rfc4514_string() == "CN=c1-win-0"
    cert.verify_directly_issued_by(cert)  # raises unless self-signed
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["c1-win-0"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.IPv4Address(ADDRESS)]
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime.days == 3650


def test_dhcp_certificate_has_no_ip_san() -> None:
    cert = x509.load_pem_x509_certificate(_certificate(None).cert_pem.encode())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.IPAddress) == []


def test_python_tls_trusts_the_certificate_as_its_own_anchor(tmp_path: Path) -> None:
    """What requests does with cert_validation=<the PEM>: load it as the only CA."""
    certificate = _certificate()
    (tmp_path / "cert.pem").write_text(certificate.cert_pem)
    (tmp_path / "key.pem").write_text(certificate.key_pem)
    context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    assert context.get_ca_certs()[0]["subject"] == ((("commonName", "c1-win-0"),),)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")  # key matches


def test_password_meets_windows_complexity_and_differs_each_time() -> None:
    passwords = {generate_admin_password() for _ in range(20)}
    assert len(passwords) == 20
    for password in passwords:
        assert len(password) == 24
        for group in (string.ascii_uppercase, string.ascii_lowercase, string.digits):
            assert any(c in group for c in password)
        assert any(not c.isalnum() for c in password)


def test_secrets_never_appear_in_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    certificate = _certificate()
    seed = _seed(certificate)
    body = certificate.key_pem.splitlines()[1]
    for text in (repr(seed), str(seed), repr(certificate), caplog.text):
        assert PASSWORD not in text and body not in text
    assert certificate.fingerprint in caplog.text


@pytest.mark.parametrize(
    ("changes", "parameter"),
    [
        ({"hostname": "C1_WIN"}, "hostname"),
        ({"admin_user": "bad user"}, "admin_user"),
        ({"password": ""}, "password"),
        ({"address": None}, "address"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(
    changes: dict[str, object], parameter: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        _seed(_certificate(), **changes)
    assert error.value.parameter == parameter
    assert PASSWORD not in str(error.value)


def test_cluster_keys_keep_certificates_and_password_owner_only(tmp_path: Path) -> None:
    keys = ClusterKeys(tmp_path / "keys")
    first = keys.winrm_certificate("c1-win-0", ADDRESS)
    password = keys.windows_password()
    again = ClusterKeys(tmp_path / "keys")
    assert again.winrm_certificate("c1-win-0", ADDRESS) == first  # reused on resume
    assert again.windows_password() == password
    assert keys.winrm_certificate_path("c1-win-0").read_text() == first.cert_pem
    for path in keys.folder.iterdir():
        assert path.stat().st_mode & 0o077 == 0, path
    assert keys.folder.stat().st_mode & 0o077 == 0
