"""NoCloud seeds checked by cloud-init itself (Debian's cloud-init 22.4): `cloud-init schema`
for the user-data and `cloud-init devel net-convert` for the network-config, read back from the
ISO that build_seed_iso writes; DHCP likewise; private keys never shown."""

from __future__ import annotations

import io
import logging
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pycdlib
import pytest
import yaml

from aksnet.errors import InvalidInput
from aksnet.infra.hostkeys import HostKeyPair
from aksnet.infra.nodeseed import NodeSeed, SeedFile, node_seed, normalize_mac
from aksnet.lab.linux.cloudinit import address_for, check_user_data
from tests.infra.conftest import dhcp_network, static_network

MAC = "00-15-5D-01-02-0A"
CLOUD_MAC = "00:15:5d:01:02:0a"
CLOUD_INIT = shutil.which("cloud-init")
needs_cloud_init = pytest.mark.skipif(CLOUD_INIT is None, reason="Debian's cloud-init is absent")


def _seed(keys: tuple[HostKeyPair, ...], admin_key: HostKeyPair, /, **changes: Any) -> NodeSeed:
    arguments: dict[str, Any] = {
        "hostname": "c1-cp-0",
        "mac": MAC,
        "network": static_network(),
        "address": "198.18.0.10",
        "admin_user": "clouduser",
        "authorized_key": admin_key.public_line,
        "host_keys": keys,
        "files": (SeedFile("/etc/aksnet/node.json", '{"cluster": "c1"}\n', "0600"),),
    }
    return node_seed(**{**arguments, **changes})


def _iso_files(iso_path: Path, directory: Path) -> dict[str, Path]:
    """The seed's files exactly as the ISO holds them (Rock Ridge names)."""
    iso = pycdlib.PyCdlib()
    iso.open(str(iso_path))
    found: dict[str, Path] = {}
    try:
        for name in ("meta-data", "user-data", "network-config"):
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, rr_path=f"/{name}")
            found[name] = directory / name
            found[name].write_bytes(out.getvalue())
    finally:
        iso.close()
    return found


def _cloud_init(*arguments: str) -> subprocess.CompletedProcess[str]:
    assert CLOUD_INIT is not None
    return subprocess.run(
        [CLOUD_INIT, *arguments], capture_output=True, text=True, timeout=120, check=False
    )


