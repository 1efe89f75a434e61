"""Child process for the lease tests: takes the lease of a target, says so, and blocks until killed.

Usage: python -m tests.lease.holder_child STORE TARGET TTL MARKER
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from aksnet.state.lease import HeldLease


def main(store: str, target: str, ttl: str, marker: str) -> None:
    with HeldLease(store, target, ttl=float(ttl)) as lease:
        Path(marker).write_text(lease.holder.run_id)
        threading.Event().wait()  # block until killed


if __name__ == "__main__":
    main(*sys.argv[1:5])
