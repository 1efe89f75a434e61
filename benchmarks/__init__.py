"""Benchmarks: each prints a table of measured numbers and ratios; none is a test.

Results go to benchmarks/results/, or to the folder AKSNET_BENCH_RESULTS names (the tests of the
benchmarks use that, so that a check never overwrites the recorded numbers).
"""

from __future__ import annotations

import os
from pathlib import Path

RESULTS_ENV = "AKSNET_BENCH_RESULTS"


def results_dir() -> Path:
    """Where results are written (made if missing)."""
    folder = Path(os.environ.get(RESULTS_ENV) or Path(__file__).parent / "results")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
