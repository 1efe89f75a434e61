"""A Windows node pool added to a Linux cluster and removed again, on the lab (needs root).

The Windows VM boots into the lab's emulated Windows node (WinRM over HTTPS with the seeded
certificate, emulated kubeadm.exe join); aksnet joins it through PSRP and removes it the same
way as a Linux node: drained and deleted through the first control plane, then its VM, disk and
seed ISO, address and MAC.
"""

from __future__ import annotations

from aksnet import api
from aksnet.cluster.create import CreateOptions
from aksnet.lab import k8sregistry
from aksnet.state.macs import macs_of
from tests.labcluster import Fabric
from tests.nodepool.test_scale_lab import all_vms, node_addresses, registered

OPTIONS = CreateOptions(ssh_timeout=60.0, winrm_timeout=120.0)


def test_a_windows_pool_joins_and_leaves(fabric: Fabric) -> None:
    spec = api.new_cluster_spec(
        name="cw",
        vnet="provnet",
        primary_network_plugin="flannel",
        node_pool_name="linux",
        node_count=1,
    )
    api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    store, hosts = fabric.store, fabric.hosts

    added = api.new_node_pool(
        store, "cw", hosts, name="win", count=1, os_type="Windows", options=OPTIONS
    )
    assert added.to_dict()["Changes"] > 0
    assert "cw-win-0" in all_vms(fabric) and "cw-win-0" in registered(fabric, "cw")
    vip = api.get_cluster(store, "cw").to_dict()["ApiServerVip"]
    document = k8sregistry.read_cluster(fabric.lab.lab_dir, f"{vip}:6443") or {}
    assert document["nodes"]["cw-win-0"]["os"] == "windows"
    (pool,) = api.get_node_pools(store, "cw", "win")
    assert pool.to_dict()["OsType"] == "Windows" and pool.to_dict()["Phase"] == "Deployed"

    gone = api.remove_node_pool(store, "cw", "win", hosts, options=OPTIONS)
    assert gone.removed == ["cw-win-0"]
    assert all_vms(fabric) == ["cw-cp-0", "cw-linux-0"]
    assert "cw-win-0" not in registered(fabric, "cw")
    assert "cw-win-0" not in node_addresses(fabric, "cw")
    assert "cw-win-0" not in {m.owner for m in macs_of(store)}
