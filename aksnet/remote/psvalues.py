"""pypsrp objects -> plain values: what PowerShellSession.invoke returns.

A complex object becomes a dict of its properties (adapted and extended, as PowerShell's
Select-Object would show them), a list stays a list, bytes stay bytes, primitives pass through.
A property-less object (an enum, a type pypsrp knows only by its string form) becomes its string.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from pypsrp.complex_objects import ComplexObject, GenericComplexObject

from aksnet.remote.base import PSValue

_PRIMITIVES = (str, int, float, bool, bytes, type(None))


def plain(value: Any) -> PSValue:
    """The plain Python value of one deserialized PowerShell object."""
    if isinstance(value, _PRIMITIVES):
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, dict):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, GenericComplexObject):
        return _object(value)
    if isinstance(value, datetime.datetime | uuid.UUID):
        return value.isoformat() if isinstance(value, datetime.datetime) else str(value)
    if isinstance(value, ComplexObject):
        return str(value)
    return str(value)


def _object(value: GenericComplexObject) -> PSValue:
    properties = {**value.adapted_properties, **value.extended_properties}
    if properties:
        return {str(name): plain(v) for name, v in properties.items()}
    if value.property_sets:
        return [plain(v) for v in value.property_sets]
    return value.to_string
