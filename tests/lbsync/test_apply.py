"""One run of Sync-AksHciLoadBalancer under the plan runner (aksnet.loadbalancer.apply), on the
EMULATED API server without load-balancer VMs: the Services' action, what-if, the journal's
lease, a second run, loadBalancerSku none. tests/lbservices runs it with the VMs on the lab."""

from __future__ import annotations

import pytest

from aksnet.errors import StateConflict
from aksnet.loadbalancer.apply import ClusterConnections, sync_with
from aksnet.loadbalancer.sync import sync_load_balancer
from aksnet.model.cluster import cluster_spec, load_balancer_setting
from aksnet.state.lease import HeldLease
from aksnet.state.store import Store
from tests.k8sapi.fixtures import RunningApi
from tests.lbsync.test_sync import ingress_of, lb_service, service_vips


def connections(api: RunningApi) -> ClusterConnections:
    return ClusterConnections(api.core.api_client)  # no load-balancer VM: phase 2 is skipped


def create(api: RunningApi, name: str, ip: str | None = None) -> None:
    api.core.create_namespaced_service("default", lb_service(name, 80, ip=ip))


def test_a_dry_run_sync_decides_the_same_and_writes_nothing(
    store: Store, running_api: RunningApi
) -> None:
    create(running_api, "web")
    create(running_api, "outside", ip="198.18.9.9")
    planned = sync_load_balancer(store, "c1", running_api.core.api_client, dry_run=True)
    assert service_vips(store) == {}
    assert ingress_of(running_api, "web") == []
    assert running_api.core.list_namespaced_event("default").items == []
    done = sync_load_balancer(store, "c1", running_api.core.api_client)
    assert (planned.allocated, planned.status_updated, planned.events) == (
        done.allocated,
        done.status_updated,
        done.events,
    )
    assert planned.frontends == done.frontends


def test_what_if_lists_the_services_action_then_a_run_does_it_and_a_second_does_nothing(
    store: Store, running_api: RunningApi
) -> None:
    create(running_api, "web")
    plan = sync_with(store, "c1", connections(running_api), what_if=True)
    assert plan.actions == [
        "update the Services of c1: allocate VIP 198.18.5.201; status of default/web"
    ]
    assert plan.operation is None
    assert service_vips(store) == {} and ingress_of(running_api, "web") == []

    done = sync_with(store, "c1", connections(running_api))
    assert done.actions == plan.actions
    assert done.operation is not None  # journaled (kind "sync")
    assert service_vips(store) == {"198.18.5.201": "default/web"}
    assert ingress_of(running_api, "web") == ["198.18.5.201"]
    assert done.to_dict()["ActionCount"] == 1

    again = sync_with(store, "c1", connections(running_api))
    assert again.actions == [] and not again.sync.changed


def test_a_run_is_refused_while_another_run_holds_the_cluster(
    store: Store, running_api: RunningApi
) -> None:
    create(running_api, "web")
    lease = HeldLease(store.path, "c1")
    try:
        with pytest.raises(StateConflict):
            sync_with(store, "c1", connections(running_api))
        assert service_vips(store) == {}  # refused before the Services' action
        plan = sync_with(store, "c1", connections(running_api), what_if=True)
        assert len(plan.actions) == 1  # a what-if takes no lease
    finally:
        lease.release()


def test_with_load_balancer_sku_none_services_are_reported_without_addresses(
    store: Store, running_api: RunningApi
) -> None:
    spec = cluster_spec(
        name="c2", vnet="net1", load_balancer=load_balancer_setting(name="none", sku="none")
    )
    store.add_cluster(spec)
    create(running_api, "web")
    result = sync_with(store, "c2", connections(running_api))
    assert result.actions == []
    assert [(s.name, s.vip) for s in result.sync.services if s.name == "web"] == [("web", None)]
    assert "loadBalancerSku none" in result.to_dict()["Notes"][0]
    assert service_vips(store) == {}
