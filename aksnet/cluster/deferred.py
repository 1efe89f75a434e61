"""A phase that needs running VMs, made plannable before the VMs exist.

In an apply the wrapped phase runs as it is. In a dry run its facts live on VMs that the
"Provision VMs" phase has only planned (a New-VM or Start-VM in this run's plan), so they cannot
be read: for each such VM the plan lists one action saying what the phase will do there once
the VM runs, instead of failing to connect. When every VM already runs, the dry run reads the
real facts like an apply, so a second what-if lists exactly the work still needed (none).

Later builds a phase only when it is first prepared, for phases whose nodes' addresses are
learnt while the VMs are provisioned (the DHCP model).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from aksnet.plan import Action, Phase
from aksnet.plan.runner import RunContext


class AfterVmsExist:
    """Wraps a phase whose work happens on the named VMs (its hosts are the VM names)."""

    def __init__(self, phase: Phase, vms: Sequence[str]) -> None:
        self.phase, self.vms = phase, list(vms)

    @property
    def title(self) -> str:
        return self.phase.title

    def prepare(self, ctx: RunContext) -> bool:
        if ctx.dry_run and self._pending(ctx):
            return True
        return self.phase.prepare(ctx)

    def run(self, ctx: RunContext) -> Iterable[Action] | None:
        pending = self._pending(ctx) if ctx.dry_run else []
        if not pending:
            return self.phase.run(ctx)
        for vm in self.vms:
            ctx.wet(vm, f"{self.title} on {vm} (once its VM runs)", _never_in_a_dry_run)
        return None

    def _pending(self, ctx: RunContext) -> list[str]:
        """The VMs this run plans to create or start: their facts do not exist yet."""
        planned = {r.title.split()[1] for r in ctx.records if r.title.startswith(_VM_VERBS)}
        return [vm for vm in self.vms if vm in planned]


_VM_VERBS = ("New-VM ", "Start-VM ")


def _never_in_a_dry_run() -> None:
    raise AssertionError("a deferred plan entry is only ever planned, never done")


class Later:
    """A phase built when it is first prepared: its nodes' addresses (DHCP) are learnt by
    "Provision VMs", which runs before it. Wrapped in AfterVmsExist, a dry run that plans the
    VMs never builds it."""

    def __init__(self, title: str, build: Callable[[], Phase]) -> None:
        self.title, self._build = title, build
        self._phase: Phase | None = None

    def prepare(self, ctx: RunContext) -> bool:
        return self.phase.prepare(ctx)

    def run(self, ctx: RunContext) -> Iterable[Action] | None:
        return self.phase.run(ctx)

    @property
    def phase(self) -> Phase:
        if self._phase is None:
            self._phase = self._build()
        return self._phase
