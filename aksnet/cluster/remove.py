"""Remove-AksHciCluster: the cluster's VMs, disks and seed ISOs off the hosts, then its addresses,
MACs, keys and record out of the store.

Ownership: a VM is the cluster's when the store holds a MAC allocation for its name under this
cluster AND the VM on the host has that MAC; a VM of the same name with another MAC is refused
(StateConflict), never removed. Per owned VM, on whichever host has it: Stop-VM -TurnOff (a
running VM cannot be removed), Remove-VM, and Remove-Item of its folder (configuration,
differencing disk, seed ISO); a folder left by a create stopped halfway is removed as well. Only
when every host is clean does the store forget the cluster: a failed remove can be run again.
Cluster VM roles are not removed here: create never adds them without delegation (see
aksnet.infra.provision), and a role aksnet did not add is not aksnet's to remove.

The load-balancer VMs (`<cluster>-lb-<i>`) hold MAC allocations under the cluster like the
nodes, so they are found and removed the same way, and their addresses are released with the
others. A real removal holds the cluster's run lease (aksnet.state.lease) from before it records
the state 'removing' until the store forgot the cluster: it never runs beside a create.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aksnet.cluster import records
from aksnet.cluster.hosts import HostConnections, close_all
from aksnet.cluster.keys import ClusterKeys
from aksnet.errors import StateConflict
from aksnet.infra.macpool import colon_form
from aksnet.infra.provision import DEFAULT_ROOT
from aksnet.infra.vms import VmFact, VmFacts, VmSpec
from aksnet.plan import ProgressListener, RunResult, apply, dry_run
from aksnet.plan.journal import StoreJournal
from aksnet.plan.parallel import HostWork
from aksnet.plan.runner import RunContext
from aksnet.remote.base import Cmdlet, PowerShellSession
from aksnet.state.lease import HeldLease
from aksnet.state.macs import macs_of, release_macs
from aksnet.state.store import Store


@dataclass
class RemoveResult:
    name: str
    run: RunResult
    released_addresses: list[str]
    released_macs: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "WhatIf": self.run.dry_run,
            "Actions": [
                {"Host": r.host, "Title": r.title, "Outcome": r.outcome} for r in self.run.records
            ],
            "ReleasedAddresses": self.released_addresses,
            "ReleasedMacs": self.released_macs,
        }


class FolderExists:
    """Test-Path of a folder on a host."""

    def __init__(self, session: PowerShellSession, folder: str) -> None:
        self.session, self.folder = session, folder
        self.key = f"folder:{folder.lower()}"

    def read(self, host: str) -> bool | None:
        found = self.session.invoke(Cmdlet.of("Test-Path", LiteralPath=self.folder))
        return True if found == [True] else None


class RemoveVms:
    """Per host in parallel: every owned VM stopped and removed, and its folder deleted."""

    title = "Remove VMs"

    def __init__(
        self, owned: Mapping[str, int], sessions: Mapping[str, PowerShellSession], root: str
    ) -> None:
        self.owned, self.sessions, self.root = dict(owned), sessions, root

    def prepare(self, ctx: RunContext) -> bool:
        return bool(self.owned)

    def run(self, ctx: RunContext) -> None:
        ctx.each_host([HostWork(h, self._worker(ctx, h)) for h in sorted(self.sessions)])

    def _worker(self, ctx: RunContext, host: str) -> Callable[[], None]:
        def remove_all() -> None:
            for name, mac in self.owned.items():
                remove_vm(ctx, self.sessions, host, name, mac, self.root)

        return remove_all


def owned_vm_fact(
    sessions: Mapping[str, PowerShellSession], name: str, mac: int, root: str = DEFAULT_ROOT
) -> VmFact:
    """The fact (VM, disk, ISO) of a VM aksnet made, by name, MAC and folder under root."""
    spec = VmSpec(name, 0, 0, mac, None, "", rf"{root}\{name}", "")
    return VmFact(sessions, spec, clustered=False)


def remove_vm(
    ctx: RunContext,
    sessions: Mapping[str, PowerShellSession],
    host: str,
    name: str,
    mac: int,
    root: str = DEFAULT_ROOT,
) -> None:
    """One VM off one host, if it is there and is ours (its MAC is the one aksnet allocated):
    Stop-VM -TurnOff when running, Remove-VM, then Remove-Item of its folder (configuration,
    differencing disk, seed ISO), also when only the folder was left by a create stopped halfway.
    Used by cluster removal and by scale-down (aksnet.cluster.scale)."""
    session, folder = sessions[host], rf"{root}\{name}"
    fact = owned_vm_fact(sessions, name, mac, root)
    found = ctx.fact(host, fact)
    vm = found.vm if found is not None else None
    if vm is not None:
        if vm.mac is not None and vm.mac != mac:
            raise StateConflict(
                f"VM '{name}' on host {host} has MAC {colon_form(vm.mac)}, not the "
                f"{colon_form(mac)} aksnet allocated: it is not this cluster's; not removed.",
                target=name,
            )
        if vm.state != "Off":
            ctx.wet(
                host,
                f"Stop-VM {name} on host {host} (turn off)",
                lambda: session.invoke(Cmdlet.of("Stop-VM", Name=name, TurnOff=True, Force=True)),
            )
        ctx.wet(
            host,
            f"Remove-VM {name} on host {host}",
            lambda: session.invoke(Cmdlet.of("Remove-VM", Name=name, Force=True)),
            lambda f: f.set(host, fact, VmFacts(None, False, None, False)),
            kind="delete",
        )
    gone = FolderExists(session, folder)
    if ctx.fact(host, gone):
        ctx.wet(
            host,
            f"Remove-Item {folder} (disk, seed ISO) on host {host}",
            lambda: session.invoke(
                Cmdlet.of("Remove-Item", LiteralPath=folder, Recurse=True, Force=True)
            ),
            lambda f: f.set(host, gone, None),
            kind="delete",
        )


def remove_cluster(
    store: Store,
    name: str,
    hosts: HostConnections,
    *,
    what_if: bool = False,
    root: str = DEFAULT_ROOT,
    listeners: Sequence[ProgressListener] = (),
) -> RemoveResult:
    """Remove the cluster from the hosts, then from the store; with what_if, plan only."""
    spec = store.get_cluster(name)  # NotFound for a cluster aksnet does not know
    owned = {m.owner: m.mac for m in macs_of(store, cluster=spec.name)}
    sessions = hosts.open()
    try:
        phase = RemoveVms(owned, sessions, root)
        if what_if:
            return RemoveResult(spec.name, dry_run([phase], listeners=listeners), [], [])
        with HeldLease(store.path, spec.name) as lease:
            records.set_state(store, spec.name, records.REMOVING)
            with StoreJournal(store.path, kind="remove", target=spec.name, lease=lease) as journal:
                run = apply([phase], journal=journal, listeners=listeners)
            lease.check()  # another run took the cluster over: leave the store to it
            return _forget(store, spec.name, run, owned)
    finally:
        close_all(sessions)


def _forget(store: Store, name: str, run: RunResult, owned: Mapping[str, int]) -> RemoveResult:
    """The cluster out of the store (addresses, MACs, record) and its keys deleted."""
    addresses = [str(a.address) for a in store.allocations(cluster=name)]
    store.remove_cluster(name)
    release_macs(store, cluster=name)
    ClusterKeys.beside(store.path, name).forget()
    macs = [colon_form(mac) for mac in sorted(owned.values())]
    return RemoveResult(name, run, addresses, macs)
