"""The run's pool of host sessions (no lab: nothing connects, releasing is observed): a set is
reused by the next cluster, clusters at once get different sets, create cannot close a leased
session, and the run's end closes every session at once, each in its own thread (as
hosts.close_all closes an operation's host sessions)."""

from __future__ import annotations

import threading

import pytest

from aksnet.cluster.hosts import HostConnections, close_all
from aksnet.remediation.sessions import HostSessionPool, KeptSession
from aksnet.remote.base import Credential, Endpoint
from aksnet.remote.psrp import PSRPSession

HOSTS = HostConnections(
    {
        name: Endpoint(address, ssl=True, auth="basic", cert_validation=False, lab=True)
        for name, address in (("hci1", "198.18.0.11"), ("hci2", "198.18.0.12"))
    },
    Credential("labadmin", "not-a-real-password"),
)


def test_the_next_cluster_reuses_the_set_and_clusters_at_once_get_their_own() -> None:
    pool = HostSessionPool(HOSTS)
    try:
        with pool.lease() as first:
            first_set = first.open()
            with pool.lease() as second:
                second_set = second.open()
        with pool.lease() as third:
            third_set = third.open()
    finally:
        pool.close()
    assert sorted(first_set) == sorted(second_set) == ["hci1", "hci2"]
    assert all(first_set[h] is not second_set[h] for h in first_set)
    assert any(all(third_set[h] is kept[h] for h in kept) for kept in (first_set, second_set))


def test_closing_a_leased_session_keeps_it_for_the_next_cluster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    released: list[str] = []
    monkeypatch.setattr(KeptSession, "release", lambda self: released.append(self.host))
    pool = HostSessionPool(HOSTS)
    with pool.lease() as hosts:
        for session in hosts.open().values():
            session.close()  # as create does with the sessions it was given
    assert released == []
    pool.close()
    assert sorted(released) == ["198.18.0.11", "198.18.0.12"]


def test_the_end_of_the_run_closes_every_session_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    sets = 3
    everyone = threading.Barrier(sets * len(HOSTS.endpoints), timeout=10)
    closed: list[str] = []

    def release(self: KeptSession) -> None:
        everyone.wait()  # each close waits for all the others: serial closing breaks it
        closed.append(self.host)

    monkeypatch.setattr(KeptSession, "release", release)
    pool = HostSessionPool(HOSTS)
    leases = [pool.lease() for _ in range(sets)]
    for lease in leases:
        lease.__enter__()
    for lease in leases:
        lease.__exit__(None, None, None)
    pool.close()
    assert not everyone.broken
    assert sorted(closed) == sorted(["198.18.0.11", "198.18.0.12"] * sets)


def test_a_set_returned_after_the_run_ended_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    released: list[str] = []
    monkeypatch.setattr(KeptSession, "release", lambda self: released.append(self.host))
    pool = HostSessionPool(HOSTS)
    with pool.lease():
        pool.close()  # a cluster past its deadline still holds its set
        assert released == []
    assert sorted(released) == ["198.18.0.11", "198.18.0.12"]


def test_close_all_closes_the_hosts_sessions_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    everyone = threading.Barrier(len(HOSTS.endpoints), timeout=10)
    closed: list[str] = []

    def close(self: PSRPSession) -> None:
        everyone.wait()  # each close waits for the other: serial closing breaks it
        closed.append(self.host)

    monkeypatch.setattr(PSRPSession, "close", close)
    close_all(HOSTS.open())
    assert not everyone.broken
    assert sorted(closed) == ["198.18.0.11", "198.18.0.12"]
