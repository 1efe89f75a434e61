"""pypsrp objects -> plain values."""

from __future__ import annotations

import datetime

from pypsrp.complex_objects import GenericComplexObject

from aksnet.remote.psvalues import plain


def _object(**properties: object) -> GenericComplexObject:
    obj = GenericComplexObject()
    obj.types = ["Microsoft.HyperV.PowerShell.VirtualMachine", "System.Object"]
    obj.extended_properties = dict(properties)
    obj.to_string = "vm1"
    return obj


def test_complex_object_becomes_a_dict_of_its_properties_recursively() -> None:
    vm = _object(Name="vm1", MemoryStartup=1 << 30, Adapter=_object(SwitchName="sw"))
    vm.adapted_properties = {"State": "Running"}
    assert plain(vm) == {
        "State": "Running",
        "Name": "vm1",
        "MemoryStartup": 1 << 30,
        "Adapter": {"SwitchName": "sw"},
    }


def test_property_less_object_becomes_its_string() -> None:
    assert plain(_object()) == "vm1"


def test_containers_and_primitives() -> None:
    value = {"a": [1, "two", None, True, b"\x00\xff"], "b": (2.5,)}
    assert plain(value) == {"a": [1, "two", None, True, b"\x00\xff"], "b": [2.5]}
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    assert plain(when) == "2024-01-02T03:04:05+00:00"
