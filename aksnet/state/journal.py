"""The operation journal: which operation runs against which target, and each action's progress.

It lives in the store's `operations` and `journal` tables because it records decisions (what was
started and what completed), which is what a run killed halfway needs to resume. It never records
what a host reported, and callers pass titles and details already masked: no secret reaches the
store. Every write is one short transaction, so a kill -9 loses at most the write in flight.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from aksnet.errors import InvalidInput, NotFound
from aksnet.state.store import Store

ACTION_STATUSES = ("started", "done", "failed")
# Operations in these states were not finished successfully and are continued by the next run.
OPEN_STATUSES = ("running", "failed")
OPERATION_STATUSES = ("running", "succeeded", "failed", "superseded")


@dataclass(frozen=True)
class Operation:
    """One row of `operations`."""

    id: int
    kind: str
    target: str
    status: str
    started_at: str
    finished_at: str | None


@dataclass(frozen=True)
class JournalEntry:
    """One row of `journal`: a host's action reaching one status."""

    operation: int
    seq: int
    host: str
    action: str
    status: str
    detail: str | None


class OperationJournal:
    """Reads and writes the journal of one store; one instance per thread, like the store.

    Reads also go through Store.transaction(): the store exposes no other public way to its
    connection, and a read of a few rows under BEGIN IMMEDIATE costs nothing worth a new API.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def begin_operation(self, kind: str, target: str) -> int:
        """Open a new operation and return its id."""
        _require_text("kind", kind)
        _require_text("target", target)
        with self._store.transaction() as tx:
            cursor = tx.execute(
                "INSERT INTO operations (kind, target) VALUES (?, ?)", (kind, target)
            )
            return int(cursor.lastrowid or 0)

    def resume_operation(self, op: int) -> None:
        """Mark an open operation as running again (a new run continues it)."""
        with self._store.transaction() as tx:
            self._require_operation(tx, op)
            tx.execute(
                "UPDATE operations SET status = 'running', finished_at = NULL WHERE id = ?", (op,)
            )

    def record(
        self, op: int, host: str, action: str, status: str, detail: str | None = None
    ) -> int:
        """Append one entry; returns its sequence number within the operation."""
        if status not in ACTION_STATUSES:
            raise InvalidInput("status", status, f"it must be one of {', '.join(ACTION_STATUSES)}.")
        with self._store.transaction() as tx:
            self._require_operation(tx, op)
            (seq,) = tx.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM journal WHERE operation = ?", (op,)
            ).fetchone()
            tx.execute(
                "INSERT INTO journal (operation, seq, host, action, status, detail) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (op, seq, host, action, status, detail),
            )
            return int(seq)

    def finish_operation(self, op: int, status: str) -> None:
        """Close an operation ('succeeded', 'superseded') or leave it resumable ('failed')."""
        allowed = [s for s in OPERATION_STATUSES if s != "running"]
        if status not in allowed:
            raise InvalidInput("status", status, f"it must be one of {', '.join(allowed)}.")
        with self._store.transaction() as tx:
            self._require_operation(tx, op)
            tx.execute(
                "UPDATE operations SET status = ?, "
                "finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
                (status, op),
            )

    def open_operations(self, target: str) -> list[Operation]:
        """Operations on `target` that did not succeed and were not superseded, oldest first."""
        with self._store.transaction() as tx:
            rows = tx.execute(
                "SELECT id, kind, target, status, started_at, finished_at FROM operations "
                "WHERE target = ? AND status IN (?, ?) ORDER BY id",
                (target, *OPEN_STATUSES),
            ).fetchall()
        return [Operation(*row) for row in rows]

    def get_operation(self, op: int) -> Operation:
        with self._store.transaction() as tx:
            return self._require_operation(tx, op)

    def entries(self, op: int) -> list[JournalEntry]:
        """Every entry of an operation in the order written."""
        with self._store.transaction() as tx:
            rows = tx.execute(
                "SELECT operation, seq, host, action, status, detail FROM journal "
                "WHERE operation = ? ORDER BY seq",
                (op,),
            ).fetchall()
        return [JournalEntry(*row) for row in rows]

    def completed_actions(self, op: int) -> list[tuple[str, str]]:
        """(host, action) of each entry marked 'done', in completion order; repeats kept."""
        return [(e.host, e.action) for e in self.entries(op) if e.status == "done"]

    def _require_operation(self, conn: sqlite3.Connection, op: int) -> Operation:
        row = conn.execute(
            "SELECT id, kind, target, status, started_at, finished_at FROM operations WHERE id = ?",
            (op,),
        ).fetchone()
        if row is None:
            raise NotFound("Operation", str(op))
        return Operation(*row)


def _require_text(parameter: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(parameter, value, "it must be a non-empty string.")
