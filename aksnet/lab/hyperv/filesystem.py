"""Windows paths of an emulated machine mapped onto a real directory.

C:\\ClusterStorage\\Volume1\\x.iso lives at <root>/C/ClusterStorage/Volume1/x.iso, so ISOs and VHDs
are real files the lab's Linux runtime can read. Windows names are case-insensitive: an existing
entry is found whatever the case. A path that would leave the root is refused.
"""

from __future__ import annotations

import ntpath
import os
from pathlib import Path

DEFAULT_CWD = "C:\\Users\\Administrator\\Documents"  # where a remoting session starts


class PathOutsideRoot(ValueError):
    """A Windows path that does not stay inside the machine's directory."""

    def __init__(self, path: str, why: str) -> None:
        self.path = path
        super().__init__(f"path {path!r} is not allowed: {why}")


class WindowsFileSystem:
    """Maps drive-letter paths of one emulated machine onto ``root``."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def normalize(self, path: str) -> str:
        """The absolute Windows form: C:\\A\\b (relative paths start at the session directory)."""
        text = path.replace("/", "\\")
        if text.startswith("\\\\"):
            raise PathOutsideRoot(path, "UNC paths are not emulated")
        drive, rest = ntpath.splitdrive(text)
        if not drive:
            drive, rest = ntpath.splitdrive(ntpath.join(DEFAULT_CWD, text))
        if len(drive) != 2 or not drive[0].isalpha():
            raise PathOutsideRoot(path, "expected a drive letter such as C:\\")
        parts: list[str] = []
        for part in rest.split("\\"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    raise PathOutsideRoot(path, "'..' climbs above the drive root")
                parts.pop()
                continue
            parts.append(part)
        return drive.upper() + "\\" + "\\".join(parts)

    def real(self, path: str) -> Path:
        """The real path for a Windows path; existing entries match case-insensitively."""
        windows = self.normalize(path)
        current = self.root / windows[0]
        for part in windows[3:].split("\\") if len(windows) > 3 else []:
            current = current / _existing_case(current, part)
        resolved = Path(os.path.realpath(current))
        if resolved != self.root and self.root not in resolved.parents:
            raise PathOutsideRoot(path, "it resolves outside the machine's directory")
        return current

    def windows(self, real: Path) -> str:
        """The Windows path of a real path under the root."""
        rel = real.resolve().relative_to(self.root).parts
        return rel[0] + ":\\" + "\\".join(rel[1:])


def _existing_case(directory: Path, name: str) -> str:
    if (directory / name).exists() or not directory.is_dir():
        return name
    lower = name.lower()
    for entry in directory.iterdir():
        if entry.name.lower() == lower:
            return entry.name
    return name
