"""Set-AksHciCluster -controlPlaneNodeCount, and the engine every spec change runs on.

A change (a pool's count or VM size, a pool added or removed, the control-plane count) is first
recorded in the store in one validated transaction (aksnet.state.store: refused before anything
changes), then the cluster is converged to the recorded spec:

1. **Remove nodes** (journal kind 'scale', target the cluster): the cluster's VMs that the spec
   no longer has, highest-numbered first: control planes `<cluster>-cp-<i>` with i >= the count,
   pool VMs `<cluster>-<pool>-<i>` with i >= the pool's count. For each: `kubectl drain NAME
   --ignore-daemonsets --delete-emptydir-data` and `kubectl delete node NAME` through the first
   control plane over SSH (only while `kubectl get nodes -o json` lists it), then the VM, its disk
   and seed ISO off whichever host has it (aksnet.cluster.remove.remove_vm), then its address and
   MAC released in the store. Which VMs are surplus is derived from the store every time, so a
   killed run, run again, finishes the job; a second run finds nothing to do.
2. **Create what is missing**: aksnet.cluster.create.create_cluster with the recorded spec
   (it provisions and joins the VMs the spec has and the hosts lack; zero actions otherwise).
3. **Replace nodes** (Set-AksHciNodePool -vmSize only): one VM at a time, a VM of the pool whose
   processors or memory on its host differ from the pool's size is drained, deleted and removed
   as in step 1 but keeps its address and MAC, then create_cluster makes it again and joins it.

What-if runs the same code against a scratch copy of the store and of the cluster's key folder,
under the runner's dry run: it lists every action and changes nothing anywhere.

A departing control plane leaves the stacked etcd between its drain and its `kubectl delete
node`, before its VM goes (`kubeadm reset --force` on it, or `etcdctl member remove` from the
first control plane when it does not answer; aksnet.cluster.etcd), one at a time, highest first.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aksnet.cluster import records
from aksnet.cluster.cni import ADMIN_KUBECONFIG
from aksnet.cluster.create import CreateOptions, CreateResult, check_supported, create_cluster
from aksnet.cluster.etcd import PROBE_RETRY, leave_etcd
from aksnet.cluster.hosts import HostConnections, close_all
from aksnet.cluster.keys import ClusterKeys
from aksnet.cluster.remove import owned_vm_fact, remove_vm
from aksnet.errors import InvalidInput, ProtocolError, StateConflict
from aksnet.infra.linuxfacts import sudo
from aksnet.infra.macpool import colon_form
from aksnet.infra.provision import DEFAULT_ROOT
from aksnet.model.cluster import ClusterSpec
from aksnet.plan import RunResult, apply, dry_run
from aksnet.plan.facts import Forecast
from aksnet.plan.journal import StoreJournal
from aksnet.plan.runner import ActionRecord, RunContext
from aksnet.remote.base import PowerShellSession
from aksnet.remote.ssh import SSHSession
from aksnet.state.lease import Holder, Leases
from aksnet.state.macs import macs_of, release_macs
from aksnet.state.store import Store

RESERVED_POOL_NAMES = ("cp",)  # <cluster>-cp-<i> names the control-plane VMs
_INDEXED = re.compile(r"^(?P<prefix>.+-)(?P<index>\d+)$")


@dataclass(frozen=True)
class SurplusVm:
    """A VM the cluster holds a MAC and/or a node address for, and its spec no longer has."""

    name: str
    mac: int | None
    address: str | None
    learnt: bool = False  # the address is the one its host reported (DHCP), not an allocation


@dataclass(frozen=True)
class Replacement:
    """A VM to make again (its VM size changed), where it runs now."""

    vm: SurplusVm
    host: str
    size: str


ReplaceFinder = Callable[[Store, ClusterSpec, HostConnections], list[Replacement]]


@dataclass
class ScaleResult:
    """The runs of one change, in order: removals, the create, and per replaced VM its removal
    and the create that re-made it (`create` is the last create: the cluster's nodes now)."""

    name: str
    runs: list[RunResult]
    create: CreateResult
    removed: list[str]
    replaced: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def what_if(self) -> bool:
        return self.create.run.dry_run

    @property
    def resumed(self) -> bool:
        """Whether the first run continued an operation a killed or failed run left open."""
        return self.runs[0].resumed

    def to_dict(self) -> dict[str, Any]:
        created = self.create.to_dict()
        records_ = [r for run in self.runs for r in run.records]
        return {
            "Name": self.name,
            "WhatIf": self.what_if,
            "Actions": [{"Host": r.host, "Title": r.title, "Outcome": r.outcome} for r in records_],
            "Changes": sum(len(run.changes) for run in self.runs),
            "RemovedNodes": self.removed,
            "ReplacedNodes": self.replaced,
            "Nodes": created["Nodes"],
            "Warnings": [*self.warnings, *created["Warnings"]],
        }


def set_control_plane_count(
    store: Store,
    name: str,
    count: int,
    hosts: HostConnections,
    *,
    what_if: bool = False,
    options: CreateOptions | None = None,
) -> ScaleResult:
    """Set-AksHciCluster -name -controlPlaneNodeCount (1, 3 or 5)."""

    def change(target: Store) -> ClusterSpec:
        return target.set_control_plane_count(
            name, count, check=lambda s: check_supported(s, target)
        )

    return change_and_converge(store, name, change, hosts, what_if=what_if, options=options)


def change_and_converge(
    store: Store,
    name: str,
    change: Callable[[Store], ClusterSpec],
    hosts: HostConnections,
    *,
    what_if: bool = False,
    options: CreateOptions | None = None,
    warnings: Sequence[str] = (),
    to_replace: ReplaceFinder | None = None,
) -> ScaleResult:
    """Record the change (validated; refused before anything changes), then converge to it.

    With what_if both happen on a scratch copy of the store and the cluster's keys."""
    options = options or CreateOptions()
    refuse_while_removing(store, name)
    if not what_if:
        refuse_while_another_run(store, name)
    if not hosts.endpoints:
        raise InvalidInput("hosts", [], "changing a cluster needs at least one Hyper-V host.")
    if what_if:
        with scratch_copy(store, name) as scratch:
            spec = change(scratch)
            return converge(
                scratch,
                spec,
                hosts,
                what_if=True,
                options=options,
                warnings=warnings,
                to_replace=to_replace,
            )
    spec = change(store)
    return converge(
        store,
        spec,
        hosts,
        what_if=False,
        options=options,
        warnings=warnings,
        to_replace=to_replace,
    )


def refuse_while_removing(store: Store, name: str) -> None:
    state = records.state_of(store, name)
    if state == records.REMOVING:
        raise StateConflict(
            f"Cluster '{name}' is being removed; run Remove-AksHciCluster again to finish.",
            target=name,
        )


def refuse_while_another_run(store: Store, name: str) -> None:
    """StateConflict, naming the holder, while another run holds the cluster's lease (a create,
    a removal or another change): checked before the change is recorded, so a refused change
    changes nothing. Each phase run then holds the lease itself (StoreJournal)."""
    leases, holder = Leases(store), Holder.this_run()
    leases.acquire(name, holder)
    leases.release(name, holder)


def converge(
    store: Store,
    spec: ClusterSpec,
    hosts: HostConnections,
    *,
    what_if: bool,
    options: CreateOptions,
    warnings: Sequence[str] = (),
    to_replace: ReplaceFinder | None = None,
) -> ScaleResult:
    """Remove the VMs the recorded spec no longer has, then create what it lacks; then, one VM
    at a time, replace those `to_replace` finds (drain, delete, remove the VM keeping its
    address and MAC, create it again)."""
    surplus = surplus_vms(store, spec)
    removal = remove_nodes(store, spec, surplus, hosts, what_if=what_if, options=options)
    created = create_cluster(store, spec, hosts, what_if=what_if, options=options)
    result = ScaleResult(
        spec.name, [removal, created.run], created, [vm.name for vm in surplus], [], list(warnings)
    )
    for vm in to_replace(store, spec, hosts) if to_replace is not None else []:
        run = remove_nodes(store, spec, [vm.vm], hosts, what_if=what_if, options=options, keep=True)
        result.runs.append(run)
        result.replaced.append(vm.vm.name)
        if what_if:  # the VM still runs in a what-if, so create's plan cannot list it
            title = f"New-VM {vm.vm.name} again with VM size {vm.size} (joins again)"
            result.runs.append(RunResult(True, [ActionRecord(vm.host, title, "create", "planned")]))
            continue
        result.create = create_cluster(store, spec, hosts, options=options)
        result.runs.append(result.create.run)
    return result


def surplus_vms(store: Store, spec: ClusterSpec) -> list[SurplusVm]:
    """The cluster's VMs above its counts (by the VM naming of aksnet.infra.provision),
    highest-numbered first. VMs of other kinds (say, load balancers) are never surplus."""
    limits = {f"{spec.name}-cp-": spec.control_plane_node_count}
    limits.update({f"{spec.name}-{p.name}-".lower(): p.count for p in spec.node_pools})
    macs = {m.owner: m.mac for m in macs_of(store, cluster=spec.name)}
    addresses = {
        a.owner: str(a.address)
        for a in store.allocations(spec.vnet, cluster=spec.name)
        if a.owner_kind == "vm"
    }
    learnt = store.learnt_addresses(cluster=spec.name)
    found: list[tuple[int, str]] = []
    for vm in set(macs) | set(addresses):
        match = _INDEXED.match(vm)
        if match and int(match["index"]) >= limits.get(match["prefix"], 1 << 30):
            found.append((int(match["index"]), vm))
    ordered = sorted(found, key=lambda item: (-item[0], item[1]))
    return [
        SurplusVm(vm, macs.get(vm), addresses.get(vm) or learnt.get(vm), vm not in addresses)
        for _, vm in ordered
    ]


def remove_nodes(
    store: Store,
    spec: ClusterSpec,
    surplus: Sequence[SurplusVm],
    hosts: HostConnections,
    *,
    what_if: bool,
    options: CreateOptions,
    keep: bool = False,
) -> RunResult:
    """The "Remove nodes" phase (journal kind 'scale'); keep: the VMs' addresses and MACs stay
    theirs (a replacement), else they are released."""
    if not surplus:
        return RunResult(what_if)
    keys = ClusterKeys.beside(store.path, spec.name)
    first = first_control_plane(store, spec, keys, options.admin_user, hosts, options.root)
    sessions = hosts.open()
    try:
        phase = RemoveNodes(store, surplus, first, sessions, options.root, keys, keep=keep)
        if what_if:
            return dry_run([phase], listeners=options.listeners)
        with StoreJournal(store.path, kind="scale", target=spec.name) as journal:
            return apply([phase], journal=journal, listeners=options.listeners)
    finally:
        first.shell.close()
        close_all(sessions)


@dataclass
class ControlPlaneShell:
    """The first control plane, where kubectl runs with the admin kubeconfig."""

    name: str
    address: str
    shell: SSHSession


def first_control_plane(
    store: Store,
    spec: ClusterSpec,
    keys: ClusterKeys,
    admin_user: str,
    hosts: HostConnections | None = None,
    root: str = DEFAULT_ROOT,
) -> ControlPlaneShell:
    """An SSH session to `<cluster>-cp-0` with the admin key, its host key pinned first. Its
    address is the store's (static model), else the one its host reports now, else the one it
    reported when it was learnt (DHCP model; recorded in the store)."""
    name = f"{spec.name}-cp-0"
    held = [
        str(a.address)
        for a in store.allocations(spec.vnet, cluster=spec.name)
        if a.owner_kind == "vm" and a.owner == name
    ]
    address = held[0] if held else None
    if address is None and hosts is not None:
        address = reported_address(store, spec, name, hosts, root)
    if address is None:
        address = store.learnt_addresses(cluster=spec.name).get(name)
    if address is None:
        raise StateConflict(
            f"No address is known for {name}, the first control plane of cluster "
            f"'{spec.name}': create the cluster first (New-AksHciCluster), or, in the DHCP "
            "model, start its VM.",
            target=spec.name,
        )
    known_hosts = keys.known_hosts
    known_hosts.pin(address, 22, keys.host_key(name).public_line)
    shell = SSHSession(
        address,
        username=admin_user,
        private_key=keys.admin().to_paramiko(),
        known_hosts=known_hosts,
    )
    return ControlPlaneShell(name, address, shell)


def reported_address(
    store: Store, spec: ClusterSpec, vm: str, hosts: HostConnections, root: str
) -> str | None:
    """The first IPv4 address the VM's host reports for it (Get-VMNetworkAdapter), as
    aksnet.infra.provision learns DHCP addresses; None when no host has it running."""
    macs = {m.owner: m.mac for m in macs_of(store, cluster=spec.name)}
    if vm not in macs:
        return None
    sessions = hosts.open()
    try:
        fact = owned_vm_fact(sessions, vm, macs[vm], root)
        for host in sorted(sessions):
            found = fact.read(host).vm
            if found is not None and found.ip_addresses:
                return found.ip_addresses[0]
    finally:
        close_all(sessions)
    return None


class RegisteredNodes:
    """The node names the cluster's API server lists (`kubectl get nodes -o json`)."""

    key = "k8s:nodes"

    def __init__(self, shell: SSHSession) -> None:
        self.shell = shell

    def read(self, host: str) -> tuple[str, ...] | None:
        out = sudo(
            self.shell, "kubectl", "--kubeconfig", ADMIN_KUBECONFIG, "get", "nodes", "-o", "json"
        )
        try:
            items = json.loads(out.text)["items"]
            return tuple(str(item["metadata"]["name"]) for item in items)
        except (ValueError, KeyError, TypeError) as error:
            raise ProtocolError(host, "kubectl get nodes -o json: not a NodeList") from error


class RemoveNodes:
    """Per surplus VM, one at a time (a rolling scale-down: each drain leaves the pods room on
    the nodes that stay): drain and delete the node, remove the VM, free its address and MAC.
    The store's release is an action too (host "store"), so a what-if lists it."""

    def __init__(
        self,
        store: Store,
        surplus: Sequence[SurplusVm],
        first: ControlPlaneShell,
        sessions: Mapping[str, PowerShellSession],
        root: str,
        keys: ClusterKeys,
        *,
        keep: bool = False,
    ) -> None:
        self.store, self.surplus, self.first = store, list(surplus), first
        self.sessions, self.root, self.keys, self.keep = sessions, root, keys, keep
        self.title = "Replace nodes" if keep else "Remove nodes"
        self.cluster = first.name.removesuffix("-cp-0")

    def prepare(self, ctx: RunContext) -> bool:
        return bool(self.surplus)

    def run(self, ctx: RunContext) -> None:
        for vm in self.surplus:
            self._leave_cluster(ctx, vm)
            if vm.mac is not None:  # no MAC: its VM was never created
                for host in sorted(self.sessions):
                    remove_vm(ctx, self.sessions, host, vm.name, vm.mac, self.root)
            if not self.keep:
                self._release(ctx, vm)

    def _leave_cluster(self, ctx: RunContext, vm: SurplusVm) -> None:
        cp, shell, name = self.first.name, self.first.shell, vm.name
        nodes = RegisteredNodes(shell)
        registered = ctx.fact(cp, nodes) or ()
        if name in registered:
            ctx.wet(
                cp,
                f"kubectl drain {name} --ignore-daemonsets --delete-emptydir-data through {cp}",
                lambda: _kubectl(
                    shell, "drain", name, "--ignore-daemonsets", "--delete-emptydir-data"
                ),
                kind="run",
            )
        if name.startswith(f"{self.cluster}-cp-"):
            self._leave_etcd(ctx, vm)
        if name not in registered:
            return

        def forget(forecast: Forecast) -> None:
            forecast.set(cp, nodes, tuple(n for n in registered if n != name))

        ctx.wet(
            cp,
            f"kubectl delete node {name} through {cp}",
            lambda: _kubectl(shell, "delete", "node", name),
            forget,
            kind="delete",
        )

    def _leave_etcd(self, ctx: RunContext, vm: SurplusVm) -> None:
        """The departing control plane's etcd member leaves (aksnet.cluster.etcd)."""
        # A learnt (DHCP) address may have changed since: the one its host reports comes first.
        address = (self._reported_address(vm) or vm.address) if vm.learnt else vm.address
        shell = self.first.shell
        node_shell = self._node_shell(vm.name, address) if address else None
        try:
            leave_etcd(ctx, vm.name, node_shell, self.first.name, shell)
        finally:
            if node_shell is not None:
                node_shell.close()

    def _node_shell(self, name: str, address: str) -> SSHSession:
        """SSH to a departing node with the admin key, its host key pinned; quick to give up."""
        self.keys.known_hosts.pin(address, 22, self.keys.host_key(name).public_line)
        return SSHSession(
            address,
            username=self.first.shell.username,
            private_key=self.keys.admin().to_paramiko(),
            known_hosts=self.keys.known_hosts,
            retry=PROBE_RETRY,
            connect_timeout=5.0,
        )

    def _reported_address(self, vm: SurplusVm) -> str | None:
        if vm.mac is None:
            return None
        fact = owned_vm_fact(self.sessions, vm.name, vm.mac, self.root)
        for host in sorted(self.sessions):
            found = fact.read(host).vm
            if found is not None and found.ip_addresses:
                return found.ip_addresses[0]
        return None

    def _release(self, ctx: RunContext, vm: SurplusVm) -> None:
        kind = "learnt address" if vm.learnt else "address"
        held = [f"{kind} {vm.address}"] if vm.address else []
        held += [f"MAC {colon_form(vm.mac)}"] if vm.mac is not None else []

        def release() -> None:
            if vm.address:
                self.keys.known_hosts.unpin(vm.address, 22)
            self.store.release_owner("vm", vm.name)
            release_macs(self.store, owner=vm.name)

        ctx.wet("store", f"Release {' and '.join(held)} of {vm.name}", release, kind="delete")


def _kubectl(shell: SSHSession, *argv: str) -> None:
    sudo(shell, "kubectl", "--kubeconfig", ADMIN_KUBECONFIG, *argv)


@contextmanager
def scratch_copy(store: Store, cluster: str) -> Iterator[Store]:
    """A private copy of the store, with the cluster's key folder beside it, deleted afterwards
    (a what-if records its change there and plans against it)."""
    with tempfile.TemporaryDirectory(prefix="aksnet-whatif-") as folder:
        path = Path(folder) / "aksnet.db"
        source, target = sqlite3.connect(store.path), sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        keys = ClusterKeys.beside(store.path, cluster)
        if keys.folder.is_dir():
            shutil.copytree(keys.folder, ClusterKeys.beside(path, cluster).folder)
        with Store(path) as scratch:
            yield scratch
