"""kill -9 of `aksnet cluster new` during Linux node setup, then a resume that converges (root).

The child is the real CLI on the same lab and store. The parent watches the store's journal and
sends SIGKILL as soon as node setup has started on some node, then creates again in process:
the operation resumes, every VM exists once, each node was initialised or joined exactly once,
and the store holds exactly the cluster's addresses and MACs.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from aksnet import api
from aksnet.cluster.create import CreateOptions
from aksnet.cluster.keys import ClusterKeys
from aksnet.remote.known_hosts import KnownHosts
from aksnet.state.macs import macs_of
from tests.cluster.conftest import Fabric, k8s_calls

REPO = Path(__file__).resolve().parents[2]
NAME = "ckilled"
SPEC_FLAGS = ["--name", NAME, "--primary-network-plugin", "flannel", "--node-pool-name", "linux"]


def setup_started(store_path: Path) -> bool:
    """Whether the journal shows a node-setup action (the /etc/hosts write) under way."""
    with sqlite3.connect(f"file:{store_path}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT 1 FROM journal WHERE action LIKE 'write the cluster nodes into /etc/hosts%'"
        ).fetchall()
    return bool(rows)


def test_a_killed_create_resumes_and_converges(fabric: Fabric) -> None:
    store_path = fabric.store.path
    argv = [sys.executable, "-m", "aksnet.cli", "cluster", "new", "--store", str(store_path)]
    argv += ["--lab-dir", str(fabric.lab.lab_dir), "--vnet", "provnet", *SPEC_FLAGS]
    child = subprocess.Popen(
        [*argv, "--node-count", "2"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=(fabric.tmp / "child.err").open("wb"),
    )
    try:
        deadline = time.monotonic() + 120
        while not setup_started(store_path):
            assert child.poll() is None, (fabric.tmp / "child.err").read_text()
            assert time.monotonic() < deadline, "node setup never started"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert api.get_cluster(fabric.store, NAME).provisioning_state == "Creating"

    spec = api.new_cluster_spec(
        name=NAME, vnet="provnet", primary_network_plugin="flannel",
        node_pool_name="linux", node_count=2,
    )  # fmt: skip
    resumed = api.new_cluster(fabric.store, spec, fabric.hosts, options=CreateOptions())
    assert resumed.run.resumed
    assert not [r for r in resumed.run.changes if r.title.startswith("New-VM")]
    vms = [f"{NAME}-cp-0", f"{NAME}-linux-0", f"{NAME}-linux-1"]
    on_hosts = fabric.vms_on_hosts()
    assert sorted(on_hosts["hci1"] + on_hosts["hci2"]) == vms  # each VM once
    view = api.get_cluster(fabric.store, NAME).to_dict()
    assert view["ProvisioningState"] == "Provisioned"
    assert len(fabric.store.allocations()) == 4 and len(macs_of(fabric.store)) == 3

    keys = ClusterKeys.beside(store_path, NAME)
    for node in view["Nodes"]:
        known = KnownHosts(fabric.tmp / f"known_{node['Name']}")
        known.pin(node["Address"], 22, keys.host_key(node["Name"]).public_line)
        with fabric.ssh(NAME, node["Address"], known) as ssh:
            kubeadm = [c for c in k8s_calls(ssh) if c["tool"] == "kubeadm"]
        verb = "init" if node["Name"].endswith("-cp-0") else "join"
        assert [(c["args"][0], c["outcome"]) for c in kubeadm] == [(verb, "accepted")]

    api.remove_cluster(fabric.store, NAME, fabric.hosts)
    assert fabric.vms_on_hosts() == {"hci1": [], "hci2": []}
