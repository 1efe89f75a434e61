"""The HNS helper module aksnet ships: it parses; New-HnsNetwork has the contract's parameters."""

from __future__ import annotations

import json
from pathlib import Path

from tree_sitter import Node

from aksnet.infra.windowsnode import HELPER_MODULE
from aksnet.lab.psparse import has_error, parse

CONTRACTS = Path(__file__).resolve().parents[2] / "aksnet" / "data" / "cmdlet_contracts.json"


def _walk(node: Node) -> list[Node]:
    return [node, *(n for child in node.children for n in _walk(child))]


def _function_parameters(text: str, function: str) -> list[str]:
    for node in _walk(parse(text).root_node):
        name = node.child_by_field_name("name") or next(
            (c for c in node.children if c.type == "function_name"), None
        )
        if node.type != "function_statement" or name is None:
            continue
        if (name.text or b"").decode().lower() != function.lower():
            continue
        return [
            (c.text or b"").decode().lstrip("$")
            for p in _walk(node)
            if p.type == "script_parameter"
            for c in p.children
            if c.type == "variable"
        ]
    raise AssertionError(f"no function {function} in the module")


def test_module_parses() -> None:
    assert has_error(HELPER_MODULE.read_text()) is None


def test_new_hns_network_has_the_parameters_of_the_contract() -> None:
    contract = json.loads(CONTRACTS.read_text())["cmdlets"]["New-HnsNetwork"]
    parameters = _function_parameters(HELPER_MODULE.read_text(), "New-HnsNetwork")
    assert sorted(parameters) == sorted(contract["parameters"])


def test_parameter_reader_sees_a_missing_parameter() -> None:
    text = "function New-HnsNetwork { param([string] $Name) $Name }"
    assert _function_parameters(text, "New-HnsNetwork") == ["Name"]
