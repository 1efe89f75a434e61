"""The PowerShell bridge's node pool commands and Get-AksHciCredential on the lab (needs root):
the same requests the AksNet module sends, answered by `python -m aksnet.bridge` in a child
process that finds the store through AKSNET_HOME and the hosts through AKSNET_LAB_DIR."""

from __future__ import annotations

import json
import os
import stat
from typing import Any

from aksnet import api
from aksnet.cluster.create import CreateOptions
from tests.bridge.conftest import Answer, bridge_env, run_bridge
from tests.labcluster import Fabric
from tests.nodepool.test_scale_lab import all_vms


def call(fabric: Fabric, command: str, parameters: dict[str, Any], what_if: bool = False) -> Answer:
    env = bridge_env(fabric.tmp)  # AKSNET_HOME = <tmp>/home, where the fabric's store is
    env["AKSNET_LAB_DIR"] = str(fabric.lab.lab_dir)
    request = {"protocol": 1, "command": command, "parameters": parameters, "whatIf": what_if}
    return run_bridge(json.dumps(request), env)


def test_scale_a_pool_and_fetch_the_credential_over_the_bridge(fabric: Fabric) -> None:
    assert fabric.store.path == fabric.tmp / "home" / "aksnet.db"
    spec = api.new_cluster_spec(
        name="cb",
        vnet="provnet",
        primary_network_plugin="flannel",
        node_pool_name="linux",
        node_count=1,
    )
    api.new_cluster(fabric.store, spec, fabric.hosts, options=CreateOptions(ssh_timeout=60.0))
    scale = {"clusterName": "cb", "name": "linux", "count": 2}

    planned = call(fabric, "Set-AksHciNodePool", scale, what_if=True)
    assert planned.exit_code == 0, planned.lines
    [result] = planned.of("result")
    assert result["typeName"] == "AksNet.RunResult" and result["object"]["WhatIf"] is True
    assert all_vms(fabric) == ["cb-cp-0", "cb-linux-0"]

    done = call(fabric, "Set-AksHciNodePool", scale)
    assert done.exit_code == 0, done.lines
    assert all_vms(fabric) == ["cb-cp-0", "cb-linux-0", "cb-linux-1"]
    [pool] = call(fabric, "Get-AksHciNodePool", {"clusterName": "cb"}).results
    assert pool["NodeCount"] == 2 and [n["Name"] for n in pool["Nodes"]] == [
        "cb-linux-0",
        "cb-linux-1",
    ]

    folder = fabric.tmp / "kube"
    folder.mkdir()
    (folder / "config").write_text("apiVersion: v1\nkind: Config\n")  # replaced, as AksHci does
    got = call(fabric, "Get-AksHciCredential", {"name": "cb", "configPath": str(folder)})
    assert got.exit_code == 0, got.lines
    [credential] = got.results
    content = (folder / "config").read_text()
    vip = api.get_cluster(fabric.store, "cb").to_dict()["ApiServerVip"]
    assert credential["Server"] == f"https://{vip}:6443" and f"{vip}:6443" in content
    assert stat.S_IMODE(os.stat(folder / "config").st_mode) == 0o600
    assert content not in got.stdout + got.stderr
