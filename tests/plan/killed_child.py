"""Child process for the kill -9 test: applies the fake phases and blocks at one effect.

Usage: python -m tests.plan.killed_child STORE STATE EFFECT WHEN MARKER
It writes MARKER when the run reaches EFFECT (WHEN: 'before' or 'after' the effect is applied)
and then blocks until the parent kills it with SIGKILL.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from aksnet.plan.journal import StoreJournal
from aksnet.plan.runner import apply
from tests.plan.fakehost import HOSTS, Fleet, phases


def main(store: str, state: str, effect: str, when: str, marker: str) -> None:
    def hook(reached: str, moment: str) -> None:
        if (reached, moment) == (effect, when):
            Path(marker).write_text(f"{reached} {moment}")
            threading.Event().wait()  # block until killed

    fleet = Fleet(Path(state), HOSTS, hook)
    with StoreJournal(store, kind="create", target="c1") as journal:
        apply(phases(fleet), journal=journal, per_host=1)


if __name__ == "__main__":
    main(*sys.argv[1:6])
