"""Bind one command call to its contract the way PowerShell's parameter binder does.

Order, as in PowerShell: named arguments (exact name, alias, then unambiguous prefix), positional
arguments (by position within the sets still possible), pipeline input (ByValue, then
ByPropertyName), then the parameter set is chosen and mandatory parameters are checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aksnet.lab.backend import Parameters
from aksnet.lab.hyperv import errors
from aksnet.lab.hyperv.contracts import ALL_SETS, CmdletContract, ParameterContract
from aksnet.lab.hyperv.convert import convert

NO_INPUT: Any = object()  # marks "this call has no pipeline input"
# ByValue binding of lab objects: a parameter of type X[] takes objects whose lab type is X.
_TYPE_ALIASES = {"VMNetworkAdapterBase": "VMNetworkAdapter", "Object": "*", "PSObject": "*"}


@dataclass
class Bound:
    """The result of binding: the chosen set and every bound parameter by its canonical name."""

    contract: CmdletContract
    set_name: str
    values: dict[str, Any] = field(default_factory=dict)
    from_pipeline: str | None = None

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.values

    @property
    def error_action(self) -> str:
        return str(self.values.get("ErrorAction", "Continue"))


def resolve_name(contract: CmdletContract, given: str) -> ParameterContract:
    """The parameter a (possibly abbreviated) name means, or PowerShell's binding error."""
    key = given.lower()
    params = contract.parameters.values()
    for p in params:
        if p.name.lower() == key or key in (a.lower() for a in p.aliases):
            return p
    matches = [p for p in params if p.name.lower().startswith(key)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise errors.ambiguous_parameter(contract.error_source, given, [p.name for p in matches])
    raise errors.named_not_found(contract.error_source, given)


def _sets_of(contract: CmdletContract) -> list[str]:
    return list(contract.set_names) or [ALL_SETS]


def _narrow(contract: CmdletContract, sets: list[str], p: ParameterContract) -> list[str]:
    if p.common or ALL_SETS in p.sets:
        return sets
    left = [s for s in sets if s in p.sets]
    if not left:
        raise errors.ambiguous_set(contract.error_source)
    return left


class _Binding:
    def __init__(self, contract: CmdletContract) -> None:
        self.contract = contract
        self.source = contract.error_source
        self.sets = _sets_of(contract)
        self.values: dict[str, Any] = {}

    def bind(self, p: ParameterContract, value: Any) -> None:
        if p.name in self.values:
            raise errors.already_bound(self.source, p.name)
        if value is None and not p.switch:
            # PSRP carries "-Path $null" as a null value: allowed unless the parameter is
            # mandatory in a set still possible.
            if any(b.required for s, b in p.sets.items() if s in self.sets or s == ALL_SETS):
                raise errors.null_not_allowed(self.source, p.name)
            self.sets = _narrow(self.contract, self.sets, p)
            self.values[p.name] = None
            return
        converted = convert(self.source, p, value)
        self.sets = _narrow(self.contract, self.sets, p)
        if p.switch and converted is False:
            return  # -Switch:$false is the same as leaving it out
        self.values[p.name] = converted

    def named(self, parameters: Parameters) -> list[Any]:
        positional: list[Any] = []
        for name, value in parameters:
            if name is None:
                positional.append(value)
                continue
            p = resolve_name(self.contract, name.lstrip("-"))
            self.bind(p, value)
        return positional

    def _position_of(self, p: ParameterContract) -> int | None:
        positions = [p.sets[s].position for s in self.sets if s in p.sets or ALL_SETS in p.sets]
        if ALL_SETS in p.sets:
            positions.append(p.sets[ALL_SETS].position)
        found = [x for x in positions if x is not None]
        return min(found) if found else None

    def positional(self, args: list[Any]) -> None:
        for value in args:
            free = [
                (pos, self._rank(p), p)
                for p in self.contract.parameters.values()
                if p.name not in self.values and (pos := self._position_of(p)) is not None
            ]
            if not free:
                raise errors.positional_not_found(self.source, value)
            position = min(t[0] for t in free)
            here = sorted((t for t in free if t[0] == position), key=lambda t: t[1])
            # Like PowerShell, skip a parameter at this position whose type cannot take the value
            # (Start-Service kubelet: not -InputObject <ServiceController[]>, but -Name).
            fitting = [t for t in here if _accepts(t[2], value)] or here
            self.bind(fitting[0][2], value)

    def _rank(self, p: ParameterContract) -> tuple[int, int]:
        """Tie-break for parameters claiming one position: the default set first, then the
        SYNTAX order of the set."""
        ranks = []
        for s in self.sets:
            order = self.contract.positional_order.get(s, ())
            if p.name in order:
                ranks.append((0 if s == self.contract.default_set else 1, order.index(p.name)))
        return min(ranks, default=(2, 0))

    def pipeline(self, item: Any) -> str | None:
        """The parameter the input object bound to: the first ByValue match, else every
        ByPropertyName match (the first is reported)."""
        unbound = [p for p in self.contract.parameters.values() if p.name not in self.values]
        for p in unbound:
            if self._takes_pipeline(p, by_value=True):
                value = _by_value(p, item)
                if value is not NO_INPUT:
                    self.bind(p, value)
                    return p.name
        first = None
        for p in unbound:
            if self._takes_pipeline(p, by_value=False):
                value = _by_property(p, item)
                if value is not NO_INPUT:
                    self.bind(p, value)
                    first = first or p.name
        return first

    def _takes_pipeline(self, p: ParameterContract, by_value: bool) -> bool:
        return any(
            (b.by_value if by_value else b.by_property_name)
            for s, b in p.sets.items()
            if s in self.sets or s == ALL_SETS
        )

    def choose_set(self) -> str:
        complete = [s for s in self.sets if not self._missing(s)]
        default = self.contract.default_set
        for pool in (complete, self.sets):
            if len(pool) == 1:
                return pool[0]
            if default in pool:
                return str(default)
            if pool:
                raise errors.ambiguous_set(self.source)
        raise errors.ambiguous_set(self.source)

    def _missing(self, set_name: str) -> list[str]:
        return [n for n in self.contract.mandatory(set_name) if n not in self.values]


_SCALAR_TYPES = {
    "String", "Object", "PSObject", "Guid", "Version", "Uri", "Boolean", "Byte",
    "Int16", "Int32", "Int64", "UInt16", "UInt32", "UInt64", "StringCollection",
}  # fmt: skip


def _accepts(p: ParameterContract, value: Any) -> bool:
    """Whether a positional value can be converted to the parameter's type at all."""
    if isinstance(value, dict) or p.accepted_values:
        return True
    base = p.type[:-2] if p.type.endswith("[]") else p.type
    return base.rsplit(".", 1)[-1] in _SCALAR_TYPES


def _lab_type(item: Any) -> str | None:
    return getattr(item, "type_name", None)


def _by_value(p: ParameterContract, item: Any) -> Any:
    base = p.type[:-2] if p.type.endswith("[]") else p.type
    short = _TYPE_ALIASES.get(base.rsplit(".", 1)[-1], base.rsplit(".", 1)[-1])
    if short == "*":
        return item
    if short == "String":
        return item if isinstance(item, str | int) and not isinstance(item, bool) else NO_INPUT
    return item if _lab_type(item) == short else NO_INPUT


def _by_property(p: ParameterContract, item: Any) -> Any:
    if not isinstance(item, dict):
        return NO_INPUT
    keys = {k.lower(): k for k in item}
    for name in (p.name, *p.aliases):
        if name.lower() in keys:
            return item[keys[name.lower()]]
    return NO_INPUT


def bind(contract: CmdletContract, parameters: Parameters, item: Any = NO_INPUT) -> Bound:
    """Bind a call (and one pipeline input object, if any); raise PSError as PowerShell would."""
    b = _Binding(contract)
    b.positional(b.named(parameters))
    from_pipeline = None
    if item is not NO_INPUT:
        from_pipeline = b.pipeline(item)
        if from_pipeline is None:
            raise errors.input_not_bound(contract.error_source, item)
    set_name = b.choose_set()
    missing = b._missing(set_name)
    if missing:
        raise errors.missing_mandatory(contract.error_source, missing)
    return Bound(contract, set_name, b.values, from_pipeline)
