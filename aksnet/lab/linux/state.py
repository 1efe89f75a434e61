"""The lab's record of what it created (bridges, namespaces, veths, processes, node dirs).

Every name is written here before or right after it is created, so that sweep() can remove
everything after a crash. The file is rewritten atomically under an exclusive lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STATE_DIR = "linux"
STATE_FILE = "state.json"


def state_dir(lab_dir: Path) -> Path:
    return Path(lab_dir) / STATE_DIR


def _empty() -> dict[str, Any]:
    return {"bridges": {}, "nodes": {}, "next_index": 0}


def read(lab_dir: Path) -> dict[str, Any]:
    path = state_dir(lab_dir) / STATE_FILE
    if not path.exists():
        return _empty()
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@contextlib.contextmanager
def update(lab_dir: Path) -> Iterator[dict[str, Any]]:
    """Yield the state for changes; write it back atomically when the block ends."""
    folder = state_dir(lab_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "state.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = read(lab_dir)
        yield data
        tmp = folder / f"{STATE_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        os.replace(tmp, folder / STATE_FILE)
