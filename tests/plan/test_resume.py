"""Resume: a run killed with SIGKILL at several points is continued by the next run and converges.

The child process applies the fake phases with a journal in a real SQLite store and blocks at a
chosen effect; the parent kills it there with SIGKILL, resumes, and checks that every effect
happened exactly once (the fleet's `effects` log would show a duplicate) and the store has no
operation left open.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet.plan import apply, format_result
from aksnet.plan.journal import StoreJournal
from aksnet.state.journal import OperationJournal
from aksnet.state.store import Store
from tests.plan.fakehost import HOSTS, Fleet, expected_effects, phases

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def spawn() -> Iterator[list[subprocess.Popen[bytes]]]:
    children: list[subprocess.Popen[bytes]] = []
    yield children
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()


def run_child_until(
    spawn: list[subprocess.Popen[bytes]], tmp: Path, effect: str, when: str
) -> None:
    marker = tmp / "reached"
    args = [str(tmp / "aksnet.db"), str(tmp / "fleet.json"), effect, when, str(marker)]
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.plan.killed_child", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    spawn.append(child)
    deadline = time.monotonic() + 60
    while not marker.exists():
        if child.poll() is not None:
            err = child.stderr.read().decode() if child.stderr else ""
            pytest.fail(f"child ended early: {err}")
        if time.monotonic() > deadline:
            pytest.fail(f"child did not reach {effect} {when}")
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL


def open_operations(store_path: Path) -> list[int]:
    with Store(store_path) as store:
        return [op.id for op in OperationJournal(store).open_operations("c1")]


@pytest.mark.parametrize(
    ("effect", "when"),
    [
        ("file:h1:a.conf", "before"),  # journaled 'started', effect not applied
        ("file:h2:b.conf", "after"),  # effect applied, not journaled 'done'
        ("mark:h1", "before"),  # the once-only init on h1 completed: must not run again
        ("start:h2:web", "after"),
    ],
)
def test_kill_minus_9_then_resume_converges_without_duplicates(
    tmp_path: Path, spawn: list[subprocess.Popen[bytes]], effect: str, when: str
) -> None:
    run_child_until(spawn, tmp_path, effect, when)
    assert len(open_operations(tmp_path / "aksnet.db")) == 1

    fleet = Fleet(tmp_path / "fleet.json", list(HOSTS))
    with StoreJournal(tmp_path / "aksnet.db", kind="create", target="c1") as journal:
        resumed = apply(phases(fleet), journal=journal)
    assert resumed.resumed
    assert f"resumed operation {resumed.operation}" in format_result(resumed)
    assert sorted(fleet.state()["effects"]) == expected_effects()
    assert open_operations(tmp_path / "aksnet.db") == []

    with StoreJournal(tmp_path / "aksnet.db", kind="create", target="c1") as journal:
        again = apply(phases(fleet), journal=journal)
    assert not again.resumed and again.changes == []


def test_once_only_action_completed_before_the_kill_is_skipped(
    tmp_path: Path, spawn: list[subprocess.Popen[bytes]]
) -> None:
    run_child_until(spawn, tmp_path, "mark:h1", "before")
    fleet = Fleet(tmp_path / "fleet.json", list(HOSTS))
    with StoreJournal(tmp_path / "aksnet.db", kind="create", target="c1") as journal:
        resumed = apply(phases(fleet), journal=journal)
    skipped = [(r.host, r.title) for r in resumed.records if r.outcome == "skipped"]
    assert skipped == [
        ("h1", "kubeadm init on h1 --token <23 characters>"),
        ("h2", "kubeadm init on h2 --token <23 characters>"),
    ]
    assert "Completed by the interrupted run, not redone:" in format_result(resumed)


def test_journal_never_holds_the_secret(tmp_path: Path) -> None:
    fleet = Fleet(tmp_path / "fleet.json", list(HOSTS))
    with StoreJournal(tmp_path / "aksnet.db", kind="create", target="c1") as journal:
        apply(phases(fleet), journal=journal)
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("aksnet.db*"))
    assert b"kubeadm init on h1 --token <23 characters>" in raw
    assert b"abcdef.0123456789abcdef" not in raw
