"""The report of a Test or Repair run: one row per check, a summary and a scheduler's exit code.

A row is ok, drift (observed differs from desired), error (the check could not be made: the host
did not answer, and why), foreign (an object aksnet did not create, reported and left alone) or
not-checked (a check that cannot be made yet, with the reason). Exit code: 0 when nothing is
drift or error, 1 when something drifted, 2 when some check could not be made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

OK, DRIFT, ERROR, FOREIGN, NOT_CHECKED = "ok", "drift", "error", "foreign", "not-checked"
STATUSES = (OK, DRIFT, ERROR, FOREIGN, NOT_CHECKED)


@dataclass(frozen=True)
class Row:
    cluster: str
    node: str
    check: str
    status: str
    observed: str = ""
    desired: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "Cluster": self.cluster,
            "Node": self.node,
            "Check": self.check,
            "Status": self.status,
            "Observed": self.observed,
            "Desired": self.desired,
        }


@dataclass
class Report:
    """What a run found (Test) or found and did (Repair: `actions`, each host and title)."""

    rows: list[Row] = field(default_factory=list)
    actions: list[tuple[str, str]] = field(default_factory=list)
    what_if: bool = False
    refused: list[str] = field(default_factory=list)  # clusters another run held

    def add(self, rows: Iterable[Row]) -> None:
        self.rows.extend(rows)

    def having(self, status: str) -> list[Row]:
        return [r for r in self.rows if r.status == status]

    @property
    def exit_code(self) -> int:
        if self.having(ERROR) or self.refused:
            return 2
        return 1 if self.having(DRIFT) else 0

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter(r.status for r in self.rows)
        return {status: counts.get(status, 0) for status in STATUSES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "Rows": [r.to_dict() for r in self.rows],
            "Summary": self.summary,
            "ExitCode": self.exit_code,
            "WhatIf": self.what_if,
            "Actions": [{"Host": h, "Title": t} for h, t in self.actions],
            "Refused": list(self.refused),
        }


def format_report(report: Report) -> str:
    """A plain table of the rows that are not ok, then the summary line."""
    lines = [
        f"{r.cluster:<12} {r.node:<24} {r.check:<28} {r.status:<11} "
        f"observed: {r.observed or '-'}; desired: {r.desired or '-'}"
        for r in report.rows
        if r.status != OK
    ]
    counts = ", ".join(f"{n} {s}" for s, n in report.summary.items() if n)
    lines.append(f"{len(report.rows)} checks: {counts or 'none'}; exit code {report.exit_code}")
    lines += [f"refused: {c} (another run holds its lease)" for c in report.refused]
    lines += [f"{'would do' if report.what_if else 'did'}: {t} ({h})" for h, t in report.actions]
    return "\n".join(lines)
