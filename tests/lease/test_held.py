"""HeldLease and StoreJournal: heartbeats, losing a lease, runs of one cluster excluding each other,
and a lease left behind by a kill -9 taken over at once on this host."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet.errors import StateConflict
from aksnet.plan import Action, apply, dry_run
from aksnet.plan.journal import StoreJournal
from aksnet.plan.runner import RunContext
from aksnet.state.journal import JournalEntry, OperationJournal
from aksnet.state.lease import HeldLease, Holder, Leases
from aksnet.state.store import Store

REPO = Path(__file__).resolve().parents[2]


def lease_of(path: Path, target: str = "c1") -> object:
    with Store(path) as store:
        return Leases(store).get(target)


def operations(path: Path, target: str = "c1") -> int:
    with Store(path) as store:
        return len(OperationJournal(store).open_operations(target))


def wait_until(condition: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_the_heartbeat_renews_and_release_frees(tmp_path: Path) -> None:
    db = tmp_path / "aksnet.db"
    with HeldLease(db, "c1", ttl=0.6) as lease:
        first = lease.record.expires_at
        wait_until(lambda: lease_of(db).expires_at > first, "a renewal")  # type: ignore[attr-defined]
        assert not lease.lost
    assert lease_of(db) is None


def test_a_run_that_lost_its_lease_refuses_to_go_on(tmp_path: Path) -> None:
    db = tmp_path / "aksnet.db"
    with HeldLease(db, "c1", ttl=0.6) as lease:
        thief = Holder(os.getpid(), "elsewhere", "thief")
        with Store(db) as store:
            later = lease.record.expires_at + 3600
            Leases(store, clock=lambda: later).acquire("c1", thief, ttl=3600)
        wait_until(lambda: lease.lost, "the heartbeat to notice")
        with pytest.raises(StateConflict, match="lost the lease of 'c1'"):
            lease.check()
    assert lease_of(db).holder == thief  # type: ignore[attr-defined]  # not released: not ours


def test_two_journals_of_one_target_exclude_each_other(tmp_path: Path) -> None:
    db = tmp_path / "aksnet.db"
    with StoreJournal(db, kind="create", target="c1") as first:
        assert first.lease is not None and lease_of(db) == first.lease.record
        for kind in ("create", "remove", "scale"):
            with pytest.raises(StateConflict, match=f"process {os.getpid()}"):
                StoreJournal(db, kind=kind, target="c1")
        assert operations(db) == 1  # the refused runs opened nothing, superseded nothing
        with StoreJournal(db, kind="create", target="c2"):
            pass
    assert lease_of(db) is None
    with StoreJournal(db, kind="create", target="c1") as again:
        assert again.resumed  # the first never finished: its operation is continued


def test_the_lease_is_released_when_the_run_fails(tmp_path: Path) -> None:
    db = tmp_path / "aksnet.db"

    def boom() -> None:
        raise RuntimeError("host on fire")

    class Phase:
        title = "fail"

        def prepare(self, ctx: RunContext) -> bool:
            return True

        def run(self, ctx: RunContext) -> Iterator[Action]:
            yield Action("h1", "break h1", boom)

    with pytest.raises(RuntimeError), StoreJournal(db, kind="create", target="c1") as journal:
        apply([Phase()], journal=journal)
    assert lease_of(db) is None


def test_a_journal_whose_lease_was_lost_starts_no_action(tmp_path: Path) -> None:
    db = tmp_path / "aksnet.db"
    with StoreJournal(db, kind="create", target="c1", lease_ttl=0.6) as journal:
        assert journal.lease is not None
        with Store(db) as store:
            later = journal.lease.record.expires_at + 3600
            Leases(store, clock=lambda: later).acquire("c1", Holder(1, "x", "y"), ttl=3600)
        wait_until(lambda: journal.lease.lost, "the heartbeat to notice")
        with pytest.raises(StateConflict, match="lost the lease"):
            journal.record("h1", "New-VM c1-cp-0", "started")
        assert all(e.action != "New-VM c1-cp-0" for e in _entries(db, journal.operation))


def _entries(db: Path, op: int | None) -> list[JournalEntry]:
    assert op is not None
    with Store(db) as store:
        return OperationJournal(store).entries(op)


def test_a_lease_passed_in_is_used_and_left_to_its_owner(tmp_path: Path) -> None:
    db = tmp_path / "aksnet.db"
    with HeldLease(db, "c1") as lease:
        with StoreJournal(db, kind="create", target="c1", lease=lease) as journal:
            assert journal.lease is lease
        assert lease_of(db) == lease.record  # still held: the caller releases it
        with pytest.raises(StateConflict, match="not for 'c2'"):
            StoreJournal(db, kind="create", target="c2", lease=lease)
    assert lease_of(db) is None


def test_a_killed_holder_on_this_host_does_not_block_the_next_run(tmp_path: Path) -> None:
    db, marker = tmp_path / "aksnet.db", tmp_path / "held"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.lease.holder_child", str(db), "c1", "3600", str(marker)],
        cwd=REPO,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(lambda: marker.exists() or child.poll() is not None, "the child's lease", 60)
        assert marker.exists(), child.stderr.read().decode() if child.stderr else ""
        with pytest.raises(StateConflict, match=f"process {child.pid} "):
            StoreJournal(db, kind="create", target="c1")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        assert lease_of(db).holder.pid == child.pid  # type: ignore[attr-defined]  # left behind
        with StoreJournal(db, kind="create", target="c1") as journal:
            assert journal.lease is not None and journal.lease.holder.pid == os.getpid()
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
        if child.stderr is not None:
            child.stderr.close()


def test_a_what_if_run_takes_no_lease_and_is_not_refused(tmp_path: Path) -> None:
    db = tmp_path / "aksnet.db"
    planned: list[str] = []

    class Phase:
        title = "plan"

        def prepare(self, ctx: RunContext) -> bool:
            return True

        def run(self, ctx: RunContext) -> Iterator[Action]:
            yield Action("h1", "New-VM c1-cp-0 on h1", lambda: planned.append("done"))

    with StoreJournal(db, kind="create", target="c1") as running:
        result = dry_run([Phase()])
        assert [r.outcome for r in result.records] == ["planned"] and planned == []
        assert lease_of(db) == running.lease.record  # type: ignore[union-attr]
