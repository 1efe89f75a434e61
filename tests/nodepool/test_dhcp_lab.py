"""Scaling and Get-AksHciCredential for a cluster in the DHCP network model (needs root): the
store holds no node addresses there, so the first control plane is reached at the address its
host reports (Get-VMNetworkAdapter), as cluster creation learns it.

Emulated: the lab's DHCP, Hyper-V, kubeadm/kubectl."""

from __future__ import annotations

import os
import stat

from aksnet import api
from aksnet.cluster.create import CreateOptions
from aksnet.state.macs import macs_of
from tests.labcluster import Fabric
from tests.nodepool.test_scale_lab import all_vms, registered

OPTIONS = CreateOptions(ssh_timeout=60.0)


def test_a_dhcp_cluster_scales_and_hands_out_its_credential(fabric: Fabric) -> None:
    fabric.add_dhcp_network()
    spec = api.new_cluster_spec(
        name="cd",
        vnet="dhcpnet",
        primary_network_plugin="flannel",
        node_pool_name="linux",
        node_count=1,
    )
    api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    store, hosts = fabric.store, fabric.hosts

    up = api.set_node_pool(store, "cd", "linux", hosts, count=2, options=OPTIONS)
    assert up.to_dict()["Changes"] > 0
    assert registered(fabric, "cd") == ["cd-cp-0", "cd-linux-0", "cd-linux-1"]

    down = api.set_node_pool(store, "cd", "linux", hosts, count=1, options=OPTIONS)
    assert down.removed == ["cd-linux-1"]
    assert all_vms(fabric) == ["cd-cp-0", "cd-linux-0"]
    assert registered(fabric, "cd") == ["cd-cp-0", "cd-linux-0"]
    assert sorted(m.owner for m in macs_of(store, cluster="cd")) == [
        "cd-cp-0",
        "cd-lb-0",  # the load-balancer VM stays
        "cd-linux-0",
    ]

    folder = fabric.tmp / "kube"
    got = api.get_credential(store, "cd", config_path=folder, hosts=hosts)
    vip = api.get_cluster(store, "cd").to_dict()["ApiServerVip"]
    assert got.server == f"https://{vip}:6443"
    assert stat.S_IMODE(os.stat(folder / "config").st_mode) == 0o600
