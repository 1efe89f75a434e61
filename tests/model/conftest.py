"""Fixtures for the model, planning and store tests: a store in a temporary directory."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aksnet.state.store import Store

STATIC: dict[str, Any] = {
    "name": "labnet",
    "vswitch_name": "LabSwitch",
    "ip_address_prefix": "198.18.0.0/24",
    "gateway": "198.18.0.1",
    "dns_servers": ["198.18.0.1"],
    "k8s_node_ip_pool_start": "198.18.0.10",
    "k8s_node_ip_pool_end": "198.18.0.36",
    "vip_pool_start": "198.18.0.200",
    "vip_pool_end": "198.18.0.204",
}


def static(**changes: Any) -> dict[str, Any]:
    return {**STATIC, **changes}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "aksnet.db") as s:
        yield s
