"""Service backends on a subset of the nodes: deterministic, balanced, stable as nodes come and
go; all nodes for externalTrafficPolicy Local and for clusters of at most 10 nodes."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from aksnet.errors import InvalidInput
from aksnet.loadbalancer.services import (
    BACKEND_SUBSET_SIZE,
    ServicePort,
    ServiceView,
    VipPlan,
    backend_subset,
)
from aksnet.loadbalancer.sync import SyncResult, desired_frontends, frontend_name

NODES = [f"c1-linux-{i}" for i in range(100)]


def node(name: str, address: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {}},
        "status": {
            "addresses": [{"type": "InternalIP", "address": address}],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def service(name: str, policy: str = "Cluster") -> ServiceView:
    return ServiceView(
        "default",
        name,
        "LoadBalancer",
        ports=(ServicePort(80, "TCP", 30080),),
        external_traffic_policy=policy,
    )


def test_the_subset_is_deterministic_sized_and_independent_of_node_order() -> None:
    chosen = backend_subset("svc-default.web-80", NODES)
    assert len(chosen) == BACKEND_SUBSET_SIZE and set(chosen) <= set(NODES)
    assert backend_subset("svc-default.web-80", list(reversed(NODES))) == chosen
    assert backend_subset("svc-default.api-80", NODES) != chosen  # another Service, others


def test_few_nodes_are_all_chosen_and_a_bad_size_is_refused() -> None:
    assert backend_subset("svc-default.web-80", NODES[:3]) == sorted(NODES[:3])
    with pytest.raises(InvalidInput, match="size"):
        backend_subset("svc-default.web-80", NODES, 0)


def test_the_services_spread_evenly_over_the_nodes() -> None:
    load = Counter(n for s in range(1000) for n in backend_subset(f"svc-default.web{s}-80", NODES))
    assert set(load) == set(NODES)
    assert min(load.values()) >= 60 and max(load.values()) <= 140  # 100 each on average


def test_a_node_leaving_changes_only_the_subsets_it_was_in() -> None:
    names = [f"svc-default.web{s}-80" for s in range(200)]
    before = {n: backend_subset(n, NODES) for n in names}
    gone = NODES[17]
    after = {n: backend_subset(n, [x for x in NODES if x != gone]) for n in names}
    for name in names:
        if gone not in before[name]:
            assert after[name] == before[name]
        else:
            assert len(set(before[name]) - set(after[name])) == 1  # only the leaver replaced


def test_desired_frontends_subset_cluster_services_and_keep_every_node_for_local() -> None:
    nodes = [node(n, f"198.18.2.{i + 1}") for i, n in enumerate(NODES[:30])]
    cluster, local = service("web"), service("db", policy="Local")
    plan = VipPlan(vip_of={cluster.key: "198.18.0.201", local.key: "198.18.0.202"})
    frontends = desired_frontends(None, nodes, [cluster, local], plan, SyncResult("c1"))
    by_name = {f.name: f for f in frontends}
    web = by_name[frontend_name(cluster, 80)]
    assert sorted(b.name for b in web.backends) == backend_subset(web.name, NODES[:30])
    assert all(b.port == 30080 for b in web.backends)
    assert len(by_name[frontend_name(local, 80)].backends) == 30


def test_the_policy_is_read_from_the_api_form() -> None:
    obj = {"metadata": {"name": "db"}, "spec": {"type": "LoadBalancer"}}
    assert ServiceView.from_api(obj).any_node_serves
    obj["spec"]["externalTrafficPolicy"] = "Local"
    assert not ServiceView.from_api(obj).any_node_serves
