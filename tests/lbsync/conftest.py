"""A store with network net1 (VIP pool 198.18.5.200-204) and cluster c1 holding the API VIP,
and an EMULATED API server on 127.0.0.1 with one control-plane node and two workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet.cluster.records import api_vip
from aksnet.model.cluster import cluster_spec
from aksnet.model.network import network_setting
from aksnet.state.store import Store
from tests.k8sapi.fixtures import running_api

__all__ = ["running_api", "store"]

API_VIP = "198.18.5.200"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "aksnet.db") as opened:
        opened.add_network(
            network_setting(
                name="net1",
                vswitch_name="sw",
                vip_pool_start="198.18.5.200",
                vip_pool_end="198.18.5.204",
            )
        )
        spec = cluster_spec(name="c1", vnet="net1")
        opened.add_cluster(spec)
        assert api_vip(opened, spec) == API_VIP
        yield opened
