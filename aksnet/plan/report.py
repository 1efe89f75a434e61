"""Human-readable summaries of a run: the dry-run plan grouped by host, and what an apply did.

The wording follows k0sctl: a plan lists the actions per host or ends with "no changes would be
made"; an apply that found nothing to do says so, which is how a user sees that a second apply of
the same spec was a no-op. Titles in records are already masked.
"""

from __future__ import annotations

from aksnet.plan.runner import ActionRecord, RunResult

NO_PLANNED_CHANGES = "no changes would be made"
NO_CHANGES_MADE = "no changes were needed: 0 actions performed"


def format_plan(result: RunResult) -> str:
    """The what-if printout: planned actions grouped by host, in the order they would run."""
    planned = result.changes
    if not planned:
        return NO_PLANNED_CHANGES
    lines = ["Planned actions (dry run, nothing was changed):"]
    lines += _by_host(planned)
    hosts = len({r.host for r in planned})
    lines.append(f"{len(planned)} action(s) on {hosts} host(s) would be performed")
    return "\n".join(lines)


def format_result(result: RunResult) -> str:
    """What an apply did; names actions skipped because an earlier, resumed run completed them."""
    if result.dry_run:
        return format_plan(result)
    done = result.changes
    skipped = [r for r in result.records if r.outcome == "skipped"]
    lines: list[str] = []
    if result.resumed:
        lines.append(f"resumed operation {result.operation}")
    if done:
        lines.append("Performed actions:")
        lines += _by_host(done)
    if skipped:
        lines.append("Completed by the interrupted run, not redone:")
        lines += _by_host(skipped)
    if not done:
        lines.append(NO_CHANGES_MADE)
    else:
        lines.append(f"{len(done)} action(s) on {len({r.host for r in done})} host(s) performed")
    return "\n".join(lines)


def _by_host(records: list[ActionRecord]) -> list[str]:
    lines: list[str] = []
    for host in dict.fromkeys(r.host for r in records):
        lines.append(f"  {host}:")
        lines += [f"    - {r.title}" for r in records if r.host == host]
    return lines
