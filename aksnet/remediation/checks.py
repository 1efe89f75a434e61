"""The checks create does not make, as one phase: read through RunContext.fact, fixed through
RunContext.wet, so Test (a dry run) and Repair (an apply) run the same code.

Per cluster: each VM aksnet created (its name and the MAC recorded in the store) found on one
host, and each of its adapters connected to the network setting's switch with its access VLAN
(create converges these only on a VM that is off, when it starts it); VMs named like the
cluster's that aksnet did not record, and HNS networks on its Windows nodes that aksnet does not
make (reported `foreign`, never touched); every address the store holds for the cluster owned by
a live object (a VM of the cluster, the cluster's API VIP) - an orphan is released from the
store. A VM whose MAC is not the recorded one is not aksnet's: reported foreign, not changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from aksnet.cluster.records import API_VIP_OWNER_KIND
from aksnet.infra.macpool import colon_form
from aksnet.loadbalancer.heldvips import HeldAddresses
from aksnet.loadbalancer.services import OWNER_KIND
from aksnet.plan import RunContext
from aksnet.plan.parallel import HostWork
from aksnet.remediation.inventory import Adapter, HostInventory, HostVm, hns_network_names
from aksnet.remediation.report import DRIFT, ERROR, FOREIGN, NOT_CHECKED, OK, Row
from aksnet.remote.base import Cmdlet, PowerShellSession, ShellSession
from aksnet.state.store import Allocation, Store

log = logging.getLogger(__name__)

STORE = "store"  # the "host" of actions that change only the store


@dataclass(frozen=True)
class Expected:
    """One cluster's desired state: its VMs (name -> MAC), Windows VMs, switch and VLAN."""

    cluster: str
    network: str
    vms: Mapping[str, int]
    windows: Sequence[str]
    load_balancers: Sequence[str]
    switch: str
    vlan_id: int | None
    hns_networks: Sequence[str]  # the HNS networks aksnet makes on its Windows nodes


