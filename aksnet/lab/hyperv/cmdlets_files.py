"""File cmdlets on the machine's WindowsFileSystem: Test-Path, New/Get/Remove/Copy/Move-Item,
Get/Set/Add-Content (text encodings and -Encoding Byte as in Windows PowerShell 5.1),
Get-FileHash. Paths are taken literally (no wildcard expansion)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aksnet.lab.hyperv.binder import Bound
from aksnet.lab.hyperv.host import LabFailure
from aksnet.lab.hyperv.objects import LabObject

if TYPE_CHECKING:
    from aksnet.lab.hyperv.machine import Context, MachineBase

# (codec, byte order mark) of the 5.1 FileSystem provider encodings; Default is the ANSI page.
_ENCODINGS = {
    "ascii": ("ascii", b""),
    "bigendianunicode": ("utf-16-be", b"\xfe\xff"),
    "bigendianutf32": ("utf-32-be", b"\x00\x00\xfe\xff"),
    "default": ("cp1252", b""),
    "oem": ("cp437", b""),
    "string": ("utf-16-le", b"\xff\xfe"),
    "unicode": ("utf-16-le", b"\xff\xfe"),
    "unknown": ("utf-16-le", b"\xff\xfe"),
    "utf7": ("utf-7", b""),
    "utf8": ("utf-8", b"\xef\xbb\xbf"),
    "utf32": ("utf-32-le", b"\xff\xfe\x00\x00"),
}
_BOMS = [
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
]


def _paths(b: Bound) -> list[str]:
    value = b.get("Path") if b.has("Path") else b.get("LiteralPath")
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def not_found(path: str) -> LabFailure:
    return LabFailure(
        "PathNotFound",
        f"Cannot find path '{path}' because it does not exist.",
        "ObjectNotFound",
        path,
    )


def item_object(ctx: Context, real: Path) -> LabObject:
    full = ctx.machine.fs.windows(real)
    if real.is_dir():
        return LabObject(
            "DirectoryInfo", Name=real.name, FullName=full, PSIsContainer=True, Mode="d-----"
        )
    return LabObject(
        "FileInfo",
        Name=real.name,
        FullName=full,
        Length=real.stat().st_size,
        Extension=real.suffix,
        PSIsContainer=False,
        Mode="-a----",
    )


def test_path(ctx: Context, b: Bound) -> list[Any]:
    kind = str(b.get("PathType", "Any")).lower()
    out: list[Any] = []
    for path in _paths(b):
        real = ctx.machine.fs.real(path)
        exists = (
            real.is_file()
            if kind == "leaf"
            else real.is_dir()
            if kind == "container"
            else real.exists()
        )
        out.append(exists)
    return out


def new_item(ctx: Context, b: Bound) -> list[Any]:
    kind = str(b.get("ItemType", "File")).lower()
    out: list[Any] = []
    for base in _paths(b) if b.has("Path") else ["."]:
        path = base + "\\" + str(b.get("Name")) if b.has("Name") else base
        real = ctx.machine.fs.real(path)
        windows = ctx.machine.fs.normalize(path)
        if kind == "directory":
            if real.exists() and not b.has("Force"):
                raise LabFailure(
                    "DirectoryExist",
                    f"An item with the specified name {windows} already exists.",
                    "ResourceExists",
                    windows,
                )
            real.mkdir(parents=True, exist_ok=True)
        else:
            if real.exists() and not b.has("Force"):
                raise LabFailure(
                    "NewItemIOError", f"The file '{windows}' already exists.", "WriteError", windows
                )
            if not real.parent.is_dir():
                if not b.has("Force"):
                    raise _no_part(windows, "NewItemIOError")
                real.parent.mkdir(parents=True, exist_ok=True)
            value = b.get("Value")
            real.write_bytes(_encode([value] if value is not None else [], "default", True))
        out.append(item_object(ctx, real))
    return out


def _no_part(windows: str, error_id: str) -> LabFailure:
    return LabFailure(
        error_id, f"Could not find a part of the path '{windows}'.", "ObjectNotFound", windows
    )


def get_item(ctx: Context, b: Bound) -> list[Any]:
    out: list[Any] = []
    for path in _paths(b):
        real = ctx.machine.fs.real(path)
        out.append(item_object(ctx, real) if real.exists() else _record(ctx, not_found(path)))
    return out


def _record(ctx: Context, f: LabFailure) -> Any:
    return ctx.record(f.error_id, f.message, f.category, f.target)


def remove_item(ctx: Context, b: Bound) -> list[Any]:
    out: list[Any] = []
    for path in _paths(b):
        real = ctx.machine.fs.real(path)
        if not real.exists():
            out.append(_record(ctx, not_found(path)))
        elif real.is_dir():
            if any(real.iterdir()) and not b.has("Recurse"):
                out.append(
                    ctx.record(
                        "RemoveItemUnauthorizedAccessError",
                        f"The item at {ctx.machine.fs.normalize(path)} has children and the "
                        "Recurse parameter was not specified.",
                        "WriteError",
                        path,
                    )
                )
            else:
                shutil.rmtree(real)
        else:
            real.unlink()
    return out


def _destination(ctx: Context, source: Path, destination: str) -> Path:
    target = ctx.machine.fs.real(destination)
    return target / source.name if target.is_dir() else target


def copy_item(ctx: Context, b: Bound) -> list[Any]:
    out: list[Any] = []
    for path in _paths(b):
        real = ctx.machine.fs.real(path)
        if not real.exists():
            out.append(_record(ctx, not_found(path)))
            continue
        target = _destination(ctx, real, str(b.get("Destination", ".")))
        if real.is_dir():
            if b.has("Recurse"):
                shutil.copytree(real, target, dirs_exist_ok=True)
            else:
                target.mkdir(exist_ok=True)
        else:
            if not target.parent.is_dir():
                out.append(
                    _record(
                        ctx,
                        _no_part(ctx.machine.fs.windows(target.parent), "CopyFileInfoItemIOError"),
                    )
                )
                continue
            shutil.copyfile(real, target)
        if b.has("PassThru"):
            out.append(item_object(ctx, target))
    return out


def move_item(ctx: Context, b: Bound) -> list[Any]:
    out: list[Any] = []
    for path in _paths(b):
        real = ctx.machine.fs.real(path)
        if not real.exists():
            out.append(_record(ctx, not_found(path)))
            continue
        target = _destination(ctx, real, str(b.get("Destination", ".")))
        if target.exists() and not b.has("Force"):
            out.append(
                ctx.record(
                    "MoveFileInfoItemIOError",
                    "Cannot create a file when that file already exists.",
                    "WriteError",
                    path,
                )
            )
            continue
        real.replace(target)
        if b.has("PassThru"):
            out.append(item_object(ctx, target))
    return out


def _encode(values: list[Any], encoding: str, newline: bool) -> bytes:
    if encoding == "byte":
        return bytes(_byte(v) for v in _flat(values))
    codec, bom = _ENCODINGS[encoding]
    separator = "\r\n" if newline else ""
    text = "".join(str(v) + separator for v in _flat(values))
    return bom + text.encode(codec, errors="replace")


def _byte(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= 255:
        raise LabFailure(
            "InvalidArgument",
            f'Cannot convert value "{value}" to type "System.Byte". Error: "Input string was not '
            'in a correct format."',
            "InvalidArgument",
            str(value),
        )
    return number


def _flat(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if isinstance(v, bytes | bytearray):
            out += list(v)
        elif isinstance(v, list | tuple):
            out += _flat(list(v))
        else:
            out.append(v)
    return out


def _decode(data: bytes, encoding: str) -> str:
    if encoding != "default":
        codec, bom = _ENCODINGS[encoding]
        return data.removeprefix(bom).decode(codec, errors="replace")
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    return data.decode("cp1252", errors="replace")


def _write(ctx: Context, b: Bound, append: bool) -> list[Any]:
    encoding = str(b.get("Encoding", "Default")).lower()
    data = _encode(list(b.get("Value") or []), encoding, not b.has("NoNewline"))
    out: list[Any] = []
    for path in _paths(b):
        real = ctx.machine.fs.real(path)
        if not real.parent.is_dir():
            failure = _no_part(
                ctx.machine.fs.normalize(path), "GetContentWriterDirectoryNotFoundError"
            )
            out.append(_record(ctx, failure))
            continue
        if append and real.exists() and encoding not in ("byte", "default"):
            data = data.removeprefix(_ENCODINGS[encoding][1])  # one BOM, at the start
        with real.open("ab" if append else "wb") as f:
            f.write(data)
        if b.has("PassThru"):
            out += list(b.get("Value") or [])
    return out


def set_content(ctx: Context, b: Bound) -> list[Any]:
    return _write(ctx, b, append=False)


def add_content(ctx: Context, b: Bound) -> list[Any]:
    return _write(ctx, b, append=True)


def get_content(ctx: Context, b: Bound) -> list[Any]:
    encoding = str(b.get("Encoding", "Default")).lower()
    out: list[Any] = []
    for path in _paths(b):
        real = ctx.machine.fs.real(path)
        if not real.is_file():
            out.append(_record(ctx, not_found(path)))
            continue
        data = real.read_bytes()
        read_count = int(b.get("ReadCount", 1))
        if encoding == "byte":
            # -Raw or -ReadCount 0: the whole content as one byte[] (PSRP sends it as <BA>).
            if b.has("Raw") or read_count <= 0:
                out.append(data)
            else:
                out += _batches(list(data), read_count)
            continue
        text = _decode(data, encoding)
        if b.has("Raw"):
            out.append(text)
            continue
        lines = text.replace("\r\n", "\n").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if b.has("TotalCount"):
            lines = lines[: int(b.get("TotalCount"))]
        if b.has("Tail"):
            lines = lines[-int(b.get("Tail")) :] if int(b.get("Tail")) else []
        out += [lines] if read_count <= 0 else _batches(lines, read_count)
    return out


def _batches(items: list[Any], read_count: int) -> list[Any]:
    """-ReadCount N: items in arrays of N; 1 (the default) writes each item on its own."""
    if read_count == 1:
        return items
    return [items[i : i + read_count] for i in range(0, len(items), read_count)]


def get_file_hash(ctx: Context, b: Bound) -> list[Any]:
    algorithm = str(b.get("Algorithm", "SHA256")).upper()
    names = {"SHA1": "sha1", "SHA256": "sha256", "SHA384": "sha384", "SHA512": "sha512"}
    names["MD5"] = "md5"
    out: list[Any] = []
    for path in _paths(b):
        real = ctx.machine.fs.real(path)
        if not real.is_file():
            out.append(_record(ctx, not_found(path)))
            continue
        if algorithm not in names:
            raise ctx.fail(
                "AlgorithmNotSupported",
                f"The hash algorithm {algorithm} is not emulated by the lab.",
                "NotImplemented",
            )
        digest = hashlib.new(names[algorithm], real.read_bytes()).hexdigest().upper()
        out.append(
            LabObject(
                "FileHash", Algorithm=algorithm, Hash=digest, Path=ctx.machine.fs.normalize(path)
            )
        )
    return out


def register(m: MachineBase) -> None:
    for name, handler in {
        "Test-Path": test_path,
        "New-Item": new_item,
        "Get-Item": get_item,
        "Remove-Item": remove_item,
        "Copy-Item": copy_item,
        "Move-Item": move_item,
        "Set-Content": set_content,
        "Add-Content": add_content,
        "Get-Content": get_content,
        "Get-FileHash": get_file_hash,
    }.items():
        m.register(name, handler)
