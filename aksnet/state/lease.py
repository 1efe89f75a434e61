"""Run leases: one mutating run per target at a time; a crashed run never blocks the next forever.

A lease is one row of the store's `leases` table per target (a cluster's name): who holds it
(process id, host name and a random run id, so two runs of one process differ), when it was
acquired and when it expires (Unix seconds, UTC). Acquiring is one BEGIN IMMEDIATE transaction
that succeeds when the target has no lease, an expired one, or one whose holder process is gone
from this same host (a kill -9 leaves its lease behind: the next run on this machine takes it at
once instead of waiting for the expiry). A holder on another host is trusted until its expiry.

A live run keeps its lease by renewing it from a heartbeat thread every TTL/3 (HeldLease), so a
lease expires only TTL seconds after its run stopped renewing it. A run that finds, when it
renews, that another run has taken its lease over (it was stopped longer than the TTL) marks
itself `lost`; StoreJournal then refuses to start any further action.

Like the journal, leases are decisions, not observations: nothing about a host is stored here.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aksnet.errors import InvalidInput, StateConflict
from aksnet.state.store import Store

log = logging.getLogger(__name__)

DEFAULT_TTL = 60.0  # seconds; renewed every TTL/3, so two missed heartbeats still keep it
MIN_TTL = 0.5

Clock = Callable[[], float]


@dataclass(frozen=True)
class Holder:
    """Who holds a lease: a process on a host, and the run within it."""

    pid: int
    host: str
    run_id: str

    @classmethod
    def this_run(cls) -> Holder:
        """A new holder for a run of this process (a fresh random run id each time)."""
        return cls(os.getpid(), socket.gethostname(), secrets.token_hex(8))

    def describe(self) -> str:
        return f"process {self.pid} on host '{self.host}' (run {self.run_id})"


@dataclass(frozen=True)
class LeaseRecord:
    """One row of `leases`."""

    target: str
    holder: Holder
    acquired_at: float
    expires_at: float


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists on this machine (a zombie counts as gone).

    On Windows os.kill(pid, 0) would send CTRL_C_EVENT, so there the answer is always True:
    a lease left by a crashed run on Windows is taken over only when it expires.
    """
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust kill(0)
    state = stat.rsplit(")", 1)[-1].split()[0]  # the field after "(comm)"
    return state not in ("Z", "X")


