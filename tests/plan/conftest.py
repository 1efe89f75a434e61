"""Fixtures for the engine tests: a fake fleet in a temporary directory and a store path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plan.fakehost import HOSTS, Fleet


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    return Fleet(tmp_path / "fleet.json", list(HOSTS))


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "aksnet.db"
