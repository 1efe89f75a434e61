"""plan_vips on its own: sharing rules, moves, stability (no API server needed)."""

from __future__ import annotations

from aksnet.loadbalancer.services import (
    EXHAUSTED,
    HeldVip,
    ServicePort,
    ServiceView,
    plan_vips,
)

POOL = [f"198.18.5.{i}" for i in range(201, 204)]


def view(
    name: str,
    *ports: int,
    share: str | None = None,
    ip: str | None = None,
    ingress: tuple[str, ...] = (),
) -> ServiceView:
    return ServiceView(
        namespace="default",
        name=name,
        type="LoadBalancer",
        ports=tuple(ServicePort(p, "TCP", 30000 + p) for p in ports),
        sharing_key=share,
        requested_ip=ip,
        ingress_ips=ingress,
    )


def next_free(taken: set[str]) -> str | None:
    return next((a for a in POOL if a not in taken), None)


def held_by(**owners: str) -> dict[str, HeldVip]:
    return {a: HeldVip(a, "service", f"default/{o}", "c1") for o, a in owners.items()}


def test_a_sharing_key_with_a_clashing_port_gets_a_vip_of_its_own() -> None:
    services = [view("a", 80, share="k"), view("b", 443, share="k"), view("c", 80, share="k")]
    plan = plan_vips("c1", services, {}, lambda a: a in POOL, next_free)
    assert plan.vip_of == {
        "default/a": POOL[0],
        "default/b": POOL[0],
        "default/c": POOL[1],
    }
    assert plan.new == {POOL[0]: "default/a", POOL[1]: "default/c"}


def test_services_without_a_key_never_share_and_kept_vips_stay() -> None:
    services = [view("a", 80, ingress=(POOL[2],)), view("b", 443)]
    plan = plan_vips("c1", services, held_by(a=POOL[2]), lambda a: a in POOL, next_free)
    assert plan.vip_of == {"default/a": POOL[2], "default/b": POOL[0]}
    assert plan.new == {POOL[0]: "default/b"}


def test_a_new_requested_ip_moves_the_service_and_another_clusters_vip_is_refused() -> None:
    held = held_by(a=POOL[0]) | {POOL[2]: HeldVip(POOL[2], "service", "default/x", "c2")}
    services = [view("a", 80, ip=POOL[1], ingress=(POOL[0],)), view("b", 80, ip=POOL[2])]
    plan = plan_vips("c1", services, held, lambda a: a in POOL, next_free)
    assert plan.vip_of == {"default/a": POOL[1]}
    assert "cluster 'c2'" in plan.refused["default/b"].message


def test_exhaustion_refuses_only_the_services_that_do_not_fit() -> None:
    services = [view(f"s{i}", 80) for i in range(4)]
    plan = plan_vips("c1", services, {}, lambda a: a in POOL, next_free)
    assert sorted(plan.vip_of.values()) == POOL
    assert [(k, r.reason) for k, r in plan.refused.items()] == [("default/s3", EXHAUSTED)]
