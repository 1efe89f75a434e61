"""File contents and input checks of the node setup (no lab needed)."""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aksnet.errors import InvalidInput
from aksnet.infra.linuxconf import HOSTS_BEGIN, HOSTS_END, ca_cert_hash, hosts_text, nft_text
from aksnet.infra.linuxnode import LinuxNode, LinuxNodeSetup
from aksnet.network.plugins import get_plugin


class NoShell:
    def run(self, argv: Any, **kwargs: Any) -> Any:
        raise AssertionError("input checks must not reach the node")

    def put(self, data: bytes, remote_path: str, *, mode: int = 0o644) -> None:
        raise AssertionError("input checks must not reach the node")


def node(name: str, role: Any = "worker", address: str = "198.19.0.10") -> LinuxNode:
    return LinuxNode(name, address, role, NoShell())


def test_hosts_block_is_replaced_in_place_and_other_lines_are_kept() -> None:
    first = hosts_text("127.0.0.1 localhost\n", [("198.19.0.10", "a")])
    assert first == f"127.0.0.1 localhost\n{HOSTS_BEGIN}\n198.19.0.10 a\n{HOSTS_END}\n"
    edited = first + "10.0.0.1 mine\n"
    second = hosts_text(edited, [("198.19.0.11", "b")])
    assert (
        second == f"127.0.0.1 localhost\n{HOSTS_BEGIN}\n198.19.0.11 b\n{HOSTS_END}\n10.0.0.1 mine\n"
    )
    assert hosts_text(second, [("198.19.0.11", "b")]) == second


def test_nft_table_parses_with_nft_and_lists_each_port_once() -> None:
    text = nft_text(get_plugin("calico"))
    assert text.count("udp dport 4789 ") == 1 and text.count("tcp dport 10250 ") == 1
    assert "tcp dport 5473 " in text and "policy accept" in text
    nft = Path("/usr/sbin/nft")
    if not nft.exists():
        pytest.skip("nft is not installed")
    # --check parses and validates against the kernel without committing anything.
    checked = subprocess.run(
        [nft, "--check", "-f", "-"], input=text, capture_output=True, text=True
    )
    if "Operation not permitted" in checked.stderr:
        pytest.skip("nft --check needs CAP_NET_ADMIN")
    assert checked.returncode == 0, checked.stderr


def test_ca_cert_hash_is_the_sha256_of_the_public_key_info_as_openssl_computes_it() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.datetime(2026, 1, 1))
        .not_valid_after(datetime.datetime(2036, 1, 1))
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    # The pipeline of the kubeadm documentation ("openssl x509 -pubkey | openssl rsa/pkey ...").
    public = subprocess.run(
        ["openssl", "x509", "-pubkey", "-noout"], input=pem, capture_output=True
    )
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"], input=public.stdout, capture_output=True
    )
    digest = subprocess.run(["sha256sum"], input=der.stdout, capture_output=True)
    assert der.returncode == 0 and len(der.stdout) > 64
    assert ca_cert_hash(pem) == "sha256:" + digest.stdout.decode().split()[0]


@pytest.mark.parametrize(
    ("nodes", "parameter", "shown"),
    [
        ([node("a"), node("b")], "nodes", "[]"),
        ([node("a", "init"), node("b", "init")], "nodes", "['a', 'b']"),
        ([node("a", "init"), node("a")], "nodes", "['a']"),
        ([node("a", "init", address="not-an-ip")], "address", "'not-an-ip'"),
    ],
)
def test_bad_node_lists_are_refused_naming_the_parameter(
    nodes: list[LinuxNode], parameter: str, shown: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        LinuxNodeSetup(nodes, get_plugin("flannel"), lambda n, h: pytest.fail("rendered"))
    assert error.value.parameter == parameter
    assert shown in str(error.value)


def test_a_bad_role_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"'role'.*'master'"):
        node("a", "master")
