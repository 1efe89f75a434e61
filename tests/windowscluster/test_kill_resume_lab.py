"""kill -9 of `aksnet cluster new` with a Windows worker, then a resume that converges (root).

The child is the real CLI on the same lab and store; the parent watches the store's journal and
sends SIGKILL right after the Windows node's kubeadm.exe join is journaled done, or while its
HNS pod network is being created. The in-process resume takes the dead child's lease over and
converges: every VM exists once, the Windows node joined exactly once (the emulated
kubeadm.exe's call log), it has one pod network, and a further apply performs zero actions.
"""

from __future__ import annotations

import pytest

from aksnet import api
from aksnet.cluster.create import CreateOptions
from tests.clichild import kill_when_journaled
from tests.labcluster import Fabric

NAME = "ckwin"
WINDOWS = f"{NAME}-{NAME}-windows-0"
OPTIONS = CreateOptions(ssh_timeout=60.0, winrm_timeout=60.0, network_timeout=30.0)
POINTS = {
    "after-join": "action LIKE 'kubeadm.exe join %' AND status = 'done'",
    "pod-network": "action LIKE 'New-HnsNetwork flannel.4096 %' AND status = 'started'",
}


def kill_at(fabric: Fabric, condition: str) -> None:
    args = ["cluster", "new", "--vnet", "provnet", "--name", NAME]
    args += ["--primary-network-plugin", "flannel", "--linux-node-count", "1"]
    kill_when_journaled(fabric, [*args, "--windows-node-count", "1"], condition)


@pytest.mark.parametrize("point", sorted(POINTS))
def test_killed_during_the_windows_phases_a_resume_converges(fabric: Fabric, point: str) -> None:
    kill_at(fabric, POINTS[point])
    spec = api.new_cluster_spec(
        name=NAME,
        vnet="provnet",
        primary_network_plugin="flannel",
        linux_node_count=1,
        windows_node_count=1,
    )
    resumed = api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    assert resumed.run.resumed
    assert api.get_cluster(fabric.store, NAME).to_dict()["ProvisioningState"] == "Provisioned"

    on_hosts = fabric.vms_on_hosts()
    vms = sorted([f"{NAME}-cp-0", f"{NAME}-{NAME}-linux-0", f"{NAME}-lb-0", WINDOWS])
    assert sorted(on_hosts["hci1"] + on_hosts["hci2"]) == vms  # each VM once
    assert fabric.lab.windows_vms is not None
    node = fabric.lab.windows_vms.node(WINDOWS)
    assert node is not None
    joins = [c for c in node.kubeadm_calls if c["outcome"] == "accepted"]
    assert len(joins) == 1  # joined exactly once
    assert [n.name for n in node.networks].count("flannel.4096") == 1

    again = api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    assert again.run.changes == []
