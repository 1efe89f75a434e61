"""The operation journal over the store's operations and journal tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet.errors import InvalidInput, NotFound
from aksnet.state.journal import OperationJournal
from aksnet.state.store import Store


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[OperationJournal]:
    with Store(tmp_path / "aksnet.db") as store:
        yield OperationJournal(store)


def test_record_and_read_back(journal: OperationJournal) -> None:
    op = journal.begin_operation("create", "c1")
    assert journal.record(op, "h1", "New-VM a", "started") == 1
    assert journal.record(op, "h1", "New-VM a", "done") == 2
    journal.record(op, "h2", "New-VM b", "started")
    journal.record(op, "h2", "New-VM b", "failed", "out of memory")
    assert journal.completed_actions(op) == [("h1", "New-VM a")]
    assert journal.entries(op)[-1].detail == "out of memory"
    assert [o.id for o in journal.open_operations("c1")] == [op]


def test_finished_operations_are_not_open(journal: OperationJournal) -> None:
    done, failed = journal.begin_operation("create", "c1"), journal.begin_operation("create", "c1")
    journal.finish_operation(done, "succeeded")
    journal.finish_operation(failed, "failed")
    assert [o.id for o in journal.open_operations("c1")] == [failed]
    assert journal.get_operation(done).finished_at is not None
    journal.resume_operation(failed)
    assert journal.get_operation(failed).status == "running"
    assert journal.open_operations("c2") == []


def test_bad_values_are_refused(journal: OperationJournal) -> None:
    op = journal.begin_operation("create", "c1")
    with pytest.raises(
        InvalidInput, match=r"parameter 'status'.*'finished'.*started, done, failed"
    ):
        journal.record(op, "h1", "x", "finished")
    with pytest.raises(InvalidInput, match="parameter 'status'"):
        journal.finish_operation(op, "running")
    with pytest.raises(InvalidInput, match="parameter 'target'"):
        journal.begin_operation("create", " ")
    with pytest.raises(NotFound, match="Operation '999'"):
        journal.record(999, "h1", "x", "started")
