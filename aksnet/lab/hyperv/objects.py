"""The objects emulated cmdlets return: dicts with the real property names, tagged for binding."""

from __future__ import annotations

from typing import Any


class LabObject(dict[str, Any]):
    """A dict (it travels as a PSCustomObject) that remembers its .NET type for ByValue binding.

    ``type_name`` is the short type name the contracts use (VirtualMachine, VMNetworkAdapter...).
    Every lab object carries ``Lab = True``: nothing here is a real Windows object.
    """

    def __init__(self, type_name: str, **properties: Any) -> None:
        super().__init__(properties)
        self["Lab"] = True
        self.type_name = type_name


def lab_object(type_name: str, properties: dict[str, Any]) -> LabObject:
    """A LabObject from a dict of properties."""
    return LabObject(type_name, **properties)
