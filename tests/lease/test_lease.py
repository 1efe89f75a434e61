"""Leases: one holder per target, expiry, takeover of a dead local holder, renewal, release."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet.errors import InvalidInput, StateConflict
from aksnet.state.lease import Holder, LeaseRecord, Leases, lease_conflict, process_alive
from aksnet.state.schema import MIGRATIONS, SCHEMA_VERSION
from aksnet.state.store import Store

HERE = "mgmt-1"
A = Holder(1001, HERE, "aaaa")
B = Holder(1002, HERE, "bbbb")


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "aksnet.db") as opened:
        yield opened


def leases(store: Store, clock: Clock, dead: frozenset[int] = frozenset()) -> Leases:
    return Leases(store, clock=clock, alive=lambda pid: pid not in dead, this_host=HERE)


def test_a_second_holder_is_refused_with_who_since_and_until(store: Store) -> None:
    clock = Clock()
    first = leases(store, clock).acquire("c1", A, ttl=60)
    clock.now += 10
    with pytest.raises(StateConflict) as caught:
        leases(store, clock).acquire("c1", B, ttl=60)
    text = str(caught.value)
    assert "'c1'" in text and "process 1001 on host 'mgmt-1'" in text
    assert "since 2027-01-15T08:00:00Z" in text and "until 2027-01-15T08:01:00Z" in text
    assert "(50 s from now)" in text and "try again" in text
    assert caught.value.target == "c1" and caught.value.exit_code == 4
    assert leases(store, clock).get("c1") == first  # nothing changed


def test_other_targets_do_not_conflict(store: Store) -> None:
    clock = Clock()
    leases(store, clock).acquire("c1", A)
    got = leases(store, clock).acquire("c2", B)
    assert got.holder == B and leases(store, clock).get("c1").holder == A  # type: ignore[union-attr]


def test_an_expired_lease_is_taken_over(store: Store) -> None:
    clock = Clock()
    leases(store, clock).acquire("c1", A, ttl=60)
    clock.now += 59.9
    with pytest.raises(StateConflict):
        leases(store, clock).acquire("c1", B, ttl=60)
    clock.now += 0.1
    got = leases(store, clock).acquire("c1", B, ttl=60)
    assert got == LeaseRecord("c1", B, clock.now, clock.now + 60)


def test_a_dead_holder_on_this_host_is_taken_over_at_once(store: Store) -> None:
    clock = Clock()
    leases(store, clock).acquire("c1", A, ttl=600)
    got = leases(store, clock, dead=frozenset({A.pid})).acquire("c1", B)
    assert got.holder == B


def test_a_holder_on_another_host_is_trusted_until_expiry(store: Store) -> None:
    clock = Clock()
    remote = Holder(1001, "mgmt-2", "cccc")
    leases(store, clock).acquire("c1", remote, ttl=60)
    with pytest.raises(StateConflict, match="host 'mgmt-2'"):
        leases(store, clock, dead=frozenset({1001})).acquire("c1", B)


def test_the_same_holder_reacquires_and_renews(store: Store) -> None:
    clock = Clock()
    leases(store, clock).acquire("c1", A, ttl=60)
    clock.now += 30
    assert leases(store, clock).renew("c1", A, ttl=60)
    assert leases(store, clock).get("c1").expires_at == clock.now + 60  # type: ignore[union-attr]
    assert not leases(store, clock).renew("c1", B, ttl=60)
    assert leases(store, clock).acquire("c1", A).holder == A


def test_renew_and_release_fail_once_another_run_took_over(store: Store) -> None:
    clock = Clock()
    leases(store, clock).acquire("c1", A, ttl=60)
    clock.now += 61
    leases(store, clock).acquire("c1", B, ttl=60)
    assert not leases(store, clock).renew("c1", A)
    assert not leases(store, clock).release("c1", A)
    assert leases(store, clock).get("c1").holder == B  # type: ignore[union-attr]
    assert leases(store, clock).release("c1", B)
    assert leases(store, clock).get("c1") is None


@pytest.mark.parametrize("ttl", [0, -1, 0.1, float("nan"), True, "60"])
def test_a_bad_ttl_is_refused_naming_the_parameter(store: Store, ttl: object) -> None:
    with pytest.raises(InvalidInput, match="'ttl'"):
        leases(store, Clock()).acquire("c1", A, ttl=ttl)  # type: ignore[arg-type]
    assert leases(store, Clock()).get("c1") is None


@pytest.mark.parametrize("target", ["", "  "])
def test_an_empty_target_is_refused(store: Store, target: str) -> None:
    with pytest.raises(InvalidInput, match="'target'"):
        leases(store, Clock()).acquire(target, A)


def test_the_conflict_message_never_shows_a_negative_remainder() -> None:
    record = LeaseRecord("c1", A, 100.0, 160.0)
    assert "(0 s from now)" in str(lease_conflict(record, 200.0))


def test_a_version_2_store_gains_the_leases_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for version, migration in enumerate(MIGRATIONS[:2], start=1):
        conn.executescript(migration)
        conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    with Store(path) as store:
        assert leases(store, Clock()).acquire("c1", A).holder == A
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    conn.close()


def test_process_alive_knows_itself_and_a_reaped_or_zombie_child() -> None:
    import os
    import subprocess
    import sys
    import time

    assert process_alive(os.getpid())
    assert not process_alive(0)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30
        while process_alive(child.pid):  # a zombie until waited for: counted as gone
            assert time.monotonic() < deadline, "the child never exited"
            time.sleep(0.05)
    finally:
        child.wait(timeout=30)
    assert not process_alive(child.pid)
