"""A create that failed on one host resumes from the journal; Remove refuses a VM that is not the
cluster's and removes everything once it is (needs root)."""

from __future__ import annotations

import pytest

from aksnet import api
from aksnet.cluster.create import CreateOptions
from aksnet.errors import HostFailures, StateConflict
from aksnet.infra.macpool import hyperv_form, parse_mac
from aksnet.infra.provision import DEFAULT_IMAGE
from aksnet.remote.base import Cmdlet
from aksnet.state.macs import macs_of
from tests.labcluster import Fabric
from tests.provision.conftest import node_image

OPTIONS = CreateOptions(ssh_timeout=60.0)


def test_a_failed_create_resumes_and_remove_refuses_what_it_does_not_own(fabric: Fabric) -> None:
    spec = api.new_cluster_spec(
        name="cresume",
        vnet=fabric.store.list_networks()[0].name,
        primary_network_plugin="flannel",
        node_pool_name="linux",
        node_count=1,
    )
    sessions = fabric.hosts.open()
    try:
        sessions["hci2"].invoke(Cmdlet.of("Remove-Item", LiteralPath=DEFAULT_IMAGE))
        with pytest.raises(HostFailures) as caught:
            api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
        assert set(caught.value.by_host) == {"hci2"}  # the failure names its host
        assert api.get_cluster(fabric.store, "cresume").provisioning_state == "Creating"

        node_image(sessions["hci2"])
        resumed = api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
        assert resumed.run.resumed
        created = [r.title.split()[1] for r in resumed.run.changes if r.title.startswith("New-VM")]
        assert created and all(resumed.placement[vm] == "hci2" for vm in created)
        assert api.get_cluster(fabric.store, "cresume").provisioning_state == "Provisioned"
        on_hosts = fabric.vms_on_hosts()
        vms = ["cresume-cp-0", "cresume-lb-0", "cresume-linux-0"]
        assert sorted(on_hosts["hci1"] + on_hosts["hci2"]) == vms

        # Another MAC on a VM of the cluster's name: not the cluster's VM, not removed.
        view = api.get_cluster(fabric.store, "cresume").to_dict()
        macs = {n["Name"]: n["Mac"] for n in view["Nodes"]}
        host = resumed.placement["cresume-cp-0"]
        foreign = "02:a5:ff:00:00:01"
        sessions[host].invoke(
            Cmdlet.of(
                "Set-VMNetworkAdapter",
                VMName="cresume-cp-0",
                StaticMacAddress=hyperv_form(parse_mac(foreign)),
            )
        )
        with pytest.raises(HostFailures) as refused:
            api.remove_cluster(fabric.store, "cresume", fabric.hosts)
        error = refused.value.by_host[host]
        assert isinstance(error, StateConflict) and foreign in str(error)
        assert "cresume-cp-0" in fabric.vms_on_hosts()[host]
        assert api.get_cluster(fabric.store, "cresume").provisioning_state == "Deleting"

        sessions[host].invoke(
            Cmdlet.of(
                "Set-VMNetworkAdapter",
                VMName="cresume-cp-0",
                StaticMacAddress=hyperv_form(parse_mac(macs["cresume-cp-0"])),
            )
        )
        removed = api.remove_cluster(fabric.store, "cresume", fabric.hosts)
        assert len(removed.released_addresses) == 4  # two nodes, the load balancer, the API VIP
        assert fabric.vms_on_hosts() == {"hci1": [], "hci2": []}
        assert fabric.store.allocations() == [] and macs_of(fabric.store) == []
    finally:
        node_image(sessions["hci2"])
        for session in sessions.values():
            session.close()
