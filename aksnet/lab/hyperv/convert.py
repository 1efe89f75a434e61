"""Argument type conversion the way the PowerShell binder does it, for the types the lab meets."""

from __future__ import annotations

from typing import Any

from aksnet.lab.backend import PSError
from aksnet.lab.hyperv import errors
from aksnet.lab.hyperv.contracts import ParameterContract

_INT_RANGES = {
    "System.Int16": (-(2**15), 2**15 - 1, "an Int16"),
    "System.Int32": (-(2**31), 2**31 - 1, "an Int32"),
    "System.Int64": (-(2**63), 2**63 - 1, "an Int64"),
    "System.UInt16": (0, 2**16 - 1, "a UInt16"),
    "System.UInt32": (0, 2**32 - 1, "a UInt32"),
    "System.UInt64": (0, 2**64 - 1, "a UInt64"),
    "System.Byte": (0, 255, "an unsigned byte"),
}
_SHORT = {"Int16", "Int32", "Int64", "UInt16", "UInt32", "UInt64", "Byte", "String", "Boolean"}
_STRINGS = {"System.String", "System.Guid", "System.Version", "System.Uri"}


def full_type(type_name: str) -> str:
    """System.X for the short names some docs use (Int64, String[])."""
    base = type_name[:-2] if type_name.endswith("[]") else type_name
    if base in _SHORT:
        return f"System.{type_name}"
    return type_name


def _to_int(source: str, p: ParameterContract, value: Any, type_name: str) -> int:
    low, high, article = _INT_RANGES[type_name]
    try:
        if isinstance(value, bool):
            number = int(value)
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str):
            number = int(value.strip(), 0x10 if value.strip().lower().startswith("0x") else 10)
        else:
            raise ValueError
    except ValueError:
        raise errors.cannot_convert(
            source, p.name, value, type_name, "Input string was not in a correct format."
        ) from None
    if not low <= number <= high:
        why = f"Value was either too large or too small for {article}."
        raise errors.cannot_convert(source, p.name, value, type_name, why)
    return number


def _to_bool(source: str, p: ParameterContract, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    raise errors.boolean_only(source, p.name, value)


def _to_enum(source: str, p: ParameterContract, value: Any, type_name: str) -> str:
    text = str(value)
    for allowed in p.accepted_values:
        if allowed.lower() == text.lower():
            return allowed
    why = (
        f"Unable to match the identifier name {text} to a valid enumerator name. Specify one of "
        f"the following enumerator names and try again:\n{', '.join(p.accepted_values)}"
    )
    raise errors.cannot_convert(source, p.name, value, type_name, why)


def _validate_set(source: str, p: ParameterContract, value: Any) -> None:
    if p.accepted_values and str(value).lower() not in {v.lower() for v in p.accepted_values}:
        raise errors.validate_set(source, p.name, value, p.accepted_values)


def _scalar(source: str, p: ParameterContract, value: Any, type_name: str) -> Any:
    if type_name in _INT_RANGES:
        number = _to_int(source, p, value, type_name)
        _validate_set(source, p, number)
        return number
    if type_name == "System.Boolean":
        return _to_bool(source, p, value)
    if type_name in _STRINGS:
        text = value if isinstance(value, str) else _as_text(value)
        _validate_set(source, p, text)
        return text
    if p.accepted_values and not type_name.startswith("System."):
        return _to_enum(source, p, value, type_name)  # a module enum (OnOffState, BootDevice...)
    return value  # objects (VirtualMachine, PSCredential, hashtables) pass as they are


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dict):
        return str(value.get("Name", value))
    return str(value)


def convert(source: str, p: ParameterContract, value: Any) -> Any:
    """The value converted to the parameter's type, or the binder's PSError."""
    if p.switch:
        return True if value is None else _to_bool(source, p, value)
    type_name = full_type(p.type)
    if type_name.endswith("[]"):
        items = list(value) if isinstance(value, list | tuple) else [value]
        return [_scalar(source, p, item, type_name[:-2]) for item in items]
    scalar_type = type_name in _STRINGS or type_name in _INT_RANGES or type_name == "System.Boolean"
    if isinstance(value, list | tuple) and scalar_type:
        if len(value) != 1:
            raise errors.cannot_convert_array(source, p.name, type_name)
        value = value[0]
    return _scalar(source, p, value, type_name)


__all__ = ["PSError", "convert", "full_type"]