@dataclass
class ClusterChecks:
    """The phase. `windows_session(vm)` opens a session to a Windows node (None: unreachable
    address unknown); rows collect what was found, in every mode."""

    expected: Expected
    sessions: Mapping[str, PowerShellSession]
    store: Store
    windows_session: Callable[[str], PowerShellSession | None]
    lb_shell: Callable[[str], tuple[str, ShellSession] | None]  # (its address, a session)
    rows: list[Row] = field(default_factory=list)
    title: str = "Check VM adapters, foreign objects and addresses"

    def prepare(self, ctx: RunContext) -> bool:
        return True

    def run(self, ctx: RunContext) -> None:
        found, complete = self._inventories(ctx)
        for name, mac in sorted(self.expected.vms.items()):
            self._vm(ctx, name, mac, [vm for vm in found if vm.name.lower() == name])
        self._foreign_vms(found)
        self._windows_networks()
        self._addresses(ctx, found)
        running = {vm.name.lower() for vm in found if vm.state == "Running"}
        self._served_vips(ctx, running if complete else None)

    def _row(
        self, node: str, check: str, status: str, observed: str = "", desired: str = ""
    ) -> None:
        self.rows.append(Row(self.expected.cluster, node, check, status, observed, desired))

    def _inventories(self, ctx: RunContext) -> tuple[list[HostVm], bool]:
        """Every host's VMs, and whether every host answered; a host that fails is an error
        row, the others still count."""
        fact = HostInventory(self.sessions)
        hosts = sorted(self.sessions)
        work = [HostWork(h, partial(_guarded, ctx, h, fact)) for h in hosts]
        found: list[HostVm] = []
        complete = True
        for host, result in zip(hosts, ctx.each_host(work), strict=True):
            if isinstance(result, Exception):
                self._row(host, "host reachable", ERROR, f"{type(result).__name__}: {result}")
                complete = False
            else:
                found.extend(result)
        return found, complete

    def _vm(self, ctx: RunContext, name: str, mac: int, copies: list[HostVm]) -> None:
        if len(copies) != 1:
            # Absent: create's own check plans New-VM. On two hosts: create refuses it.
            if copies:
                where = ", ".join(vm.host for vm in copies)
                self._row(name, "VM placement", DRIFT, f"on hosts {where}", "on one host")
            return
        vm = copies[0]
        if vm.state == "Running":
            self._row(name, "VM placement", OK, f"Running on {vm.host}", "Running on one host")
        for adapter in vm.adapters:
            if adapter.mac is not None and adapter.mac != mac:
                observed = f"adapter {adapter.name} MAC {colon_form(adapter.mac)}"
                self._row(name, "VM adapter MAC", FOREIGN, observed, colon_form(mac))
                return  # not the VM aksnet made: left alone
        for adapter in vm.adapters:
            self._adapter(ctx, vm, adapter)

    def _adapter(self, ctx: RunContext, vm: HostVm, adapter: Adapter) -> None:
        want = self.expected
        session = self.sessions[vm.host]
        if adapter.switch != want.switch:
            self._row(vm.name, "VM adapter switch", DRIFT, str(adapter.switch), want.switch)
            ctx.wet(
                vm.host,
                f"Connect-VMNetworkAdapter {vm.name} ({adapter.name}) to switch {want.switch} "
                f"on host {vm.host}",
                partial(_invoke, session, _connect(vm.name, adapter.name, want.switch)),
            )
        else:
            self._row(vm.name, "VM adapter switch", OK, str(adapter.switch), want.switch)
        # A VM that is off gets its VLAN from create's Start-VM (configure_statements).
        if want.vlan_id is None or vm.state != "Running":
            return
        if adapter.vlan_id != want.vlan_id:
            self._row(vm.name, "VM adapter VLAN", DRIFT, str(adapter.vlan_id), str(want.vlan_id))
            ctx.wet(
                vm.host,
                f"Set-VMNetworkAdapterVlan {vm.name} ({adapter.name}) -Access -VlanId "
                f"{want.vlan_id} on host {vm.host}",
                partial(_invoke, session, _vlan(vm.name, adapter.name, want.vlan_id)),
            )
        else:
            self._row(vm.name, "VM adapter VLAN", OK, str(adapter.vlan_id), str(want.vlan_id))

    def _foreign_vms(self, found: list[HostVm]) -> None:
        prefix = f"{self.expected.cluster}-".lower()
        for vm in found:
            lower = vm.name.lower()
            if not lower.startswith(prefix) or lower in self.expected.vms:
                continue
            observed = f"{vm.state} on {vm.host}, not recorded by aksnet"
            self._row(vm.name, "foreign VM", FOREIGN, observed, "left alone")

    def _windows_networks(self) -> None:
        wanted = {n.lower() for n in self.expected.hns_networks}
        for vm in self.expected.windows:
            try:
                session = self.windows_session(vm)
                if session is None:
                    continue
                names = hns_network_names(session)
            except Exception as error:  # one node failing must not stop the others' checks
                self._row(vm, "HNS networks", ERROR, f"{type(error).__name__}: {error}")
                continue
            for name in names:
                if name.lower() not in wanted:
                    self._row(vm, "foreign HNS network", FOREIGN, name, "left alone")

    def _addresses(self, ctx: RunContext, found: list[HostVm]) -> None:
        owners = {("vm", name) for name in self.expected.vms}
        owners.add((API_VIP_OWNER_KIND, self.expected.cluster))
        allocations = self.store.allocations(self.expected.network, cluster=self.expected.cluster)
        api_vips = [a for a in allocations if a.owner_kind == API_VIP_OWNER_KIND]
        for allocation in allocations:
            if allocation.owner_kind == OWNER_KIND:
                continue  # a Service's VIP: its owner lives in Kubernetes (the LB sync's check)
            owned = (allocation.owner_kind, allocation.owner) in owners
            if allocation.owner_kind == API_VIP_OWNER_KIND and allocation != api_vips[0]:
                owned = False  # create uses the first; a second one is left over
            node = allocation.owner
            check = f"{allocation.pool} address {allocation.address}"
            owner = f"{allocation.owner_kind} {allocation.owner}"
            if owned:
                self._row(node, check, OK, f"owned by {owner}", "owned by a live object")
                continue
            self._row(node, check, DRIFT, f"orphan: owned by {owner}", "released")
            ctx.wet(
                STORE,
                f"release orphan {check} of cluster {self.expected.cluster} (owner {owner})",
                partial(_release, self.store, allocation),
                kind="delete",
            )

    def _served_vips(self, ctx: RunContext, running: set[str] | None) -> None:
        """Each VIP a load-balancer VM holds is one of the cluster's in the store; a VIP the
        store does not know is removed from the VM (the VM is aksnet's, the address not).

        `running`: the VMs every host's inventory shows running (None: a host did not answer).
        A VM running on no host is `not-checked`, not reached: SSH to it could only time out
        and retry (create's checks plan starting or creating it)."""
        known = {
            str(a.address)
            for a in self.store.allocations(self.expected.network, cluster=self.expected.cluster)
            if a.pool == "vip"
        }
        for vm in self.expected.load_balancers:
            if running is not None and vm.lower() not in running:
                why = "not checked: the VM runs on no host (the hosts' inventory)"
                self._row(vm, "VIPs served", NOT_CHECKED, why, "checked once the VM runs")
                continue
            try:
                reached = self.lb_shell(vm)
                if reached is None:
                    continue
                own, shell = reached
                held = ctx.fact(vm, HeldAddresses(shell)) or ()
            except Exception as error:  # one VM failing must not stop the others' checks
                self._row(vm, "VIPs served", ERROR, f"{type(error).__name__}: {error}")
                continue
            for device, address in held:
                if address == own:
                    continue
                if address in known:
                    self._row(vm, f"VIP {address}", OK, f"served on {device}", "in the store")
                    continue
                self._row(vm, f"VIP {address}", DRIFT, f"served on {device}", "not served")
                ctx.wet(
                    vm,
                    f"ip address del {address}/32 dev {device} on {vm} (a VIP the store does "
                    "not know)",
                    partial(_drop_address, shell, address, device),
                    kind="delete",
                )


def _drop_address(shell: ShellSession, address: str, device: str) -> None:
    shell.run(["sudo", "-n", "ip", "address", "del", f"{address}/32", "dev", device])


def _guarded(ctx: RunContext, host: str, fact: HostInventory) -> tuple[HostVm, ...] | Exception:
    try:
        return ctx.fact(host, fact) or ()
    except Exception as error:
        log.debug("inventory of %s failed: %s", host, error)
        return error


def _connect(vm: str, adapter: str, switch: str) -> Cmdlet:
    return Cmdlet.of(
        "Connect-VMNetworkAdapter", VMName=vm, Name=adapter, SwitchName=switch, ErrorAction="Stop"
    )


def _vlan(vm: str, adapter: str, vlan_id: int) -> Cmdlet:
    return Cmdlet.of(
        "Set-VMNetworkAdapterVlan",
        VMName=vm,
        VMNetworkAdapterName=adapter,
        Access=True,
        VlanId=vlan_id,
        ErrorAction="Stop",
    )


def _invoke(session: PowerShellSession, cmdlet: Cmdlet) -> None:
    session.invoke(cmdlet)


def _release(store: Store, allocation: Allocation) -> None:
    store.release(allocation.network, [str(allocation.address)])
