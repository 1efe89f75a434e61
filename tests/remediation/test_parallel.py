"""Clusters are checked in parallel by a deadline (no lab: the per-cluster work is a stand-in):
one cluster failing is its error rows, one that does not finish is a deadline row, and the
others' rows are all there."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet import api
from aksnet.errors import HostFailures, HostUnreachable, InvalidInput
from aksnet.model.cluster import ClusterSpec
from aksnet.remediation import run
from aksnet.remediation.report import ERROR, OK, Row
from aksnet.state.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "aksnet.db") as store:
        api.new_network_setting(
            store,
            name="net1",
            vswitch_name="External",
            ip_address_prefix="198.18.1.0/24",
            gateway="198.18.1.1",
            dns_servers=["198.18.1.1"],
            k8s_node_ip_pool_start="198.18.1.10",
            k8s_node_ip_pool_end="198.18.1.100",
            vip_pool_start="198.18.1.200",
            vip_pool_end="198.18.1.250",
        )
        for name in ("ok1", "ok2", "down", "slow"):
            store.add_cluster(api.new_cluster_spec(name=name, vnet="net1"))
        yield store


def test_one_failing_and_one_silent_cluster_leave_the_others_checked(store: Store) -> None:
    release = threading.Event()

    def work(own: Store, spec: ClusterSpec) -> run.ClusterResult:
        assert own is not store  # each cluster on its own connection
        if spec.name == "down":
            raise HostFailures("failed", {"hci2": HostUnreachable("hci2", "connection refused")})
        if spec.name == "slow":
            release.wait(60)
        return run.ClusterResult([Row(spec.name, f"{spec.name}-cp-0", "VM placement", OK)], [])

    try:
        report = run._each_cluster(store, None, 2.0, work)
    finally:
        release.set()
    by_cluster = {(r.cluster, r.node, r.check, r.status) for r in report.rows}
    assert by_cluster == {
        ("ok1", "ok1-cp-0", "VM placement", OK),
        ("ok2", "ok2-cp-0", "VM placement", OK),
        ("down", "hci2", "cluster", ERROR),
        ("slow", "", "deadline", ERROR),
    }
    assert report.exit_code == 2
    end = time.monotonic() + 30
    while any(t.name == "aksnet-remediation-slow" for t in threading.enumerate()):
        assert time.monotonic() < end
        time.sleep(0.05)


def test_a_deadline_must_be_positive(store: Store) -> None:
    with pytest.raises(InvalidInput) as caught:
        run._each_cluster(store, None, 0, lambda s, spec: run.ClusterResult([], []))
    assert caught.value.parameter == "deadline"
