"""The runner's journal: one operation per run, resumed when an earlier run left it open.

The runner writes each action as 'started' before doing it and 'done' or 'failed' after, so a run
that failed or was killed leaves an open operation. The next run for the same target continues
that operation: its completed actions are known, and the gate does not redo them (the phases
re-read their facts anyway, so an action that was started but not confirmed is redone only when
its facts say it is still needed).

The store's SQLite connection belongs to the thread that opened it, and the runner journals from
worker threads, so StoreJournal does all its store work on one thread of its own.

StoreJournal also holds the target's run lease (aksnet.state.lease) from open to close, so create,
remove and scale runs of one cluster exclude each other without each caller remembering to: a
second run gets StateConflict naming the holder before it opens or changes anything. A caller
that takes decisions before the journal opens can take the lease first and pass it in (`lease=`);
the journal then uses it and leaves releasing it to that caller. Dry runs use no StoreJournal and
take no lease.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar

from aksnet.errors import StateConflict
from aksnet.state.journal import OperationJournal
from aksnet.state.lease import DEFAULT_TTL, HeldLease
from aksnet.state.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")


class RunJournal(Protocol):
    """What the runner needs from a journal."""

    operation: int | None  # the store's operation id, None when not journaled
    resumed: bool  # True when this run continues an operation an earlier run left open

    def record(self, host: str, action: str, status: str, detail: str | None = None) -> None: ...

    def completed(self) -> Counter[tuple[str, str]]:
        """How many times each (host, masked title) completed in this operation so far."""
        ...

    def finish(self, status: str) -> None: ...


class NullJournal:
    """No journal: for library users and tests that do not need to resume."""

    operation: int | None = None
    resumed = False

    def record(self, host: str, action: str, status: str, detail: str | None = None) -> None:
        return None

    def completed(self) -> Counter[tuple[str, str]]:
        return Counter()

    def finish(self, status: str) -> None:
        return None


class StoreJournal:
    """The operation journal in the store at `path`, for one operation `kind` on `target`."""

    def __init__(
        self,
        path: Path | str,
        *,
        kind: str,
        target: str,
        lease: HeldLease | None = None,
        lease_ttl: float = DEFAULT_TTL,
    ) -> None:
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aksnet-journal")
        self._store: Store | None = None
        self._journal: OperationJournal | None = None
        self._own_lease = lease is None
        self.lease: HeldLease | None = None
        self.operation: int | None = None
        self.resumed = False
        try:
            self.lease = lease if lease is not None else HeldLease(path, target, ttl=lease_ttl)
            _check_lease(self.lease, path, target)
            self._call(lambda: self._open(Path(path)))
            self.operation, self.resumed = self._call(lambda: self._start(kind, target))
        except BaseException:
            self.close()
            raise

    def record(self, host: str, action: str, status: str, detail: str | None = None) -> None:
        op = self._op()
        if status == "started" and self.lease is not None:
            self.lease.check()  # never start an action after another run took the target over
        self._call(lambda: self._ops().record(op, host, action, status, detail))

    def completed(self) -> Counter[tuple[str, str]]:
        op = self._op()
        return Counter(self._call(lambda: self._ops().completed_actions(op)))

    def finish(self, status: str) -> None:
        op = self._op()
        self._call(lambda: self._ops().finish_operation(op, status))

    def close(self) -> None:
        """Close the store and give the lease up (unless the caller passed it in)."""
        try:
            if self._store is not None:
                store, self._store = self._store, None
                self._worker.submit(store.close).result()
            self._worker.shutdown(wait=True)
        finally:
            if self.lease is not None and self._own_lease:
                lease, self.lease = self.lease, None
                lease.release()

    def __enter__(self) -> StoreJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, fn: Callable[[], T]) -> T:
        return self._worker.submit(fn).result()

    def _open(self, path: Path) -> None:
        self._store = Store(path)
        self._journal = OperationJournal(self._store)

    def _op(self) -> int:
        if self.operation is None:
            raise RuntimeError("the journal has no operation")
        return self.operation

    def _ops(self) -> OperationJournal:
        if self._journal is None:
            raise RuntimeError("the journal is closed")
        return self._journal

    def _start(self, kind: str, target: str) -> tuple[int, bool]:
        """Continue the newest open operation of the same kind; supersede any other open one."""
        ops = self._ops()
        open_ops = ops.open_operations(target)
        resumable = [op for op in open_ops if op.kind == kind]
        keep = resumable[-1] if resumable else None
        for op in open_ops:
            if op is not keep:
                log.debug("operation %d (%s %s) superseded", op.id, op.kind, op.target)
                ops.finish_operation(op.id, "superseded")
        if keep is not None:
            log.debug("resuming operation %d (%s %s)", keep.id, kind, target)
            ops.resume_operation(keep.id)
            return keep.id, True
        return ops.begin_operation(kind, target), False


def _check_lease(lease: HeldLease, path: Path | str, target: str) -> None:
    """A lease passed in must be the one of this store and target, still held."""
    if lease.target != target or lease.path.resolve() != Path(path).resolve():
        raise StateConflict(
            f"The lease passed in is for '{lease.target}' in {lease.path}, not for '{target}' "
            f"in {path}.",
            target=target,
        )
    lease.check()
