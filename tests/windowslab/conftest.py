"""Fixtures: a one-host lab in the test slots (198.19.0.0/16), torn down also on failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet.lab.fabric import Lab, LabSpec
from aksnet.lab.linux import sweep
from aksnet.remote.psrp import PSRPSession
from tests.lab import vms
from tests.linuxlab.conftest import TEST_SLOTS, _needs_root


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    _needs_root()
    lab_dir = tmp_path / "lab"
    started = Lab(lab_dir, LabSpec(hosts=1), prefix="akw", slots=TEST_SLOTS)
    try:
        yield started.start()
    finally:
        started.stop()
        sweep(lab_dir)


@pytest.fixture
def host(lab: Lab) -> Iterator[PSRPSession]:
    session = vms.psrp_session(lab.endpoints()["hci1"], *lab.credentials())
    try:
        yield session
    finally:
        session.close()
