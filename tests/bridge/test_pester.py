"""Opt-in: the module's own Pester tests, run with pwsh when pwsh (and Pester 5) is on PATH.

Skipped, with the reason in the report (pytest -rs), on machines without PowerShell.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bridge.conftest import bridge_env
from tests.bridge.psmodule import MODULE

PWSH = shutil.which("pwsh")

pytestmark = pytest.mark.skipif(PWSH is None, reason="pwsh is not on PATH: Pester tests not run")

RUN_PESTER = """
$ErrorActionPreference = 'Stop'
Import-Module Pester -MinimumVersion 5.0
$result = Invoke-Pester -Path '{path}' -PassThru -Output Detailed
exit $result.FailedCount + $result.FailedBlocksCount
"""


def test_pester_suite(tmp_path: Path) -> None:
    assert PWSH is not None
    have_pester = subprocess.run(
        [PWSH, "-NoProfile", "-Command", "if (Get-Module -ListAvailable Pester | "
         "Where-Object Version -ge 5.0) { exit 0 } else { exit 1 }"],
        capture_output=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    if have_pester.returncode != 0:
        pytest.skip("pwsh is on PATH but Pester 5 is not installed")
    env = {**bridge_env(tmp_path), "AKSNET_PYTHON": sys.executable}
    command = RUN_PESTER.format(path=MODULE / "tests")
    done = subprocess.run(
        [PWSH, "-NoProfile", "-NonInteractive", "-Command", command],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
