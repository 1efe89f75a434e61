"""Every PowerShell file the project ships parses with the tree-sitter PowerShell grammar."""

from __future__ import annotations

from pathlib import Path

import pytest

from aksnet.lab import psparse
from tests.bridge.psmodule import REPO, shipped_scripts

SCRIPTS = shipped_scripts()


def test_the_module_tests_and_install_script_are_all_found() -> None:
    found = {p.relative_to(REPO).as_posix() for p in SCRIPTS}
    assert {
        "powershell/AksNet/AksNet.psd1",
        "powershell/AksNet/AksNet.psm1",
        "powershell/AksNet/Private/Invoke-AksNetBridge.ps1",
        "powershell/AksNet/tests/AksNet.Tests.ps1",
        "scripts/install-module.ps1",
    } <= found


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_script_parses(path: Path) -> None:
    assert psparse.has_error(path.read_text(encoding="utf-8")) is None


def test_a_broken_script_is_reported() -> None:
    problem = psparse.has_error("function Broken {\n    param([string] $name\n")
    assert problem is not None and problem.line >= 1
