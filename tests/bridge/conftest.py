"""Drive `python -m aksnet.bridge` exactly as the PowerShell helper does: one JSON request on
stdin, JSON lines on stdout, with a store and a configuration file in a temporary directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

LINE_TYPES = {"progress", "verbose", "warning", "information", "result", "error"}


@dataclass(frozen=True)
class Answer:
    exit_code: int
    lines: list[dict[str, Any]]
    stdout: str
    stderr: str

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["type"] == kind]

    @property
    def results(self) -> list[dict[str, Any]]:
        return [line["object"] for line in self.of("result")]

    @property
    def error(self) -> dict[str, Any]:
        errors = self.of("error")
        assert len(errors) == 1, self.lines
        return errors[0]


def bridge_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKSNET_")}
    env["AKSNET_HOME"] = str(home / "home")
    env["AKSNET_CONFIG"] = str(home / "config.json")
    return env


def run_bridge(text: str, env: dict[str, str]) -> Answer:
    done = subprocess.run(
        [sys.executable, "-m", "aksnet.bridge"],
        input=text,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    for line in lines:
        assert line["type"] in LINE_TYPES, line
    return Answer(done.returncode, lines, done.stdout, done.stderr)


Bridge = Callable[..., Answer]


@pytest.fixture
def bridge_home(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def bridge(bridge_home: Path) -> Bridge:
    """bridge(command, parameters, whatIf=False, **extra request fields) -> Answer."""
    env = bridge_env(bridge_home)

    def call(
        command: str, parameters: dict[str, Any] | None = None, what_if: bool = False, **extra: Any
    ) -> Answer:
        request = {"protocol": 1, "command": command, "parameters": parameters or {}}
        request["whatIf"] = what_if
        request.update(extra)
        return run_bridge(json.dumps(request), env)

    return call


@pytest.fixture
def raw_bridge(bridge_home: Path) -> Callable[[str], Answer]:
    env = bridge_env(bridge_home)
    return lambda text: run_bridge(text, env)
