"""Load the cmdlet contracts the lab ships (aksnet/data/cmdlet_contracts.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parent.parent.parent / "data" / "cmdlet_contracts.json"
ALL_SETS = "__AllParameterSets"
SWITCH = "System.Management.Automation.SwitchParameter"

# Modules whose cmdlets are compiled classes, and how PowerShell names the class in an error id.
_CLASS_PREFIX = {
    "Hyper-V": ("Microsoft.HyperV.PowerShell.Commands.", ""),
    "FailoverClusters": ("Microsoft.FailoverClusters.PowerShell.", "Command"),
    "Microsoft.PowerShell.Management": ("Microsoft.PowerShell.Commands.", "Command"),
    "Microsoft.PowerShell.Utility": ("Microsoft.PowerShell.Commands.", "Command"),
    "Microsoft.PowerShell.Core": ("Microsoft.PowerShell.Commands.", "Command"),
}


@dataclass(frozen=True)
class SetBinding:
    """How one parameter takes part in one parameter set."""

    required: bool
    position: int | None
    by_value: bool
    by_property_name: bool


@dataclass(frozen=True)
class ParameterContract:
    """One parameter: its .NET type, aliases, ValidateSet values and per-set binding."""

    name: str
    type: str
    aliases: tuple[str, ...]
    accepted_values: tuple[str, ...]
    switch: bool
    sets: dict[str, SetBinding] = field(default_factory=dict)
    common: bool = False


@dataclass(frozen=True)
class CmdletContract:
    """One command: its parameter sets and parameters."""

    name: str
    kind: str
    module: str
    default_set: str | None
    set_names: tuple[str, ...]
    # Per set, the positional parameters in SYNTAX order: it breaks ties between parameters that
    # platyPS gives the same position (New-VHD -ParentPath/-SizeBytes in set Differencing).
    positional_order: dict[str, tuple[str, ...]]
    parameters: dict[str, ParameterContract]
    source: dict[str, str]

    @property
    def error_source(self) -> str:
        """The part of a FullyQualifiedErrorId after the comma, e.g. Microsoft...Commands.NewVM."""
        prefix = _CLASS_PREFIX.get(self.module) if self.kind == "cmdlet" else None
        if prefix is None:  # CDXML cmdlets and script functions are named by their command name
            return self.name
        return prefix[0] + self.name.replace("-", "") + prefix[1]

    def mandatory(self, set_name: str) -> list[str]:
        return [p.name for p in self.parameters.values() if _req(p, set_name)]


def _req(p: ParameterContract, set_name: str) -> bool:
    b = p.sets.get(set_name)
    return b is not None and b.required


def _parameter(name: str, raw: dict[str, Any], common: bool = False) -> ParameterContract:
    sets = {
        s: SetBinding(v["required"], v["position"], v["by_value"], v["by_property_name"])
        for s, v in raw.get("sets", {}).items()
    }
    return ParameterContract(
        name=name,
        type=raw["type"],
        aliases=tuple(raw["aliases"]),
        accepted_values=tuple(raw["accepted_values"]),
        switch=bool(raw["switch"]),
        sets=sets,
        common=common,
    )


def _cmdlet(name: str, raw: dict[str, Any], common: dict[str, Any]) -> CmdletContract:
    params = {n: _parameter(n, p) for n, p in raw["parameters"].items()}
    if raw["common_parameters"]:
        params.update({n: _parameter(n, p, common=True) for n, p in common.items()})
    return CmdletContract(
        name=name,
        kind=raw["kind"],
        module=raw["module"],
        default_set=raw["default_parameter_set"],
        set_names=tuple(raw["parameter_sets"]),
        positional_order={
            n: tuple(v["positional_order"]) for n, v in raw["parameter_sets"].items()
        },
        parameters=params,
        source={k: raw[k] for k in ("repo", "commit", "doc_path")},
    )


def load_contracts(path: Path = DATA_FILE) -> dict[str, CmdletContract]:
    """Every contract keyed by lower-case command name (PowerShell names are case-insensitive)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    common = raw["common_parameters"]
    return {n.lower(): _cmdlet(n, c, common) for n, c in raw["cmdlets"].items()}


@lru_cache(maxsize=1)
def default_contracts() -> dict[str, CmdletContract]:
    """The shipped contracts, loaded once (they are immutable)."""
    return load_contracts()
