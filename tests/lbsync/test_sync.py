"""sync_load_balancer against the EMULATED API server with the official kubernetes client."""

from __future__ import annotations

from typing import Any

import pytest

from aksnet.errors import InvalidInput
from aksnet.loadbalancer.frontends import Backend, Frontend
from aksnet.loadbalancer.services import EXHAUSTED, REFUSED, SHARING_ANNOTATION
from aksnet.loadbalancer.sync import SyncResult, api_client_for, sync_load_balancer
from aksnet.model.cluster import cluster_spec, load_balancer_setting
from aksnet.state.store import Store
from tests.k8sapi.fixtures import RunningApi
from tests.lbsync.conftest import API_VIP

CP = Backend("c1-cp-1", "198.18.0.21", 6443)


def lb_service(name: str, *ports: int, ip: str | None = None, share: str | None = None) -> Any:
    metadata: dict[str, Any] = {"name": name}
    if share:
        metadata["annotations"] = {SHARING_ANNOTATION: share}
    spec: dict[str, Any] = {
        "type": "LoadBalancer",
        "ports": [{"name": f"p{p}", "port": p, "targetPort": 8080} for p in ports],
    }
    if ip:
        spec["loadBalancerIP"] = ip
    return {"metadata": metadata, "spec": spec}


def create(api: RunningApi, body: Any) -> Any:
    return api.core.create_namespaced_service("default", body)


def ingress_of(api: RunningApi, name: str) -> list[Any]:
    service: Any = api.core.read_namespaced_service(name, "default")
    ingress = service.status.load_balancer.ingress if service.status.load_balancer else None
    return [i.ip for i in ingress or []]


def node_port(api: RunningApi, name: str, port: int) -> Any:
    service: Any = api.core.read_namespaced_service(name, "default")
    return next(p.node_port for p in service.spec.ports if p.port == port)


def service_vips(store: Store) -> dict[str, str]:
    return {str(a.address): a.owner for a in store.allocations("net1") if a.owner_kind == "service"}


def warnings_on(api: RunningApi, name: str) -> list[tuple[Any, Any]]:
    events: Any = api.core.list_namespaced_event(
        "default", field_selector=f"involvedObject.name={name}"
    )
    return [(e.reason, e.message) for e in events.items if e.type == "Warning"]


def resource_version(api: RunningApi) -> Any:
    listing: Any = api.core.list_service_for_all_namespaces()
    return listing.metadata.resource_version


def sync(store: Store, api: RunningApi) -> SyncResult:
    return sync_load_balancer(store, "c1", api.core.api_client)


def test_three_services_get_vips_status_and_frontends_and_a_second_sync_changes_nothing(
    store: Store, running_api: RunningApi
) -> None:
    api = running_api
    create(api, lb_service("web", 80, ip="198.18.5.203"))
    create(api, lb_service("shop", 80, share="front"))
    create(api, lb_service("db", 5432, share="front"))

    first = sync(store, api)

    assert ingress_of(api, "web") == ["198.18.5.203"]
    assert ingress_of(api, "shop") == ingress_of(api, "db") == ["198.18.5.201"]
    vips = service_vips(store)
    assert vips.pop("198.18.5.201") in ("default/shop", "default/db")  # the first one served
    assert vips == {"198.18.5.203": "default/web"}
    assert sorted(first.allocated) == ["198.18.5.201", "198.18.5.203"]
    workers = [("c1-w-1", "198.18.0.31"), ("c1-w-2", "198.18.0.32")]

    def to_workers(name: str, port: int) -> tuple[Backend, ...]:
        return tuple(Backend(n, a, node_port(api, name, port)) for n, a in workers)

    assert first.frontends == (
        Frontend("api-server", API_VIP, 6443, (CP,)),
        Frontend("svc-default.db-5432", "198.18.5.201", 5432, to_workers("db", 5432)),
        Frontend("svc-default.shop-80", "198.18.5.201", 80, to_workers("shop", 80)),
        Frontend("svc-default.web-80", "198.18.5.203", 80, to_workers("web", 80)),
    )
    assert first.problems == []
    kube = next(s for s in first.services if s.name == "kubernetes")
    assert (kube.type, kube.vip) == ("ClusterIP", None)

    version = resource_version(api)
    second = sync(store, api)
    assert not second.changed
    assert second.frontends == first.frontends
    assert resource_version(api) == version


def test_a_deleted_service_gives_its_vip_back_and_a_shared_vip_stays_with_the_sharer(
    store: Store, running_api: RunningApi
) -> None:
    api = running_api
    create(api, lb_service("web", 80, ip="198.18.5.203"))
    create(api, lb_service("shop", 80, share="front"))
    create(api, lb_service("db", 5432, share="front"))
    sync(store, api)
    owner = service_vips(store)["198.18.5.201"]  # the shared VIP's owner in the store
    sharer = ({"default/shop", "default/db"} - {owner}).pop()

    api.core.delete_namespaced_service("web", "default")
    api.core.delete_namespaced_service(owner.split("/")[1], "default")
    result = sync(store, api)

    assert result.released == ["198.18.5.203"]
    assert service_vips(store) == {"198.18.5.201": sharer}
    assert store.free_count("net1", "vip") == 3
    assert [f.vip for f in result.frontends] == [API_VIP, "198.18.5.201"]
    assert ingress_of(api, sharer.split("/")[1]) == ["198.18.5.201"]