def _net_convert(network_config: Path, out: Path) -> str:
    result = _cloud_init(
        "devel", "net-convert", "-p", str(network_config), "-k", "yaml",
        "-d", str(out), "-D", "debian", "-O", "networkd",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return "\n".join(p.read_text() for p in sorted(out.rglob("*")) if p.is_file())


@needs_cloud_init
def test_static_seed_passes_cloud_init_schema_and_net_convert(
    tmp_path: Path, host_keys: tuple[HostKeyPair, ...], admin_key: HostKeyPair
) -> None:
    iso = _seed(host_keys, admin_key).write_iso(tmp_path / "seed.iso")
    assert stat.S_IMODE(iso.stat().st_mode) == 0o600
    files = _iso_files(iso, tmp_path)
    schema = _cloud_init("schema", "--config-file", str(files["user-data"]))
    assert schema.returncode == 0, schema.stdout + schema.stderr
    assert "Valid cloud-config" in schema.stdout
    rendered = _net_convert(files["network-config"], tmp_path / "networkd")
    assert f"MACAddress={CLOUD_MAC}" in rendered
    assert "Address=198.18.0.10/24" in rendered
    assert "Gateway=198.18.0.1" in rendered and "Destination=0.0.0.0/0" in rendered
    assert "DNS=198.18.0.2 198.18.0.3" in rendered
    assert "DHCP=no" in rendered


@needs_cloud_init
def test_dhcp_seed_passes_net_convert_as_dhcp_matched_by_mac(
    tmp_path: Path, host_keys: tuple[HostKeyPair, ...], admin_key: HostKeyPair
) -> None:
    seed = _seed(host_keys, admin_key, network=dhcp_network(), address=None)
    files = _iso_files(seed.write_iso(tmp_path / "seed.iso"), tmp_path)
    assert _cloud_init("schema", "--config-file", str(files["user-data"])).returncode == 0
    rendered = _net_convert(files["network-config"], tmp_path / "networkd")
    assert f"MACAddress={CLOUD_MAC}" in rendered
    assert "DHCP=ipv4" in rendered
    assert "[Address]" not in rendered and "Gateway=" not in rendered


@needs_cloud_init
def test_cloud_init_schema_rejects_a_typo_in_the_user_data(
    tmp_path: Path, host_keys: tuple[HostKeyPair, ...], admin_key: HostKeyPair
) -> None:
    user_data = _seed(host_keys, admin_key).user_data
    user_data["write_files"][0]["permisions"] = user_data["write_files"][0].pop("permissions")
    path = tmp_path / "user-data"
    path.write_text("#cloud-config\n" + yaml.safe_dump(user_data))
    result = _cloud_init("schema", "--config-file", str(path))
    assert result.returncode != 0
    assert "permisions" in result.stdout + result.stderr


def test_user_data_has_the_user_key_sudo_host_keys_and_files(
    host_keys: tuple[HostKeyPair, ...], admin_key: HostKeyPair
) -> None:
    seed = _seed(host_keys, admin_key)
    assert seed.meta_data == {"instance-id": "aksnet-c1-cp-0", "local-hostname": "c1-cp-0"}
    user_data = seed.user_data
    assert user_data["hostname"] == "c1-cp-0"
    (user,) = user_data["users"]
    assert user["name"] == "clouduser" and user["sudo"] == "ALL=(ALL) NOPASSWD:ALL"
    assert user["ssh_authorized_keys"] == [admin_key.public_line]
    (key,) = host_keys
    assert user_data["ssh_keys"] == {
        "ed25519_private": key.private_openssh,
        "ed25519_public": key.public_line,
    }
    assert user_data["ssh_genkeytypes"] == ["ed25519"]  # no unpinned key of another type
    assert user_data["write_files"] == [
        {
            "path": "/etc/aksnet/node.json",
            "content": '{"cluster": "c1"}\n',
            "permissions": "0600",
            "owner": "root:root",
        }
    ]
    assert seed.host_key_fingerprints == (key.fingerprint,)


def test_network_config_is_v2_matched_by_mac_with_an_explicit_default_route(
    host_keys: tuple[HostKeyPair, ...], admin_key: HostKeyPair
) -> None:
    network_config = _seed(host_keys, admin_key).network_config
    ethernet = network_config["ethernets"]["eth0"]
    assert network_config["version"] == 2
    assert ethernet["match"] == {"macaddress": CLOUD_MAC}
    assert ethernet["routes"] == [{"to": "0.0.0.0/0", "via": "198.18.0.1"}]
    assert "default" not in yaml.safe_dump(network_config)


def test_the_lab_reads_the_same_seed(
    host_keys: tuple[HostKeyPair, ...], admin_key: HostKeyPair
) -> None:
    seed = _seed(host_keys, admin_key)
    check_user_data(seed.user_data)
    found = address_for(seed.network_config, CLOUD_MAC)
    assert str(found.interface) == "198.18.0.10/24"
    assert str(found.gateway) == "198.18.0.1"
    assert found.nameservers == ("198.18.0.2", "198.18.0.3")


def test_private_keys_never_appear_in_repr_or_logs(
    caplog: pytest.LogCaptureFixture,
    host_keys: tuple[HostKeyPair, ...],
    admin_key: HostKeyPair,
) -> None:
    caplog.set_level(logging.DEBUG)
    seed = _seed(host_keys, admin_key)
    private_body = host_keys[0].private_openssh.splitlines()[1]
    assert private_body in yaml.safe_dump(seed.user_data)
    for shown in (repr(seed), str(seed), repr(SeedFile("/etc/x", "secret-content"))):
        assert private_body not in shown and "secret-content" not in shown
    assert host_keys[0].fingerprint in repr(seed)
    assert caplog.records and private_body not in caplog.text


@pytest.mark.parametrize(
    ("changes", "parameter"),
    [
        ({"address": "198.18.1.10"}, "address"),  # outside the prefix
        ({"address": "198.18.0.1"}, "address"),  # the gateway
        ({"address": "198.18.0.255"}, "address"),  # broadcast
        ({"address": None}, "address"),  # static needs one
        ({"network": dhcp_network()}, "address"),  # DHCP takes none
        ({"mac": "00-15-5D-01-02"}, "mac"),
        ({"mac": "01-00-5E-00-00-01"}, "mac"),  # multicast
        ({"hostname": "C1_cp"}, "hostname"),
        ({"admin_user": "root user"}, "admin_user"),
        ({"authorized_key": "not a key"}, "public_key"),
        ({"host_keys": ()}, "host_keys"),
        ({"files": (SeedFile("relative/path", ""),)}, "files path"),
        ({"files": (SeedFile("/etc/x", "", "644"),)}, "files permissions"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(
    changes: dict[str, Any],
    parameter: str,
    host_keys: tuple[HostKeyPair, ...],
    admin_key: HostKeyPair,
) -> None:
    with pytest.raises(InvalidInput) as caught:
        _seed(host_keys, admin_key, **changes)
    assert caught.value.parameter == parameter


@pytest.mark.parametrize("mac", ["00155D01020A", "00-15-5D-01-02-0A", "00:15:5d:01:02:0a"])
def test_hyper_v_mac_forms_are_normalized(mac: str) -> None:
    assert normalize_mac(mac) == CLOUD_MAC
