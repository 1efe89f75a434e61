"""Get/Set/Remove-AksHciCluster, the node pool commands and Get-AksHciCredential over the bridge,
without a lab: reads of the store, refusals by parameter, -WhatIf of the credential, and the
commands that reach hosts saying no lab runs (tests/nodepool drives them on a lab)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aksnet import api
from aksnet.state.store import Store
from tests.bridge.conftest import Bridge
from tests.bridge.test_bridge_commands import STATIC


@pytest.fixture
def recorded(bridge: Bridge, bridge_home: Path) -> Path:
    """A cluster c1 (1 control plane, pool 'linux' of 2) recorded in the bridge's store."""
    assert bridge("New-AksHciClusterNetwork", STATIC).exit_code == 0
    store_path = bridge_home / "home" / "aksnet.db"
    with Store(store_path) as store:
        spec = api.new_cluster_spec(name="c1", vnet="static1", node_pool_name="linux", node_count=2)
        store.add_cluster(spec, state="provisioned")
        store.allocate_each(
            "static1", "node", owner_kind="vm", owners=["c1-cp-0", "c1-linux-0"], cluster="c1"
        )
    return store_path


def test_get_cluster_and_node_pools_read_the_store(bridge: Bridge, recorded: Path) -> None:
    [cluster] = bridge("Get-AksHciCluster", {"name": "c1"}).of("result")
    assert cluster["typeName"] == "AksNet.Cluster"
    assert cluster["object"]["ProvisioningState"] == "Provisioned"
    assert bridge("Get-AksHciCluster").results[0]["Name"] == "c1"
    [pool] = bridge("Get-AksHciNodePool", {"clusterName": "c1"}).of("result")
    assert pool["typeName"] == "AksNet.NodePool"
    shown = pool["object"]
    assert (shown["ClusterName"], shown["NodePoolName"], shown["NodeCount"]) == ("c1", "linux", 2)
    assert shown["Nodes"] == [{"Name": "c1-linux-0", "Address": "198.18.1.11", "Mac": None}]


def test_unknown_pools_and_clusters_are_non_terminating_not_found(
    bridge: Bridge, recorded: Path
) -> None:
    answer = bridge("Get-AksHciNodePool", {"clusterName": "c1", "name": "nopool"})
    assert answer.exit_code == 3 and answer.error["targetObject"] == "nopool"
    assert answer.error["terminating"] is False
    missing = bridge("Get-AksHciCluster", {"name": "c9"})
    assert missing.exit_code == 3 and missing.error["targetObject"] == "c9"


def test_credential_what_if_names_the_file_and_writes_nothing(
    bridge: Bridge, recorded: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "kube"
    answer = bridge("Get-AksHciCredential", {"name": "c1", "configPath": str(folder)}, True)
    assert answer.exit_code == 0, answer.lines
    [result] = answer.of("result")
    assert result["typeName"] == "AksNet.Credential"
    assert result["object"] == {"Name": "c1", "Path": str(folder / "config"), "WhatIf": True}
    assert not folder.exists()
    unknown = bridge("Get-AksHciCredential", {"name": "c9"}, True)
    assert unknown.exit_code == 3


def test_what_aksnet_cannot_do_yet_is_refused_by_name(bridge: Bridge, recorded: Path) -> None:
    ad = bridge("Get-AksHciCredential", {"name": "c1", "adAuth": True})
    assert ad.exit_code == 1 and ad.error["category"] == "NotImplemented"
    size = bridge("Set-AksHciCluster", {"name": "c1", "controlPlaneVmSize": "Standard_A4_v2"})
    assert size.exit_code == 1 and "controlPlaneVmSize" in size.error["message"]


def test_changes_need_the_lab_and_change_nothing_without_it(bridge: Bridge, recorded: Path) -> None:
    with Store(recorded) as store:
        before = store.get_cluster("c1")
    for command, parameters in [
        ("Set-AksHciNodePool", {"clusterName": "c1", "name": "linux", "count": 3}),
        ("New-AksHciNodePool", {"clusterName": "c1", "name": "extra"}),
        ("Remove-AksHciNodePool", {"clusterName": "c1", "name": "linux"}),
        ("Set-AksHciCluster", {"name": "c1", "controlPlaneNodeCount": 3}),
        ("Remove-AksHciCluster", {"name": "c1"}),
    ]:
        answer = bridge(command, parameters)
        assert answer.exit_code != 0 and "no lab is running" in answer.error["message"], command
    with Store(recorded) as store:
        assert store.get_cluster("c1") == before
