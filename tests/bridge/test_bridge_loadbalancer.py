"""Sync-AksHciLoadBalancer over the bridge, without a lab: what it refuses before reaching any
host (tests/lbservices drives the sync itself on the lab)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aksnet import api
from aksnet.state.store import Store
from tests.bridge.conftest import Bridge
from tests.bridge.test_bridge_commands import STATIC


@pytest.fixture
def recorded(bridge: Bridge, bridge_home: Path) -> Path:
    """A cluster c1 recorded in the bridge's store, none of its VMs with an address yet."""
    assert bridge("New-AksHciClusterNetwork", STATIC).exit_code == 0
    store_path = bridge_home / "home" / "aksnet.db"
    with Store(store_path) as store:
        store.add_cluster(api.new_cluster_spec(name="c1", vnet="static1"), state="provisioned")
    return store_path


def test_an_unknown_cluster_is_not_found(bridge: Bridge, recorded: Path) -> None:
    answer = bridge("Sync-AksHciLoadBalancer", {"name": "c9"})
    assert answer.exit_code == 3
    assert answer.error["category"] == "ObjectNotFound"
    assert answer.error["targetObject"] == "c9"
    assert answer.of("result") == []


def test_watch_with_what_if_is_refused_by_parameter(bridge: Bridge, recorded: Path) -> None:
    answer = bridge("Sync-AksHciLoadBalancer", {"name": "c1", "watch": True}, True)
    assert answer.exit_code == 2
    assert answer.error["errorId"] == "InvalidParameterValue"
    assert answer.error["targetObject"] == "watch"


def test_a_cluster_without_a_control_plane_address_is_a_state_conflict(
    bridge: Bridge, recorded: Path
) -> None:
    answer = bridge("Sync-AksHciLoadBalancer", {"name": "c1"})
    assert answer.exit_code == 4, answer.lines
    assert "No address is known for c1-cp-0" in answer.error["message"]
    assert answer.error["terminating"] is True


def test_an_unknown_parameter_is_a_bad_request(bridge: Bridge, recorded: Path) -> None:
    answer = bridge("Sync-AksHciLoadBalancer", {"name": "c1", "interval": 5})
    assert answer.exit_code == 64
    assert answer.error["errorId"] == "UnknownParameter"
