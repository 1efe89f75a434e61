"""What the lab reads from a Windows seed, and what it refuses (each missing piece named)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from aksnet.infra.windowsseed import generate_winrm_certificate
from aksnet.lab.linux.cloudinit import SeedDocuments
from aksnet.lab.winseed import CERT_PATH, KEY_PATH, SeedIncomplete, windows_seed

PASSWORD = "Seeded-Passw0rd!"
CERT = generate_winrm_certificate("c1win1", "198.19.0.41")
OTHER = generate_winrm_certificate("c1win2", "198.19.0.42")
NET = {"version": 2, "ethernets": {"eth0": {"dhcp4": True}}}


def documents(**user_data: Any) -> SeedDocuments:
    data: dict[str, Any] = {
        "users": [{"name": "aksnetadmin", "passwd": PASSWORD, "groups": "Administrators"}],
        "write_files": [
            {"path": CERT_PATH, "content": CERT.cert_pem},
            {"path": KEY_PATH, "content": CERT.key_pem},
        ],
    }
    data.update(user_data)
    return SeedDocuments({"instance-id": "i", "local-hostname": "c1win1"}, data, NET)


def test_a_complete_seed_gives_the_admin_the_pair_and_the_network() -> None:
    seed = windows_seed(documents())
    assert (seed.hostname, seed.username, seed.password) == ("c1win1", "aksnetadmin", PASSWORD)
    assert seed.cert_pem == CERT.cert_pem.encode() and seed.network_config == NET
    assert PASSWORD not in repr(seed) and "PRIVATE" not in repr(seed)


def test_base64_content_and_forward_slashes_are_read_as_cloudbase_init_does() -> None:
    files = [
        {"path": CERT_PATH.replace("\\", "/"), "content": CERT.cert_pem},
        {"path": KEY_PATH, "encoding": "b64",
         "content": base64.b64encode(CERT.key_pem.encode()).decode()},
    ]  # fmt: skip
    assert windows_seed(documents(write_files=files)).key_pem == CERT.key_pem.encode()


@pytest.mark.parametrize(
    ("user_data", "reason"),
    [
        ({"users": [{"name": "aksnetadmin", "passwd": PASSWORD}]}, "Administrators"),
        ({"users": [{"name": "aksnetadmin", "groups": "Administrators"}]}, "passwd"),
        ({"write_files": [{"path": CERT_PATH, "content": CERT.cert_pem}]}, KEY_PATH),
        ({"write_files": [{"path": CERT_PATH, "content": CERT.cert_pem},
                          {"path": KEY_PATH, "content": OTHER.key_pem}]}, "is not the key"),
        ({"write_files": [{"path": CERT_PATH, "content": "not a certificate"},
                          {"path": KEY_PATH, "content": CERT.key_pem}]}, "PEM certificate"),
        ({"write_files": [{"path": CERT_PATH, "content": CERT.cert_pem},
                          {"path": KEY_PATH, "encoding": "gzip", "content": "x"}]}, "gzip"),
    ],
)  # fmt: skip
def test_a_missing_or_broken_piece_is_named(user_data: dict[str, Any], reason: str) -> None:
    with pytest.raises(SeedIncomplete) as refused:
        windows_seed(documents(**user_data))
    assert reason in str(refused.value) and PASSWORD not in str(refused.value)


def test_a_seed_without_network_config_is_incomplete() -> None:
    seed = documents()
    with pytest.raises(SeedIncomplete, match="network-config"):
        windows_seed(SeedDocuments(seed.meta_data, seed.user_data, {}))
