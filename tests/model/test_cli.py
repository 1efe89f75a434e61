"""The `aksnet` command: kebab-case flags, tables and JSON, exit codes, nothing written on error."""

import json
import sqlite3
from pathlib import Path

import pytest

from aksnet.cli import flag_for, main

NETWORK = [
    "network", "new", "--name", "labnet", "--vswitch-name", "LabSwitch",
    "--ip-address-prefix", "198.18.0.0/24", "--gateway", "198.18.0.1",
    "--dns-servers", "198.18.0.1", "198.18.0.2",
    "--k8s-node-ip-pool-start", "198.18.0.10", "--k8s-node-ip-pool-end", "198.18.0.36",
    "--vip-pool-start", "198.18.0.200", "--vip-pool-end", "198.18.0.204",
]  # fmt: skip


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AKSNET_HOME", str(tmp_path))
    return tmp_path


def rows(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def test_flags_are_the_kebab_case_of_akshci_names() -> None:
    assert flag_for("vlanID") == "--vlan-id"
    assert flag_for("k8sNodeIpPoolStart") == "--k8s-node-ip-pool-start"
    assert flag_for("primaryNetworkPlugin") == "--primary-network-plugin"


def test_network_new_get_remove(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*NETWORK, "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["DnsServers"] == ["198.18.0.1", "198.18.0.2"] and created["Model"] == "static"
    assert main(["network", "get"]) == 0
    table = capsys.readouterr().out
    assert "labnet" in table and "198.18.0.200" in table
    assert main(["network", "remove", "--name", "labnet"]) == 0
    assert main(["network", "get", "--name", "labnet"]) == 3
    assert "was not found" in capsys.readouterr().err


def test_invalid_input_exits_2_names_the_flag_and_writes_nothing(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = [*NETWORK]
    bad[bad.index("198.18.0.1")] = "198.18.0.12"  # the gateway inside the node pool
    assert main(bad) == 2
    err = capsys.readouterr().err
    assert "'gateway'" in err and "198.18.0.12" in err and "(--gateway)" in err
    assert rows(home / "aksnet.db", "networks") == 0


def test_cluster_plan_shows_the_budget_and_creates_nothing(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(NETWORK) == 0
    capsys.readouterr()
    args = ["cluster", "plan", "--name", "c1", "--vnet", "labnet", "--primary-network-plugin",
            "flannel", "--node-count", "2", "--service-port", "80", "--json"]  # fmt: skip
    assert main(args) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["NodeAddressesTotal"] == 1 + 2 + 5 + 1 and plan["VipAddressesTotal"] == 2
    assert plan["PrimaryNetworkPlugin"] == "flannel"
    assert (
        rows(home / "aksnet.db", "clusters") == 0 and rows(home / "aksnet.db", "allocations") == 0
    )


def test_cluster_plan_refusals_and_their_exit_codes(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(NETWORK) == 0
    base = ["cluster", "plan", "--name", "c1", "--vnet", "labnet"]
    assert main([*base, "--primary-network-plugin", "flannel", "--network-policies"]) == 2
    assert "use -primaryNetworkPlugin calico" in capsys.readouterr().err
    assert main([*base, "--linux-node-count", "30"]) == 5
    assert "37 needed, 27 free" in capsys.readouterr().err
    assert main(["cluster", "plan", "--name", "c-1", "--vnet", "labnet"]) == 2
    assert main(["cluster", "plan", "--name", "c1", "--vnet", "missing"]) == 3


def test_plugin_list_and_show(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugin", "list"]) == 0
    out = capsys.readouterr().out
    assert "calicoctl" in out and "VNI 4096 UDP 4789" in out
    assert main(["plugin", "show", "flannel", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["windows"]["hns_network_name"] == "flannel.4096"
    assert main(["vmsize", "--json"]) == 0
    sizes = {s["VmSize"]: s for s in json.loads(capsys.readouterr().out)}
    assert sizes["Standard_A4_v2"] == {"VmSize": "Standard_A4_v2", "CPU": 4, "MemoryGB": 8}


def test_the_module_entry_point_lists_every_command_group() -> None:
    """`python -m aksnet.cli` (what tests and scripts start as a child) defines everything before
    it runs: a group appended after the __main__ guard would fail only there, with a NameError."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "aksnet.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for group in ("network", "cluster", "nodepool", "loadbalancer", "remediation", "lab"):
        assert group in done.stdout
