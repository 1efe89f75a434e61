"""The shipped contract data agrees with the reference it is trimmed from."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from aksnet.lab.hyperv.contracts import DATA_FILE, load_contracts

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference" / "cmdlet-contracts.json"


def trim_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "trim_contracts", ROOT / "scripts" / "trim_contracts.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not REFERENCE.exists(), reason="reference JSON not present")
def test_regenerating_gives_the_shipped_file() -> None:
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    regenerated = trim_script().trim(reference)
    assert regenerated == json.loads(DATA_FILE.read_text(encoding="utf-8"))


@pytest.mark.skipif(not REFERENCE.exists(), reason="reference JSON not present")
def test_trimmed_contracts_keep_the_reference_sets() -> None:
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))["cmdlets"]
    shipped = json.loads(DATA_FILE.read_text(encoding="utf-8"))["cmdlets"]
    for name in (
        "New-VM",
        "Set-VMNetworkAdapterVlan",
        "Get-Content",
        "Add-ClusterVirtualMachineRole",
    ):
        assert shipped[name]["parameter_sets"].keys() == reference[name]["parameter_sets"].keys()
        assert shipped[name]["doc_path"] == reference[name]["doc_path"]
        for set_name, s in shipped[name]["parameter_sets"].items():
            assert s["mandatory"] == reference[name]["parameter_sets"][set_name]["mandatory"]


def test_added_contracts_cite_their_sources() -> None:
    shipped = json.loads(DATA_FILE.read_text(encoding="utf-8"))["cmdlets"]
    for name in ("Add-Content", "Get-FileHash", "Move-Item", "Import-Module", "Start-Process"):
        assert shipped[name]["repo"] == "MicrosoftDocs/PowerShell-Docs"
        assert shipped[name]["doc_path"].startswith("reference/5.1/")
        assert len(shipped[name]["commit"]) == 40
    for name in ("New-HnsNetwork", "New-HnsEndpoint"):
        assert shipped[name]["kind"] == "function"
        assert (shipped[name]["repo"], shipped[name]["doc_path"]) == (
            "microsoft/SDN",
            "Kubernetes/windows/hns.psm1",
        )
    assert shipped["Get-VM"]["kind"] == "cmdlet"


def test_every_contract_loads_with_consistent_sets() -> None:
    contracts = load_contracts()
    assert len(contracts) == 56
    for c in contracts.values():
        for p in c.parameters.values():
            assert p.common or set(p.sets) <= set(c.set_names), (c.name, p.name)
    move = contracts["move-item"]
    assert (
        move.mandatory("Path") == ["Path"]
        and move.parameters["Destination"].sets["Path"].position == 1
    )
