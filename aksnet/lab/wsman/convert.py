"""Values across PSRP: CLIXML-deserialized -> plain Python, machine output -> CLIXML."""

from __future__ import annotations

from typing import Any

from psrpcore.types import PSCustomObject, PSObject, PSSecureString


def plain(value: Any) -> Any:
    """A parameter or input value as plain Python (str, int, float, bool, bytes, list, dict).

    psrpcore hands out subclasses (PSString, PSInt32, ...); machines should not depend on them.
    SecureStrings stay PSSecureString so a machine can decrypt them deliberately.
    """
    if value is None or isinstance(value, bool | PSSecureString):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, PSObject):
        props = value.PSObject.extended_properties + value.PSObject.adapted_properties
        if props:
            return {p.name: plain(p.get_value(value)) for p in props}
        return str(value)
    return value


def to_ps(value: Any) -> Any:
    """A machine output as psrpcore serializes it: dict -> PSCustomObject, bytes -> byte[]."""
    if isinstance(value, dict):
        return PSCustomObject(**{str(k): to_ps(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return [to_ps(v) for v in value]
    if isinstance(value, bytearray):
        return bytes(value)
    return value
