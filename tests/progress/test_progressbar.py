"""The CLI's progress bars: what a person sees for a run's events, on a terminal and in a log."""

from __future__ import annotations

import io

from aksnet.plan import Phase, RunContext, apply
from aksnet.plan.progress import (
    ActionFinished,
    ActionStarted,
    PhaseFinished,
    PhaseStarted,
    ProgressEvent,
)
from aksnet.progressbar import ProgressBars

EVENTS: list[ProgressEvent] = [
    PhaseStarted("Provision VMs", 1, 2),
    ActionStarted("hci1", "New-VM c1-cp-0"),
    ActionStarted("hci2", "New-VM c1-linux-0"),
    ActionFinished("hci1", "New-VM c1-cp-0", "done"),
    ActionFinished("hci2", "New-VM c1-linux-0", "failed", "boom"),
    PhaseFinished("Provision VMs", "failed"),
]


def test_a_log_gets_one_plain_line_per_phase_and_finished_action() -> None:
    out = io.StringIO()
    bars = ProgressBars(out, interactive=False)
    for event in EVENTS:
        bars.on_event(event)
    assert out.getvalue().splitlines() == [
        "[1/2] Provision VMs ...",
        "    ok     hci1: New-VM c1-cp-0",
        "    FAILED hci2: New-VM c1-linux-0",
        "[1/2] Provision VMs: failed (2 actions, 1 failed)",
    ]
    assert "\r" not in out.getvalue()


def test_a_terminal_gets_a_bar_redrawn_in_place_that_fills_as_actions_finish() -> None:
    out = io.StringIO()
    bars = ProgressBars(out, interactive=True)
    for event in EVENTS[:4]:
        bars.on_event(event)
    frames = out.getvalue().split("\r\x1b[2K")[1:]
    assert frames[0] == "[1/2] Provision VMs  [----------------]  0/0 actions"
    assert frames[2].startswith("[1/2] Provision VMs  [----------------]  0/2 actions")
    assert frames[3].startswith("[1/2] Provision VMs  [########--------]  1/2 actions  hci1:")
    assert "\n" not in out.getvalue()  # nothing scrolls until the phase ends


class _TwoActions:
    title = "Set up"

    def prepare(self, ctx: RunContext) -> bool:
        return True

    def run(self, ctx: RunContext) -> None:
        for name in ("a", "b"):
            ctx.wet(name, f"configure {name}", do=lambda: None)


def test_the_runner_numbers_its_phases_for_the_bars() -> None:
    out = io.StringIO()
    phases: list[Phase] = [_TwoActions(), _TwoActions()]
    apply(phases, listeners=[ProgressBars(out, interactive=False)])
    lines = out.getvalue().splitlines()
    assert lines[0] == "[1/2] Set up ..."
    assert "[2/2] Set up: done (2 actions)" in lines
