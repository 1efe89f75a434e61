"""Two load-balancer nodes: keepalived holds the VIPs on the first; when its HAProxy dies the
VIPs move to the second and traffic goes on; the next LoadBalancerSetup run restarts the dead
HAProxy (one action) and the VIPs come back (preemption by priority)."""

from __future__ import annotations

from aksnet.plan import apply
from tests.loadbalancer.conftest import LbLab, get, wait_for

REQUESTS = 20


def holds(lab: LbLab, index: int, vip: str) -> bool:
    return f" {vip}/32" in lab.run_on_lb("ip", "-br", "addr", index=index)


def all_answered(lab: LbLab) -> bool:
    names = {w.name for w in lab.workers}
    return all(get(lab.service_vip, 80) in names for _ in range(REQUESTS))


def test_vips_move_to_the_second_vm_when_haproxy_dies_and_come_back(pair_lab: LbLab) -> None:
    result = apply([pair_lab.setup()])
    assert sorted({r.host for r in result.changes}) == ["c1-lb-0", "c1-lb-1"]
    assert len(result.changes) == 8
    wait_for(lambda: holds(pair_lab, 0, pair_lab.service_vip), "the VIPs on c1-lb-0")
    wait_for(lambda: all_answered(pair_lab), "answers through c1-lb-0")
    assert not holds(pair_lab, 1, pair_lab.service_vip)

    pair_lab.lb.shell.run(["sudo", "-n", "systemctl", "stop", "haproxy"])
    wait_for(lambda: holds(pair_lab, 1, pair_lab.api_vip), "the VIPs on c1-lb-1")
    assert holds(pair_lab, 1, pair_lab.service_vip)
    assert not holds(pair_lab, 0, pair_lab.service_vip)
    wait_for(lambda: all_answered(pair_lab), "answers through c1-lb-1")

    repair = apply([pair_lab.setup()])
    assert [r.title for r in repair.changes] == ["start haproxy on c1-lb-0"]
    wait_for(lambda: holds(pair_lab, 0, pair_lab.service_vip), "the VIPs back on c1-lb-0")
    wait_for(lambda: not holds(pair_lab, 1, pair_lab.service_vip), "c1-lb-1 releasing them")
    wait_for(lambda: all_answered(pair_lab), "answers through c1-lb-0 again")
    assert apply([pair_lab.setup()]).changes == []
