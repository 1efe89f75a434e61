"""Reading the AksNet PowerShell module from tree-sitter parse trees (aksnet.lab.psparse).

Gives the tests what PowerShell itself would bind: each public function's param block (names,
types, Mandatory, validation attributes), the bridge command it invokes, and the manifest's
FunctionsToExport, without running PowerShell.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tree_sitter import Node

from aksnet.lab import psparse

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "powershell" / "AksNet"
HELPER = "Invoke-AksNetBridge"


@dataclass(frozen=True)
class Attribute:
    name: str
    arguments: tuple[str, ...]  # argument texts, quotes removed


@dataclass(frozen=True)
class ScriptParameter:
    name: str
    type_name: str | None
    attributes: tuple[Attribute, ...]

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name.lower() == name.lower()), None)

    @property
    def mandatory(self) -> bool:
        parameter = self.attribute("Parameter")
        return parameter is not None and any(
            a.lower().startswith("mandatory") for a in parameter.arguments
        )


@dataclass(frozen=True)
class PsFunction:
    name: str
    cmdlet_binding: Attribute | None
    parameters: dict[str, ScriptParameter]
    bridge_calls: list[dict[str, str]] = field(default_factory=list)
    help_text: str = ""


def walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from walk(child)


def text(node: Node | None) -> str:
    return (node.text or b"").decode("utf-8") if node is not None else ""


def unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def shipped_scripts() -> list[Path]:
    """Every PowerShell file in the checkout (hidden folders such as .venv and .git excluded)."""
    found = []
    for suffix in ("ps1", "psm1", "psd1"):
        for path in REPO.rglob(f"*.{suffix}"):
            if not any(part.startswith(".") for part in path.relative_to(REPO).parts):
                found.append(path)
    return sorted(found)


def _attribute(node: Node) -> Attribute:
    name_node = next((c for c in node.children if c.type == "attribute_name"), None)
    if name_node is None:  # a type literal: [string]
        return Attribute(text(node).strip("[]"), ())
    arguments = [unquote(text(a)) for a in walk(node) if a.type == "attribute_argument"]
    return Attribute(text(name_node), tuple(arguments))


def _script_parameter(node: Node) -> ScriptParameter:
    variable = next(c for c in node.children if c.type == "variable")
    attributes: list[Attribute] = []
    type_name = None
    for attr in (n for n in walk(node) if n.type == "attribute"):
        literal = next((c for c in attr.children if c.type == "type_literal"), None)
        if literal is not None:
            type_name = text(literal).strip("[]")
        else:
            attributes.append(_attribute(attr))
    return ScriptParameter(text(variable).lstrip("$"), type_name, tuple(attributes))


def _bridge_call(command: Node) -> dict[str, str]:
    """-Name value pairs of one Invoke-AksNetBridge call (switches map to "")."""
    elements = [
        c for c in walk(command) if c.type in ("command_parameter", "array_literal_expression")
    ]
    call: dict[str, str] = {}
    current = None
    for element in elements:
        if element.type == "command_parameter":
            current = text(element).lstrip("-")
            call[current] = ""
        elif current is not None and element.parent is not None:
            call[current] = unquote(text(element))
            current = None
    return call


def read_function(path: Path) -> PsFunction:
    root = psparse.parse(path.read_text(encoding="utf-8")).root_node
    function = next(n for n in walk(root) if n.type == "function_statement")
    name = text(function.child_by_field_name("function_name")) or text(
        next(c for c in function.children if c.type == "function_name")
    )
    param_block = next((n for n in walk(function) if n.type == "param_block"), None)
    binding = None
    parameters: dict[str, ScriptParameter] = {}
    if param_block is not None:
        for attr in param_block.children:
            if attr.type == "attribute_list":
                for a in attr.children:
                    if a.type == "attribute" and "CmdletBinding" in text(a):
                        binding = _attribute(a)
        for node in walk(param_block):
            if node.type == "script_parameter":
                parameter = _script_parameter(node)
                parameters[parameter.name] = parameter
    calls = [
        _bridge_call(n)
        for n in walk(function)
        if n.type == "command" and text(n.child_by_field_name("command_name")) == HELPER
    ]
    comments = " ".join(text(n) for n in walk(function) if n.type == "comment")
    return PsFunction(name, binding, parameters, calls, comments)


def public_functions() -> dict[str, PsFunction]:
    functions = [read_function(p) for p in sorted((MODULE / "Public").glob("*.ps1"))]
    return {f.name: f for f in functions}


def manifest_exports(path: Path = MODULE / "AksNet.psd1") -> list[str]:
    """FunctionsToExport of the manifest, read from its hash literal."""
    root = psparse.parse(path.read_text(encoding="utf-8")).root_node
    for entry in (n for n in walk(root) if n.type == "hash_entry"):
        key = next(c for c in entry.children if c.type == "key_expression")
        if text(key) == "FunctionsToExport":
            return [unquote(text(s)) for s in walk(entry) if s.type == "string_literal"]
    return []


def manifest_value(key: str, path: Path = MODULE / "AksNet.psd1") -> list[str]:
    """The string literals of one top-level manifest entry (nested entries included)."""
    root = psparse.parse(path.read_text(encoding="utf-8")).root_node
    for entry in (n for n in walk(root) if n.type == "hash_entry"):
        found = next(c for c in entry.children if c.type == "key_expression")
        if text(found) == key:
            return [unquote(text(s)) for s in walk(entry) if s.type == "string_literal"]
    return []