class Leases:
    """The leases of one store. Like the store, one instance belongs to one thread."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        alive: Callable[[int], bool] = process_alive,
        this_host: str | None = None,
    ) -> None:
        self._store = store
        self._clock = clock or _now
        self._alive = alive
        self._host = this_host if this_host is not None else socket.gethostname()

    def acquire(self, target: str, holder: Holder, ttl: float = DEFAULT_TTL) -> LeaseRecord:
        """Take the lease of `target` for `ttl` seconds, else StateConflict (nothing changed)."""
        _check_target(target)
        _check_ttl(ttl)
        with self._store.transaction() as tx:
            now = self._clock()
            current = _row(tx.execute(_SELECT, (target,)).fetchone())
            if current is not None and not self._free(current, holder, now):
                raise lease_conflict(current, now)
            if current is not None and current.holder != holder:
                log.debug("taking over the lease of %s from %s", target, current.holder.describe())
            record = LeaseRecord(target, holder, now, now + ttl)
            tx.execute(
                "INSERT OR REPLACE INTO leases "
                "(target, pid, host, run_id, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (target, holder.pid, holder.host, holder.run_id, now, now + ttl),
            )
        return record

    def renew(self, target: str, holder: Holder, ttl: float = DEFAULT_TTL) -> bool:
        """Push the expiry of our lease to now + ttl; False when the lease is no longer ours."""
        _check_ttl(ttl)
        with self._store.transaction() as tx:
            cursor = tx.execute(
                "UPDATE leases SET expires_at = ? WHERE target = ? AND run_id = ? AND pid = ? "
                "AND host = ?",
                (self._clock() + ttl, target, holder.run_id, holder.pid, holder.host),
            )
            return cursor.rowcount == 1

    def release(self, target: str, holder: Holder) -> bool:
        """Give the lease up; False when it was not ours (expired and taken over, or gone)."""
        with self._store.transaction() as tx:
            cursor = tx.execute(
                "DELETE FROM leases WHERE target = ? AND run_id = ? AND pid = ? AND host = ?",
                (target, holder.run_id, holder.pid, holder.host),
            )
            return cursor.rowcount == 1

    def get(self, target: str) -> LeaseRecord | None:
        """The lease row of `target`, expired or not; None when there is none."""
        with self._store.transaction() as tx:
            return _row(tx.execute(_SELECT, (target,)).fetchone())

    def _free(self, current: LeaseRecord, holder: Holder, now: float) -> bool:
        if current.holder == holder or current.expires_at <= now:
            return True
        # A holder process that is gone from this very host cannot renew: take it at once.
        return current.holder.host == self._host and not self._alive(current.holder.pid)


def lease_conflict(current: LeaseRecord, now: float) -> StateConflict:
    """The error a second run gets: who holds the target, since and until when, what to do."""
    left = max(0.0, current.expires_at - now)
    return StateConflict(
        f"'{current.target}' is being changed by another aksnet run: "
        f"{current.holder.describe()} holds its lease since {_iso(current.acquired_at)}, "
        f"until {_iso(current.expires_at)} ({left:.0f} s from now) unless that run renews it. "
        "Nothing was changed. Wait for that run to finish and try again; if it crashed, "
        "try again after the lease expires (at once, when it ran on this host and its process "
        "is gone).",
        target=current.target,
    )


class HeldLease:
    """A lease held for the life of one run: acquired here, renewed by a heartbeat thread every
    ttl/3 on its own store connection, given up by release() (also when the run failed)."""

    def __init__(
        self,
        path: Path | str,
        target: str,
        *,
        ttl: float = DEFAULT_TTL,
        holder: Holder | None = None,
    ) -> None:
        self.path, self.target, self.ttl = Path(path), target, ttl
        self.holder = holder or Holder.this_run()
        self._stop = threading.Event()
        self._lost = threading.Event()
        with Store(self.path) as store:
            self.record = Leases(store).acquire(target, self.holder, ttl)
        self._heartbeat = threading.Thread(
            target=self._beat, name=f"aksnet-lease-{target}", daemon=True
        )
        self._heartbeat.start()

    @property
    def lost(self) -> bool:
        """True once a renewal found the lease held by another run."""
        return self._lost.is_set()

    def check(self) -> None:
        """Raise StateConflict when the lease was lost: this run must not change anything more."""
        if self.lost:
            raise StateConflict(
                f"This run lost the lease of '{self.target}' (it was not renewed within "
                f"{self.ttl:.0f} s and another run took it over); stopping before the next "
                "action. Run the operation again to resume.",
                target=self.target,
            )

    def release(self) -> None:
        """Stop renewing and give the lease up; a second call does nothing."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._heartbeat.join()
        with Store(self.path) as store:
            if not Leases(store).release(self.target, self.holder):
                log.warning("the lease of %s was no longer held by this run", self.target)

    def __enter__(self) -> HeldLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _beat(self) -> None:
        store: Store | None = None
        try:
            while not self._stop.wait(self.ttl / 3):
                try:
                    store = store or Store(self.path)
                    if not Leases(store).renew(self.target, self.holder, self.ttl):
                        log.warning("the lease of %s was taken over by another run", self.target)
                        self._lost.set()
                        return
                except Exception as error:  # a busy store: try again on the next beat
                    log.debug("renewing the lease of %s failed: %s", self.target, error)
        finally:
            if store is not None:
                store.close()


_SELECT = "SELECT target, pid, host, run_id, acquired_at, expires_at FROM leases WHERE target = ?"


def _row(row: tuple[str, int, str, str, float, float] | None) -> LeaseRecord | None:
    if row is None:
        return None
    target, pid, host, run_id, acquired_at, expires_at = row
    return LeaseRecord(target, Holder(pid, host, run_id), acquired_at, expires_at)


def _now() -> float:
    return datetime.now(UTC).timestamp()


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_target(target: str) -> None:
    if not isinstance(target, str) or not target.strip():
        raise InvalidInput("target", target, "it must be a non-empty string.")


def _check_ttl(ttl: float) -> None:
    if not isinstance(ttl, int | float) or isinstance(ttl, bool) or not ttl >= MIN_TTL:
        raise InvalidInput("ttl", ttl, f"it must be a number of seconds, at least {MIN_TTL}.")
