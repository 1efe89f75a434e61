"""NoCloud seed ISOs: built, read back, reproducible, and checked with cloud-init's own tools."""

from __future__ import annotations

import io
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pycdlib
import pytest

from aksnet.errors import InvalidInput, NotFound
from aksnet.infra.hostkeys import generate_host_key
from aksnet.infra.seediso import build_seed_iso, read_seed_iso

MAC = "52:54:00:12:34:56"
CLOUD_INIT = shutil.which("cloud-init")
needs_cloud_init = pytest.mark.skipif(CLOUD_INIT is None, reason="cloud-init is not installed")


def network_config() -> dict[str, Any]:
    return {
        "version": 2,
        "ethernets": {
            "eth0": {
                "match": {"macaddress": MAC},
                "set-name": "eth0",
                "addresses": ["198.18.0.20/24"],
                # cloud-init 22.4 does not accept "to: default"; 0.0.0.0/0 works everywhere.
                "routes": [{"to": "0.0.0.0/0", "via": "198.18.0.1"}],
                "nameservers": {"addresses": ["198.18.0.2"]},
            }
        },
    }


def seed_inputs() -> dict[str, Any]:
    host_key = generate_host_key()
    return {
        "meta_data": {"instance-id": "c1-linux-0", "local-hostname": "c1-linux-0"},
        "user_data": {
            "hostname": "c1-linux-0",
            "ssh_pwauth": False,
            "ssh_deletekeys": True,
            "ssh_keys": {
                "ed25519_private": host_key.private_openssh,
                "ed25519_public": host_key.public_line,
            },
            "users": [
                {
                    "name": "clouduser",
                    "ssh_authorized_keys": [generate_host_key().public_line],
                    "sudo": "ALL=(ALL) NOPASSWD:ALL",
                }
            ],
            "write_files": [{"path": "/etc/aksnet/node", "content": "Grüße 東京\n"}],
        },
        "network_config": network_config(),
    }


