"""File cmdlets on the emulated file system, and its confinement to the machine's root."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from aksnet.lab.hyperv import HyperVHost, HyperVMachine
from aksnet.lab.hyperv.filesystem import PathOutsideRoot, WindowsFileSystem

from .conftest import call, errors_in, run


def test_windows_paths_map_under_the_root(tmp_path: Path) -> None:
    fs = WindowsFileSystem(tmp_path / "m")
    real = fs.real("c:\\ClusterStorage\\Volume1\\a.iso")
    assert real == fs.root / "C" / "ClusterStorage" / "Volume1" / "a.iso"
    assert fs.normalize("C:/x/./y/../z") == "C:\\x\\z"
    assert fs.normalize("rel.txt") == "C:\\Users\\Administrator\\Documents\\rel.txt"


def test_existing_entries_match_case_insensitively(tmp_path: Path) -> None:
    fs = WindowsFileSystem(tmp_path / "m")
    (fs.root / "C" / "ProgramData").mkdir(parents=True)
    assert fs.real("C:\\PROGRAMDATA\\x") == fs.root / "C" / "ProgramData" / "x"


@pytest.mark.parametrize(
    "path", ["C:\\..\\..\\etc\\passwd", "\\\\server\\share\\x", "C:\\a\\..\\..\\b"]
)
def test_paths_leaving_the_root_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(PathOutsideRoot):
        WindowsFileSystem(tmp_path / "m").real(path)


def test_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    fs = WindowsFileSystem(tmp_path / "m")
    (fs.root / "C").mkdir()
    (fs.root / "C" / "escape").symlink_to(tmp_path)
    with pytest.raises(PathOutsideRoot):
        fs.real("C:\\escape\\secret")


def test_refusal_is_a_cmdlet_error(hv: HyperVMachine) -> None:
    (err,) = errors_in(run(hv, call("Get-Content", "C:\\..\\..\\x")))
    assert err.category == "PermissionDenied"


def test_new_item_test_path_and_get_item(hv: HyperVMachine) -> None:
    run(hv, call("New-Item", Path="C:\\k", ItemType="Directory"))
    (item,) = run(hv, call("New-Item", Path="C:\\k\\a.txt", ItemType="File", Value="hi"))
    assert item["FullName"] == "C:\\k\\a.txt" and item["PSIsContainer"] is False
    assert run(
        hv, call("Test-Path", "C:\\k\\a.txt"), call("Test-Path", "C:\\k", PathType="Leaf")
    ) == [True, False]
    (err,) = errors_in(run(hv, call("New-Item", Path="C:\\k\\a.txt", ItemType="File")))
    assert err.message == "The file 'C:\\k\\a.txt' already exists."
    assert err.error_id == "NewItemIOError,Microsoft.PowerShell.Commands.NewItemCommand"
    (err,) = errors_in(run(hv, call("New-Item", Path="C:\\k", ItemType="Directory")))
    assert err.message == "An item with the specified name C:\\k already exists."
    (err,) = errors_in(run(hv, call("Get-Item", "C:\\nope")))
    assert err.message == "Cannot find path 'C:\\nope' because it does not exist."
    assert err.error_id == "PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand"
    assert err.category == "ObjectNotFound"


def test_set_add_get_content(hv: HyperVMachine, host: HyperVHost) -> None:
    run(hv, call("Set-Content", Path="C:\\t.txt", Value=["one", "two"]))
    run(hv, call("Add-Content", Path="C:\\t.txt", Value="three"))
    assert host.fs.real("C:\\t.txt").read_bytes() == b"one\r\ntwo\r\nthree\r\n"
    assert run(hv, call("Get-Content", "C:\\t.txt")) == ["one", "two", "three"]
    assert run(hv, call("Get-Content", "C:\\t.txt", Raw=True)) == ["one\r\ntwo\r\nthree\r\n"]
    assert run(hv, call("Get-Content", "C:\\t.txt", TotalCount=1)) == ["one"]
    run(hv, call("Set-Content", Path="C:\\u.txt", Value="é", Encoding="UTF8", NoNewline=True))
    assert host.fs.real("C:\\u.txt").read_bytes() == b"\xef\xbb\xbf\xc3\xa9"  # 5.1 UTF8 has a BOM
    assert run(hv, call("Get-Content", "C:\\u.txt")) == ["é"]
    (err,) = errors_in(run(hv, call("Set-Content", Path="C:\\none\\x.txt", Value="x")))
    assert err.message == "Could not find a part of the path 'C:\\none\\x.txt'."
    assert err.error_id.startswith("GetContentWriterDirectoryNotFoundError,")


def test_encoding_byte_round_trip(hv: HyperVMachine, host: HyperVHost) -> None:
    run(hv, call("Set-Content", Path="C:\\b.bin", Value=bytes([0, 1, 254, 255]), Encoding="Byte"))
    run(hv, call("Add-Content", Path="C:\\b.bin", Value=[7, 8], Encoding="Byte"))
    assert host.fs.real("C:\\b.bin").read_bytes() == bytes([0, 1, 254, 255, 7, 8])
    assert run(hv, call("Get-Content", "C:\\b.bin", Encoding="Byte")) == [0, 1, 254, 255, 7, 8]
    whole = bytes([0, 1, 254, 255, 7, 8])
    assert run(hv, call("Get-Content", "C:\\b.bin", Encoding="Byte", Raw=True)) == [whole]
    assert run(hv, call("Get-Content", "C:\\b.bin", Encoding="Byte", ReadCount=0)) == [whole]
    assert run(hv, call("Get-Content", "C:\\b.bin", Encoding="Byte", ReadCount=4)) == [
        [0, 1, 254, 255],
        [7, 8],
    ]
    (err,) = errors_in(run(hv, call("Set-Content", Path="C:\\c.bin", Value=["x"], Encoding="Byte")))
    assert 'to type "System.Byte"' in err.message


def test_file_hash_is_uppercase_sha256(hv: HyperVMachine, host: HyperVHost) -> None:
    host.fs.real("C:\\img.vhdx").write_bytes(b"disk")
    (h,) = run(hv, call("Get-FileHash", "C:\\img.vhdx"))
    assert h["Hash"] == hashlib.sha256(b"disk").hexdigest().upper()
    assert h["Algorithm"] == "SHA256" and h["Path"] == "C:\\img.vhdx"
    (err,) = errors_in(run(hv, call("Get-FileHash", "C:\\nope")))
    assert err.error_id == "PathNotFound,Get-FileHash"  # a script function in 5.1


def test_copy_move_remove(hv: HyperVMachine, host: HyperVHost) -> None:
    run(
        hv,
        call("Set-Content", Path="C:\\a.txt", Value="a"),
        call("New-Item", Path="C:\\d", ItemType="Directory"),
    )
    run(hv, call("Copy-Item", "C:\\a.txt", "C:\\d"))
    assert host.fs.real("C:\\d\\a.txt").read_bytes() == b"a\r\n"
    run(hv, call("Move-Item", "C:\\a.txt", "C:\\b.txt"))
    assert run(hv, call("Test-Path", "C:\\a.txt"), call("Test-Path", "C:\\b.txt")) == [False, True]
    (err,) = errors_in(run(hv, call("Move-Item", "C:\\b.txt", "C:\\d\\a.txt")))
    assert err.message == "Cannot create a file when that file already exists."
    run(hv, call("Move-Item", "C:\\b.txt", "C:\\d\\a.txt", Force=True))
    (err,) = errors_in(run(hv, call("Remove-Item", "C:\\d")))
    assert "has children and the Recurse parameter was not specified" in err.message
    run(hv, call("Remove-Item", "C:\\d", Recurse=True))
    assert run(hv, call("Test-Path", "C:\\d")) == [False]
    (err,) = errors_in(run(hv, call("Remove-Item", "C:\\d")))
    assert err.error_id == "PathNotFound,Microsoft.PowerShell.Commands.RemoveItemCommand"


def test_strings_pipe_into_test_path(hv: HyperVMachine) -> None:
    assert run(hv, call("Test-Path"), input=["C:\\ClusterStorage", "C:\\nope"]) == [True, False]
