"""Import-Module: built-in modules by name, script modules from files that exist on the machine.

What a module adds is decided by the machine (WindowsNode makes hns.psm1's New-HnsNetwork and
New-HnsEndpoint available once "hns" is imported).
"""

from __future__ import annotations

import ntpath
from typing import TYPE_CHECKING, Any

from aksnet.lab.hyperv.binder import Bound

if TYPE_CHECKING:
    from aksnet.lab.hyperv.machine import Context, MachineBase


def _is_path(name: str) -> bool:
    return "\\" in name or "/" in name or name.lower().endswith((".psm1", ".psd1"))


def import_module(ctx: Context, b: Bound) -> list[Any]:
    machine = ctx.machine
    for name in b.get("Name") or []:
        found = name.lower() in machine.built_in_modules or (
            _is_path(name) and machine.fs.real(name).is_file()
        )
        if not found:
            raise ctx.fail(
                "Modules_ModuleNotFound",
                f"The specified module '{name}' was not loaded because no valid module file was "
                "found in any module directory.",
                "ResourceUnavailable",
                name,
            )
        module = ntpath.splitext(ntpath.basename(name.replace("/", "\\")))[0].lower()
        machine.imported_modules.add(module)  # set.add is atomic; no lock needed
    return []


def register(m: MachineBase) -> None:
    m.register("Import-Module", import_module)
