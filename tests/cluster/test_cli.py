"""`aksnet cluster new|get|remove`: flags, exit codes, --json and --what-if."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aksnet.cli import main
from aksnet.state.store import Store
from tests.cluster.test_refusals import add_network
from tests.labcluster import Fabric


def test_a_windows_pool_is_accepted_and_stops_only_at_the_missing_lab(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_path = tmp_path / "aksnet.db"
    with Store(store_path) as store:
        add_network(store, "net1", static=True)
    argv = ["cluster", "new", "--store", str(store_path), "--lab-dir", str(tmp_path / "nolab")]
    argv += ["--name", "c1", "--vnet", "net1", "--linux-node-count", "1"]
    assert main([*argv, "--windows-node-count", "1"]) == 3  # it looks for the lab
    assert "no lab is running" in capsys.readouterr().err


def test_get_of_an_unknown_cluster_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cluster", "get", "--store", str(tmp_path / "s.db"), "--name", "nope"]) == 3
    assert "nope" in capsys.readouterr().err


def test_what_if_over_the_cli_lists_the_vms_and_records_nothing(
    fabric: Fabric, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["cluster", "new", "--json", "--what-if", "--store", str(fabric.store.path)]
    argv += ["--lab-dir", str(fabric.lab.lab_dir), "--name", "cwhatif", "--vnet", "provnet"]
    argv += ["--primary-network-plugin", "flannel", "--node-pool-name", "linux"]
    assert main([*argv, "--node-count", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["WhatIf"] is True
    new_vms = sorted(a["Title"].split()[1] for a in result["Actions"] if "New-VM" in a["Title"])
    assert new_vms == ["cwhatif-cp-0", "cwhatif-lb-0", "cwhatif-linux-0", "cwhatif-linux-1"]
    assert {a["Outcome"] for a in result["Actions"]} == {"planned"}
    titles = [a["Title"] for a in result["Actions"]]
    assert "Configure the load balancer on cwhatif-lb-0 (once its VM runs)" in titles
    argv.remove("--json")
    assert main([*argv, "--node-count", "2"]) == 0
    human = capsys.readouterr().out
    assert f"What if: {len(result['Actions'])} action(s) would run; nothing was changed." in human
    assert "Configure the load balancer on cwhatif-lb-0 (once its VM runs)" in human
    assert main(["cluster", "get", "--json", "--store", str(fabric.store.path)]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert fabric.vms_on_hosts() == {"hci1": [], "hci2": []}