def test_round_trip(tmp_path: Path) -> None:
    inputs = seed_inputs()
    path = build_seed_iso(tmp_path / "seed.iso", **inputs)
    seed = read_seed_iso(path)
    assert seed.meta_data == inputs["meta_data"]
    assert seed.user_data == inputs["user_data"]
    assert seed.network_config == inputs["network_config"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # user data carries a private host key


def test_without_network_config(tmp_path: Path) -> None:
    inputs = seed_inputs() | {"network_config": None}
    seed = read_seed_iso(build_seed_iso(tmp_path / "seed.iso", **inputs))
    assert seed.network_config is None


def test_same_input_gives_identical_bytes(tmp_path: Path) -> None:
    inputs = seed_inputs()
    first = build_seed_iso(tmp_path / "a.iso", **inputs).read_bytes()
    second = build_seed_iso(tmp_path / "b.iso", **inputs).read_bytes()
    assert first == second
    changed = inputs | {"meta_data": {"instance-id": "c1-linux-1"}}
    assert build_seed_iso(tmp_path / "c.iso", **changed).read_bytes() != first


def test_label_and_names_in_every_namespace(tmp_path: Path) -> None:
    path = build_seed_iso(tmp_path / "seed.iso", **seed_inputs())
    label = subprocess.run(
        ["blkid", "-o", "value", "-s", "LABEL", str(path)], capture_output=True, text=True
    )
    assert label.stdout.strip() == "cidata"  # what cloud-init's NoCloud looks for with blkid
    iso = pycdlib.PyCdlib()
    iso.open(str(path))
    try:
        joliet = {
            c.file_identifier().decode("utf-16-be") for c in iso.list_children(joliet_path="/")
        }
        rock_ridge = {
            c.rock_ridge.name().decode()
            for c in iso.list_children(rr_path="/")
            if c.rock_ridge is not None and c.file_identifier() not in (b"\x00", b"\x01")
        }
    finally:
        iso.close()  # fmt: skip
    expected = {"meta-data", "user-data", "network-config"}
    assert expected <= joliet
    assert expected <= rock_ridge


def test_user_data_starts_with_cloud_config(tmp_path: Path) -> None:
    text = _extract(build_seed_iso(tmp_path / "seed.iso", **seed_inputs()), "user-data")
    assert text.startswith("#cloud-config\n")


@needs_cloud_init
def test_user_data_passes_cloud_init_schema(tmp_path: Path) -> None:
    iso = build_seed_iso(tmp_path / "seed.iso", **seed_inputs())
    user_data = tmp_path / "user-data"
    user_data.write_text(_extract(iso, "user-data"))
    done = _cloud_init("schema", "--config-file", str(user_data))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Valid cloud-config" in done.stdout


@needs_cloud_init
def test_cloud_init_schema_catches_a_bad_user_data(tmp_path: Path) -> None:
    # The validator used above does reject wrong content: this guards the test itself.
    inputs = seed_inputs()
    inputs["user_data"] = {"runcmd": 5}
    iso = build_seed_iso(tmp_path / "seed.iso", **inputs)
    user_data = tmp_path / "user-data"
    user_data.write_text(_extract(iso, "user-data"))
    done = _cloud_init("schema", "--config-file", str(user_data))
    assert done.returncode != 0
    assert "runcmd" in done.stdout + done.stderr


@needs_cloud_init
@pytest.mark.parametrize(
    ("output_kind", "expected"),
    [
        ("networkd", ["Address=198.18.0.20/24", "Gateway=198.18.0.1", f"MACAddress={MAC}"]),
        ("eni", ["address 198.18.0.20/24", "default gw 198.18.0.1", f'"{MAC}"']),
    ],
)
def test_network_config_renders_with_cloud_init(
    tmp_path: Path, output_kind: str, expected: list[str]
) -> None:
    iso = build_seed_iso(tmp_path / "seed.iso", **seed_inputs())
    source = tmp_path / "network-config"
    source.write_text(_extract(iso, "network-config"))
    out = tmp_path / "out"
    done = _cloud_init(
        "devel", "net-convert", "-p", str(source), "-k", "yaml",
        "-d", str(out), "-D", "debian", "-O", output_kind,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rendered = "\n".join(p.read_text() for p in sorted(out.rglob("*")) if p.is_file())
    for text in expected:
        assert text in rendered


@pytest.mark.parametrize(
    ("override", "parameter"),
    [
        ({"meta_data": {"local-hostname": "x"}}, "meta_data"),
        ({"user_data": ["not", "a", "mapping"]}, "user_data"),
        ({"network_config": {"version": 1, "config": []}}, "network_config"),
    ],
)
def test_bad_input_names_the_parameter(
    tmp_path: Path, override: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(InvalidInput, match=parameter):
        build_seed_iso(tmp_path / "seed.iso", **(seed_inputs() | override))
    assert not (tmp_path / "seed.iso").exists()


def test_reading_a_missing_or_foreign_file(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        read_seed_iso(tmp_path / "absent.iso")
    junk = tmp_path / "junk.iso"
    junk.write_bytes(b"\0" * 40000)
    with pytest.raises(InvalidInput, match="path of an ISO image"):
        read_seed_iso(junk)


def _extract(iso_path: Path, name: str) -> str:
    """A file as cloud-init sees it on a Joliet mount (independent of read_seed_iso)."""
    iso = pycdlib.PyCdlib()
    iso.open(str(iso_path))
    try:
        out = io.BytesIO()
        iso.get_file_from_iso_fp(out, joliet_path=f"/{name}")
    finally:
        iso.close()
    return out.getvalue().decode("utf-8")


def _cloud_init(*args: str) -> subprocess.CompletedProcess[str]:
    assert CLOUD_INIT is not None
    return subprocess.run(
        [CLOUD_INIT, *args], capture_output=True, text=True, timeout=120, check=False
    )
