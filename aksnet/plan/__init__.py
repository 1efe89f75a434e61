"""Desired state -> ordered phases -> actions, executed or planned by one runner.

Phases read facts (read-only typed queries of a host, re-read before every decision) and yield
actions (one mutation each, with a human title). Every mutation passes one gate,
`RunContext.wet`, which either does it (journaled before and after) or, in a dry run, records it
and simulates its effect so later phases plan against the predicted state. Nothing here knows
about Hyper-V, PowerShell or SSH: those plug in as facts, actions and phases.

A phase, in short::

    class StartVMs:
        title = "Start VMs"

        def prepare(self, ctx: RunContext) -> bool:
            return True

        def run(self, ctx: RunContext) -> Iterator[Action]:
            for vm in self.vms:
                state = VMState(vm.name)  # a Fact[str]
                if ctx.fact(vm.host, state) != "Running":  # read now, never cached
                    yield Action(
                        vm.host,
                        f"Start-VM {vm.name} on host {vm.host}",
                        do=lambda vm=vm: self.start(vm),
                        simulate=lambda f, vm=vm: f.set(vm.host, VMState(vm.name), "Running"),
                    )

    # The journal holds the target's run lease (aksnet.state.lease) while it is open: a second
    # run of "c1" gets StateConflict naming the holder. A dry run takes no lease.
    with StoreJournal(store_path, kind="create", target="c1") as journal:
        result = apply(phases, journal=journal, listeners=[progress_bar])
    print(format_result(result))  # "no changes were needed: 0 actions performed" the second time
    print(format_plan(dry_run(phases)))  # the -WhatIf view; touches nothing
"""

from aksnet.plan.actions import Action
from aksnet.plan.facts import Fact, Forecast
from aksnet.plan.phases import Phase, Phases
from aksnet.plan.progress import ProgressEvent, ProgressListener, RecordingListener
from aksnet.plan.report import format_plan, format_result
from aksnet.plan.runner import RunContext, RunResult, apply, dry_run

__all__ = [
    "Action",
    "Fact",
    "Forecast",
    "Phase",
    "Phases",
    "ProgressEvent",
    "ProgressListener",
    "RecordingListener",
    "RunContext",
    "RunResult",
    "apply",
    "dry_run",
    "format_plan",
    "format_result",
]
