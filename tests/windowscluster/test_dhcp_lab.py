"""A Linux cluster (1 control plane + 1 worker) in the DHCP network model on the lab (needs
root): the seeds say dhcp4, aksnet learns each VM's address from its host once it runs
(Get-VMNetworkAdapter), pins the VM's generated SSH host key at that address, and sets the
nodes up there; a second apply and a what-if find nothing to do; Remove leaves no VM and
returns the MACs and the API VIP.

Emulated: the lab's DHCP (aksnet.lab.linux.dhcp: no DHCP packet is sent; the lab configures
the namespace with the lease and the host reports it), Hyper-V, kubeadm/kubectl.
"""

from __future__ import annotations

import ipaddress

from aksnet import api
from aksnet.cluster.create import CreateOptions
from aksnet.cluster.keys import ClusterKeys
from aksnet.lab.linux import dhcp
from aksnet.remote.known_hosts import KnownHosts
from aksnet.state.macs import macs_of
from tests.labcluster import Fabric

OPTIONS = CreateOptions(ssh_timeout=60.0)


def test_a_linux_cluster_in_the_dhcp_model_end_to_end(fabric: Fabric) -> None:
    name = "cdhcp"
    spec = api.new_cluster_spec(
        name=name,
        vnet=fabric.add_dhcp_network(),
        primary_network_plugin="flannel",
        linux_node_count=1,
    )
    vms = sorted([f"{name}-cp-0", f"{name}-{name}-linux-0", f"{name}-lb-0"])  # with its LB VM

    created = api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    addresses = {n["Name"]: n["Address"] for n in created.nodes}
    assert sorted(addresses) == vms
    subnet = fabric.lab.network.subnet
    leases = range(
        int(subnet.network_address) + dhcp.FIRST_HOST,
        int(subnet.network_address) + dhcp.LAST_HOST + 1,
    )
    for address in addresses.values():
        assert int(ipaddress.IPv4Address(address)) in leases  # learnt, from the DHCP range
    # The store holds the API VIP only: node addresses are observations, not decisions.
    assert [str(a.address) for a in fabric.store.allocations()] == [created.api_vip]

    keys = ClusterKeys.beside(fabric.store.path, name)
    for vm, address in addresses.items():
        known = KnownHosts(fabric.tmp / f"known_{vm}")
        known.pin(address, 22, keys.host_key(vm).public_line)  # the key aksnet generated
        with fabric.ssh(name, address, known) as ssh:
            assert ssh.run(["hostname"]).text.strip() == vm
            assert f"inet {address}/" in ssh.run(["ip", "-4", "-o", "addr", "show"]).text

    again = api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    assert again.run.changes == [] and again.run.records == []
    assert {n["Name"]: n["Address"] for n in again.nodes} == addresses
    replan = api.new_cluster(fabric.store, spec, fabric.hosts, what_if=True, options=OPTIONS)
    assert replan.run.changes == []

    removed = api.remove_cluster(fabric.store, name, fabric.hosts)
    assert removed.released_addresses == [created.api_vip]
    assert len(removed.released_macs) == 3
    assert fabric.store.allocations() == [] and macs_of(fabric.store) == []
    assert fabric.vms_on_hosts() == {"hci1": [], "hci2": []}
