"""Stand-in node images: Start-VM follows the VM's first disk to its image and reads its marker."""

from __future__ import annotations

from pathlib import Path

import pytest

from aksnet.infra.provision import DEFAULT_IMAGE, DEFAULT_WINDOWS_IMAGE
from aksnet.lab import images
from aksnet.lab.hyperv import HyperVHost, HyperVMachine, VMEvent
from tests.hyperv.conftest import call, errors_in, run


class Booted:
    def __init__(self) -> None:
        self.os: dict[str, str | None] = {}

    def __call__(self, event: VMEvent) -> None:
        self.os[event.name] = images.boot_os(event)


@pytest.fixture
def booted() -> Booted:
    return Booted()


@pytest.fixture
def hv(tmp_path: Path, booted: Booted) -> HyperVMachine:
    host = HyperVHost("hv1", tmp_path / "hv1", on_vm_start=booted)
    images.write_image(host.fs.real(DEFAULT_IMAGE), "Linux")
    images.write_image(host.fs.real(DEFAULT_WINDOWS_IMAGE), "Windows")
    return HyperVMachine(host)


def _vm_from(hv: HyperVMachine, name: str, parent: str) -> None:
    disk = rf"C:\ClusterStorage\Volume1\aksnet\{name}.vhdx"
    run(
        hv,
        call("New-VHD", Path=disk, ParentPath=parent, Differencing=True),
        call("New-VM", Name=name, Generation=2, NoVHD=True),
        call("Add-VMHardDiskDrive", VMName=name, Path=disk),
    )


def test_the_marker_of_the_disks_image_decides_what_boots(
    hv: HyperVMachine, booted: Booted
) -> None:
    _vm_from(hv, "win", DEFAULT_WINDOWS_IMAGE)
    _vm_from(hv, "lin", DEFAULT_IMAGE)
    run(hv, call("New-VM", Name="bare", Generation=2, NoVHD=True))
    assert errors_in(run(hv, call("Start-VM", Name=["win", "lin", "bare"]))) == []
    assert booted.os == {"win": "Windows", "lin": "Linux", "bare": None}


def test_a_chain_of_differencing_disks_leads_to_the_image(
    hv: HyperVMachine, booted: Booted
) -> None:
    middle = r"C:\ClusterStorage\Volume1\aksnet\middle.vhdx"
    run(hv, call("New-VHD", Path=middle, ParentPath=DEFAULT_WINDOWS_IMAGE, Differencing=True))
    _vm_from(hv, "deep", middle)
    run(hv, call("Start-VM", Name="deep"))
    assert booted.os == {"deep": "Windows"}


def test_a_disk_without_a_lab_image_fails_start_vm_naming_the_vm_and_the_path(
    hv: HyperVMachine, booted: Booted
) -> None:
    blank = r"C:\ClusterStorage\Volume1\Images\blank.vhdx"
    run(hv, call("New-VHD", Path=blank, SizeBytes=1024**3, Dynamic=True))
    _vm_from(hv, "odd", blank)
    (err,) = errors_in(run(hv, call("Start-VM", Name="odd")))
    assert "'odd' failed to start" in err.message
    assert "VM 'odd' cannot boot" in err.message and "blank.vhdx" in err.message
    assert run(hv, call("Get-VM", Name="odd"))[0]["State"] == "Off"


def test_markers_name_only_the_known_operating_systems(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="os_name 'BeOS'"):
        images.marker("BeOS")
    path = tmp_path / "img.vhdx"
    for data, expected in (
        (images.marker("Windows"), "Windows"),
        (b"", None),
        (b'{"aksnet-lab-image": true, "os": "BeOS"}', None),
        (b'{"os": "Linux"}', None),
        (b"\xff\xfe binary", None),
    ):
        path.write_bytes(data)
        assert images.image_os(path) == expected