def test_a_requested_vip_outside_the_pool_or_taken_is_refused_with_an_event(
    store: Store, running_api: RunningApi
) -> None:
    api = running_api
    create(api, lb_service("web", 80, ip="198.18.5.203"))
    sync(store, api)  # web holds 198.18.5.203 before the others ask for it
    create(api, lb_service("outside", 80, ip="198.18.6.9"))
    create(api, lb_service("apivip", 80, ip=API_VIP))
    create(api, lb_service("clash", 80, ip="198.18.5.203"))
    create(api, lb_service("beside", 443, ip="198.18.5.203"))

    result = sync(store, api)

    assert ingress_of(api, "web") == ingress_of(api, "beside") == ["198.18.5.203"]
    for name in ("outside", "apivip", "clash"):
        assert ingress_of(api, name) == []
    (outside,) = warnings_on(api, "outside")
    assert outside[0] == REFUSED
    assert "198.18.6.9" in outside[1] and "VIP pool" in outside[1]
    (taken,) = warnings_on(api, "apivip")
    assert API_VIP in taken[1] and "apiserver 'c1'" in taken[1]
    (clash,) = warnings_on(api, "clash")
    assert "default/web" in clash[1] and "same port" in clash[1]
    assert sorted(p.name for p in result.problems) == ["apivip", "clash", "outside"]
    assert service_vips(store) == {"198.18.5.203": "default/web"}

    again = sync(store, api)
    assert not again.changed
    assert len(warnings_on(api, "outside")) == 1
    assert sorted(p.name for p in again.problems) == ["apivip", "clash", "outside"]


def test_pool_exhaustion_is_an_event_on_the_service_and_a_problem_in_the_result(
    store: Store, running_api: RunningApi
) -> None:
    api = running_api
    for i in range(5):  # the pool has 5 addresses, the API server holds one
        create(api, lb_service(f"app{i}", 80))

    result = sync(store, api)

    assert [ingress_of(api, f"app{i}") for i in range(4)] == [
        [f"198.18.5.{201 + i}"] for i in range(4)
    ]
    assert ingress_of(api, "app4") == []
    ((reason, message),) = warnings_on(api, "app4")
    assert reason == EXHAUSTED and "VIP pool" in message
    assert [(p.name, p.problem and p.problem.reason) for p in result.problems] == [
        ("app4", EXHAUSTED)
    ]
    assert result.to_dict()["Problems"][0]["Problem"]["reason"] == EXHAUSTED

    api.core.delete_namespaced_service("app0", "default")
    sync(store, api)
    assert ingress_of(api, "app4") == ["198.18.5.201"]


def test_external_name_is_reported_as_a_dns_name_and_cluster_ip_node_port_need_nothing(
    store: Store, running_api: RunningApi
) -> None:
    api = running_api
    create(
        api,
        {
            "metadata": {"name": "ext"},
            "spec": {"type": "ExternalName", "externalName": "db.example"},
        },
    )
    create(api, {"metadata": {"name": "np"}, "spec": {"type": "NodePort", "ports": [{"port": 81}]}})

    result = sync(store, api)

    by_name = {s.name: s for s in result.services}
    assert by_name["ext"].dns_name == "db.example" and by_name["ext"].vip is None
    assert by_name["np"].vip is None and by_name["np"].type == "NodePort"
    assert service_vips(store) == {}
    assert [f.name for f in result.frontends] == ["api-server"]
    assert not result.changed


def test_a_service_that_stops_being_a_load_balancer_loses_its_vip(
    store: Store, running_api: RunningApi
) -> None:
    api = running_api
    create(api, lb_service("web", 80))
    sync(store, api)
    assert ingress_of(api, "web") == ["198.18.5.201"]

    api.core.patch_namespaced_service("web", "default", {"spec": {"type": "ClusterIP"}})
    result = sync(store, api)

    assert ingress_of(api, "web") == []
    assert result.released == ["198.18.5.201"]


def test_with_load_balancer_sku_none_services_get_no_address_and_nothing_is_written(
    store: Store, running_api: RunningApi
) -> None:
    spec = cluster_spec(
        name="c2", vnet="net1", load_balancer=load_balancer_setting(name="none", sku="none")
    )
    store.add_cluster(spec)
    api = running_api
    create(api, lb_service("web", 80))

    result = sync_load_balancer(store, "c2", api.core.api_client)

    assert result.frontends == () and not result.changed
    assert "loadBalancerSku none" in result.notes[0]
    assert ingress_of(api, "web") == []
    assert service_vips(store) == {}


def test_a_client_from_kubeconfig_text_reaches_the_cluster(
    store: Store, running_api: RunningApi
) -> None:
    client = api_client_for(running_api.kubeconfig.read_text())
    try:
        assert [f.name for f in sync_load_balancer(store, "c1", client).frontends] == ["api-server"]
    finally:
        client.close()  # type: ignore[no-untyped-call]
    with pytest.raises(InvalidInput, match="kubeconfig"):
        api_client_for("just: text")


def test_a_load_balancer_ip_that_is_no_ipv4_address_is_refused_not_fatal(
    store: Store, running_api: RunningApi
) -> None:
    create(running_api, lb_service("odd", 80, ip="fd00::5"))
    create(running_api, lb_service("fine", 80))
    result = sync(store, running_api)
    assert [p.name for p in result.problems] == ["odd"]
    assert ingress_of(running_api, "fine") == ["198.18.5.201"]
