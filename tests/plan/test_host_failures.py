"""Per-host failures stay per host: HostFailures keyed by host, the other hosts complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from aksnet.errors import HostFailures, RemoteCommandFailed
from aksnet.plan import RecordingListener, apply
from aksnet.plan.journal import StoreJournal
from aksnet.plan.progress import ActionFinished
from aksnet.state.journal import OperationJournal
from aksnet.state.store import Store
from tests.plan.fakehost import DESIRED, HOSTS, Fleet, Hook, phases


def fail_on(effect: str) -> Hook:
    def hook(reached: str, moment: str) -> None:
        if (reached, moment) == (effect, "before"):
            host = reached.split(":")[1]
            raise RemoteCommandFailed(host, "Set-Content b.conf", exit_status=1)

    return hook


def test_one_host_fails_the_other_completes(tmp_path: Path) -> None:
    fleet = Fleet(tmp_path / "fleet.json", list(HOSTS), fail_on("file:h2:b.conf"))
    listener = RecordingListener()
    with pytest.raises(HostFailures) as caught:
        apply(phases(fleet), listeners=[listener])
    assert set(caught.value.by_host) == {"h2"}
    error = caught.value.by_host["h2"]
    assert isinstance(error, RemoteCommandFailed) and error.host == "h2"
    assert "host: h2" in (error.__notes__ or [])
    assert "h2: h2: Set-Content b.conf failed" in str(caught.value)
    hosts = fleet.state()["hosts"]
    assert hosts["h1"]["files"] == DESIRED.files  # h1 finished its phase
    assert hosts["h2"]["files"] == {"a.conf": "A"}  # h2 stopped at its failure
    failed = [e for e in listener.events if isinstance(e, ActionFinished) and e.outcome == "failed"]
    assert [(e.host, e.title) for e in failed] == [("h2", "write b.conf on h2")]
    assert failed[0].detail is not None and "exit status 1" in failed[0].detail


def test_failed_run_is_journaled_and_resumed(tmp_path: Path) -> None:
    db = tmp_path / "aksnet.db"
    fleet = Fleet(tmp_path / "fleet.json", list(HOSTS), fail_on("file:h2:b.conf"))
    with StoreJournal(db, kind="create", target="c1") as journal, pytest.raises(HostFailures):
        apply(phases(fleet), journal=journal)
    with Store(db) as store:
        ops = OperationJournal(store)
        [op] = ops.open_operations("c1")
        assert op.status == "failed"
        failed = [e for e in ops.entries(op.id) if e.status == "failed"]
        assert [(e.host, e.action) for e in failed] == [("h2", "write b.conf on h2")]
    fleet.hook = None
    with StoreJournal(db, kind="create", target="c1") as journal:
        result = apply(phases(fleet), journal=journal)
    assert result.resumed and result.operation == op.id
    assert fleet.state()["hosts"]["h2"]["files"] == {**DESIRED.files, "initialized": "yes"}
