"""The real `aksnet` CLI as a child process on a test's lab and store, for the kill -9 tests:
start it, watch the store's journal (read-only, so the child's writes are not held up), and
SIGKILL it once a journal row exists. The child always ends before the test goes on."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.labcluster import Fabric

REPO = Path(__file__).resolve().parents[1]
# The CLI's main, called as the `aksnet` console script calls it.
CLI_MAIN = "import sys; from aksnet.cli import main; sys.exit(main(sys.argv[1:]))"
DEADLINE = 180.0  # for the child to reach a point; lab runs under load can be slow


def journal_has(store_path: Path, condition: str) -> bool:
    """Whether the store's journal has a row matching the SQL condition."""
    with sqlite3.connect(f"file:{store_path}?mode=ro", uri=True) as conn:
        return bool(conn.execute(f"SELECT 1 FROM journal WHERE {condition}").fetchall())


@contextmanager
def cli_child(fabric: Fabric, args: list[str], name: str = "child") -> Iterator[ChildRun]:
    """`aksnet <args> --store <the test's store> --lab-dir <the lab>` running; its stderr goes to
    <tmp>/<name>.err. Killed (if still running) and reaped when the block ends."""
    err = fabric.tmp / f"{name}.err"
    argv = [sys.executable, "-c", CLI_MAIN, *args, "--store", str(fabric.store.path)]
    argv += ["--lab-dir", str(fabric.lab.lab_dir)]
    with err.open("wb") as stderr:
        child = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        yield ChildRun(child, err)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=60)


class ChildRun:
    """A running CLI child and the file its stderr goes to."""

    def __init__(self, process: subprocess.Popen[bytes], err: Path) -> None:
        self.process, self.err = process, err

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        """Poll condition until it holds; fail if the child ends first or DEADLINE passes."""
        deadline = time.monotonic() + DEADLINE
        while not condition():
            assert self.process.poll() is None, (
                f"the child ended before {what}: {self.err.read_text()}"
            )
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL the child and check that this is how it ended."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=60)
        assert self.process.returncode == -signal.SIGKILL


def kill_when_journaled(fabric: Fabric, args: list[str], condition: str) -> int:
    """Run `aksnet <args>` and SIGKILL it once the journal has a row matching condition;
    returns the killed child's pid."""
    with cli_child(fabric, args) as child:
        child.wait_for(lambda: journal_has(fabric.store.path, condition), condition)
        child.kill()
        return child.pid
