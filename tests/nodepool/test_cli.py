"""`aksnet nodepool new|get|set|remove`, `aksnet cluster set` and `aksnet cluster credential`:
flags, --json, human output and exit codes, on a store without hosts (the lab tests drive the
changes themselves)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aksnet import api
from aksnet.cli import main
from aksnet.state.store import Store
from tests.cluster.test_refusals import add_network


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "aksnet.db"
    with Store(path) as store:
        add_network(store, "net1", static=True)
        spec = api.new_cluster_spec(name="c1", vnet="net1", node_pool_name="linux", node_count=2)
        store.add_cluster(spec, state="provisioned")
        store.allocate_each(
            "net1", "node", owner_kind="vm", owners=["c1-cp-0", "c1-linux-0"], cluster="c1"
        )
    return path


def test_nodepool_get_as_json_and_as_a_table(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["nodepool", "get", "--store", str(store_path), "--cluster-name", "c1"]
    assert main([*argv, "--json"]) == 0
    [pool] = json.loads(capsys.readouterr().out)
    assert (pool["NodePoolName"], pool["NodeCount"], pool["Phase"]) == ("linux", 2, "Scaling")
    assert pool["Nodes"][0] == {"Name": "c1-linux-0", "Address": "198.19.250.11", "Mac": None}
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "NodePoolName" in table and "c1-linux-0" in table and "198.19.250.11" in table


def test_unknown_cluster_or_pool_exits_3(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["nodepool", "get", "--store", str(store_path)]
    assert main([*argv, "--cluster-name", "c9"]) == 3
    assert "'c9'" in capsys.readouterr().err
    assert main([*argv, "--cluster-name", "c1", "--name", "nopool"]) == 3
    assert "'nopool'" in capsys.readouterr().err
    credential = ["cluster", "credential", "--store", str(store_path), "--name", "c9"]
    assert main(credential) == 3


def test_changes_look_for_the_lab_and_change_nothing_without_it(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--store", str(store_path), "--lab-dir", str(tmp_path / "nolab")]
    for argv in (
        ["nodepool", "set", *common, "--cluster-name", "c1", "--name", "linux", "--count", "3"],
        ["nodepool", "new", *common, "--cluster-name", "c1", "--name", "extra"],
        ["nodepool", "remove", *common, "--cluster-name", "c1", "--name", "linux"],
        ["cluster", "set", *common, "--name", "c1", "--control-plane-node-count", "3"],
    ):
        assert main(argv) == 3, argv
        assert "no lab is running" in capsys.readouterr().err
    with Store(store_path) as store:
        spec = store.get_cluster("c1")
    assert spec.control_plane_node_count == 1 and [p.count for p in spec.node_pools] == [2]


def test_required_flags_are_the_kebab_case_akshci_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["nodepool", "set", "--name", "linux", "--count", "2"])
    assert exited.value.code == 2
    assert "--cluster-name" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["cluster", "set", "--name", "c1"])
    assert "--control-plane-node-count" in capsys.readouterr().err
