"""A DHCP cluster's learnt addresses on the lab (needs root): recorded as the create learns them,
shown by Get-AksHciCluster and Get-AksHciNodePool, forgotten by a scale-down and by Remove.

Emulated: the lab's DHCP server, Hyper-V, kubeadm/kubectl. Real: the addresses the nodes hold
(their hosts report them), SSH to them with pinned keys, the store."""

from __future__ import annotations

from aksnet import api
from aksnet.cluster.create import CreateOptions
from aksnet.remote.base import Cmdlet
from tests.labcluster import Fabric

OPTIONS = CreateOptions(ssh_timeout=60.0)


def reported(fabric: Fabric) -> dict[str, str]:
    """Each VM's first IPv4 address as its host reports it (Get-VMNetworkAdapter)."""
    sessions = fabric.hosts.open()
    found: dict[str, str] = {}
    try:
        for session in sessions.values():
            for adapter in session.invoke(Cmdlet.of("Get-VMNetworkAdapter", VMName="*")):
                if adapter["IPAddresses"]:
                    found[str(adapter["VMName"])] = str(adapter["IPAddresses"][0])
    finally:
        for session in sessions.values():
            session.close()
    return found


def test_learnt_addresses_are_shown_and_forgotten_with_their_vms(fabric: Fabric) -> None:
    fabric.add_dhcp_network()
    spec = api.new_cluster_spec(
        name="cl",
        vnet="dhcpnet",
        primary_network_plugin="flannel",
        node_pool_name="linux",
        node_count=2,
    )
    store, hosts = fabric.store, fabric.hosts
    created = api.new_cluster(store, spec, hosts, options=OPTIONS)
    on_hosts = reported(fabric)
    shown = {n["Name"]: n for n in api.get_cluster(store, "cl").to_dict()["Nodes"]}
    for vm in ("cl-cp-0", "cl-linux-0", "cl-linux-1"):
        assert shown[vm]["Address"] == on_hosts[vm] and shown[vm]["AddressSource"] == "dhcp"
    assert {n["Name"]: n["Address"] for n in created.to_dict()["Nodes"]}["cl-linux-1"] == (
        on_hosts["cl-linux-1"]
    )
    [pool] = api.get_node_pools(store, "cl", "linux")
    assert [n["Address"] for n in pool.to_dict()["Nodes"]] == [
        on_hosts["cl-linux-0"],
        on_hosts["cl-linux-1"],
    ]

    down = api.set_node_pool(store, "cl", "linux", hosts, count=1, options=OPTIONS)
    assert any(t.startswith("Release learnt address ") for t in _titles(down.to_dict()))
    assert "cl-linux-1" not in store.learnt_addresses(cluster="cl")
    assert "cl-linux-0" in store.learnt_addresses(cluster="cl")

    api.remove_cluster(store, "cl", hosts)
    assert store.learnt_addresses(cluster="cl") == {}


def _titles(result: dict[str, object]) -> list[str]:
    actions = result["Actions"]
    assert isinstance(actions, list)
    return [str(a["Title"]) for a in actions]
