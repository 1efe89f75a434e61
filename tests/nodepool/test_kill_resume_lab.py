"""kill -9 of `aksnet nodepool set --count 1` halfway through a scale-down, then a second run
that converges (root).

The child is the real CLI on the same lab and store. The parent watches the store's journal and
sends SIGKILL once the first surplus VM is removed from its host (its address and MAC are still
held in the store). The second run (in process; it takes over the dead child's lease) finds from
the store which VMs are still surplus and finishes: both surplus VMs are gone from the hosts and
the registry, their folders are deleted, and their addresses and MACs are free again.
"""

from __future__ import annotations

from aksnet import api
from aksnet.cluster.create import CreateOptions
from aksnet.cluster.remove import FolderExists
from aksnet.infra.provision import DEFAULT_ROOT
from aksnet.state.macs import macs_of
from tests.clichild import kill_when_journaled
from tests.labcluster import Fabric
from tests.nodepool.test_scale_lab import all_vms, node_addresses, registered

NAME = "ck"
OPTIONS = CreateOptions(ssh_timeout=60.0)
KILL_AFTER = f"action LIKE 'Remove-VM {NAME}-linux-2 %' AND status = 'done'"


def scale_down_and_kill(fabric: Fabric) -> None:
    args = ["nodepool", "set", "--cluster-name", NAME, "--name", "linux", "--count", "1"]
    kill_when_journaled(fabric, args, KILL_AFTER)


def test_a_killed_scale_down_is_finished_by_the_next_run(fabric: Fabric) -> None:
    spec = api.new_cluster_spec(
        name=NAME,
        vnet="provnet",
        primary_network_plugin="flannel",
        node_pool_name="linux",
        node_count=3,
    )
    api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    surplus = [f"{NAME}-linux-2", f"{NAME}-linux-1"]
    released = {node_addresses(fabric, NAME)[vm] for vm in surplus}

    scale_down_and_kill(fabric)
    assert f"{NAME}-linux-2" not in all_vms(fabric)  # killed after its VM went ...
    assert f"{NAME}-linux-2" in node_addresses(fabric, NAME)  # ... and before its release

    finished = api.set_node_pool(fabric.store, NAME, "linux", fabric.hosts, count=1)
    assert finished.removed == surplus and finished.resumed  # the same operation
    assert all_vms(fabric) == [f"{NAME}-cp-0", f"{NAME}-linux-0"]
    assert registered(fabric, NAME) == [f"{NAME}-cp-0", f"{NAME}-linux-0"]
    kept = [f"{NAME}-cp-0", f"{NAME}-lb-0", f"{NAME}-linux-0"]  # the load balancer stays
    assert sorted(node_addresses(fabric, NAME)) == kept
    assert not released & {str(a.address) for a in fabric.store.allocations()}
    assert sorted(m.owner for m in macs_of(fabric.store, cluster=NAME)) == kept
    sessions = fabric.hosts.open()
    try:
        for host, session in sessions.items():
            for vm in surplus:
                assert FolderExists(session, rf"{DEFAULT_ROOT}\{vm}").read(host) is None
    finally:
        for session in sessions.values():
            session.close()
    again = api.set_node_pool(fabric.store, NAME, "linux", fabric.hosts, count=1)
    assert again.to_dict()["Changes"] == 0
