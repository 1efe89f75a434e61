"""Windows VMs in the provisioning plan, without a host: node_vms lists the Windows pools' VMs
with addresses from the same transaction as the Linux ones and Windows seeds; their VmSpec uses
the Windows image and the MicrosoftWindows secure boot template."""

from __future__ import annotations

from pathlib import Path

import pytest

from aksnet.cluster.keys import ClusterKeys
from aksnet.errors import CapacityExceeded, InvalidInput
from aksnet.infra.provision import (
    DEFAULT_IMAGE,
    DEFAULT_WINDOWS_IMAGE,
    NodeVm,
    ProvisionSettings,
    ProvisionVMs,
    WindowsAccess,
    node_vms,
    winrm_endpoint,
)
from aksnet.infra.vms import (
    LINUX_SECURE_BOOT_TEMPLATE,
    WINDOWS_SECURE_BOOT_TEMPLATE,
    configure_statements,
)
from aksnet.infra.windowsseed import CERT_FILE
from aksnet.model.cluster import ClusterSpec, cluster_spec, node_pool_spec
from aksnet.remote.base import Cmdlet
from aksnet.state.store import Store
from tests.infra.conftest import static_network

ADMIN = "clouduser"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store(tmp_path / "aksnet.db")
    opened.add_network(static_network())
    return opened


def spec(windows: int, linux: int = 2) -> ClusterSpec:
    return cluster_spec(
        name="c1",
        vnet="labnet",
        primary_network_plugin="flannel",
        node_pools=(
            node_pool_spec(name="linux", count=linux),
            node_pool_spec(
                name="win", count=windows, os_type="Windows", vm_size_name="Standard_D2s_v3"
            ),
        ),
    )


def plan(store: Store, keys: ClusterKeys, windows: int, linux: int = 2) -> list[NodeVm]:
    access = WindowsAccess(
        keys.windows_password(), keys.winrm_certificate, keys.winrm_certificate_path
    )
    return node_vms(
        spec(windows, linux),
        static_network(),
        store,
        admin_user=ADMIN,
        authorized_key=keys.admin().public_line,
        host_key_for=keys.host_key,
        windows=access,
    )


def test_windows_vms_come_last_with_addresses_seeds_and_pinned_certificates(
    store: Store, tmp_path: Path
) -> None:
    keys = ClusterKeys(tmp_path / "keys")
    vms = plan(store, keys, windows=1)
    assert [(v.name, v.os_type) for v in vms] == [
        ("c1-cp-0", "Linux"),
        ("c1-linux-0", "Linux"),
        ("c1-linux-1", "Linux"),
        ("c1-win-0", "Windows"),
    ]
    win = vms[-1]
    assert (win.cpu, win.memory_bytes) == (2, 8 * 1024**3)  # the pool's size
    assert win.address is not None and len({v.address for v in vms}) == 4
    assert win.certificate_path == str(keys.winrm_certificate_path("c1-win-0"))
    written = {f["path"]: f["content"] for f in win.seed.user_data["write_files"]}
    assert written[CERT_FILE] == Path(win.certificate_path).read_text()
    assert win.seed.user_data["users"][0]["passwd"] == keys.windows_password()
    assert "ssh_keys" not in win.seed.user_data and win.host_key_line == ""
    again = plan(store, keys, windows=1)  # a resumed run decides the same
    assert [(v.address, v.mac) for v in again] == [(v.address, v.mac) for v in vms]
    assert again[-1].seed.user_data == win.seed.user_data


def test_addresses_of_linux_and_windows_vms_come_in_one_transaction(
    store: Store, tmp_path: Path
) -> None:
    keys = ClusterKeys(tmp_path / "keys")
    # The static pool holds 27 addresses: 1 + 20 Linux + 8 Windows do not fit.
    with pytest.raises(CapacityExceeded):
        plan(store, keys, windows=8, linux=20)
    assert store.allocations() == []  # all or none


def test_windows_vms_need_their_password_and_certificates(store: Store, tmp_path: Path) -> None:
    keys = ClusterKeys(tmp_path / "keys")
    with pytest.raises(InvalidInput) as caught:
        node_vms(
            spec(1),
            static_network(),
            store,
            admin_user=ADMIN,
            authorized_key=keys.admin().public_line,
            host_key_for=keys.host_key,
        )
    assert caught.value.parameter == "windows"


def test_a_windows_vm_uses_the_windows_image_and_template(store: Store, tmp_path: Path) -> None:
    keys = ClusterKeys(tmp_path / "keys")
    vms = plan(store, keys, windows=1)
    settings = ProvisionSettings(
        "LabSwitch", 7, ADMIN, keys.admin().to_paramiko(), keys.known_hosts
    )
    provision = ProvisionVMs(vms, {}, settings)
    linux, win = provision.spec_of(vms[0]), provision.spec_of(vms[-1])
    assert (linux.parent_disk, linux.secure_boot_template) == (
        DEFAULT_IMAGE,
        LINUX_SECURE_BOOT_TEMPLATE,
    )
    assert (win.parent_disk, win.secure_boot_template) == (
        DEFAULT_WINDOWS_IMAGE,
        WINDOWS_SECURE_BOOT_TEMPLATE,
    )
    firmware = [c for c in configure_statements(win, None) if c.name == "Set-VMFirmware"]
    assert firmware == [
        Cmdlet.of("Set-VMFirmware", VMName="c1-win-0", SecureBootTemplate="MicrosoftWindows")
    ]
    endpoint = winrm_endpoint(vms[-1], "198.18.0.13")
    assert (endpoint.port, endpoint.ssl, endpoint.auth) == (5986, True, "ntlm")
    assert endpoint.cert_validation == vms[-1].certificate_path
