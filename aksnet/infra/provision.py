"""The "Provision VMs" phase: every VM of a cluster placed, created, started and reachable.

Flow: read each host's facts (Get-VMHost, its VMs and its failover cluster: one round trip
per host) -> place the VMs that do not exist yet (refusing the whole cluster before creating
anything if it does not fit) ->
per host in parallel, within the run's per-host limit (apply(per_host=...)), for each VM: read
its facts, stage the seed ISO, create and start it (three PSRP round trips, see
aksnet.infra.vms) -> then, outside the host's lanes (the wait talks to the guest, not the
host: a host with 6 VMs and 2 lanes must not wait for 3 boots in a row), as soon as that VM
is started and within the run's global limit (aksnet.plan.parallel.run_per_host_then): wait
for SSH at the VM's address with the pinned host key (Linux: with
hand_over_ssh the session that answered stays open for the node phases, take_ssh), or for
WinRM over HTTPS on port 5986 with the pinned certificate and the nodes' admin password
(Windows: the VM runs on the Windows node image with the MicrosoftWindows secure boot
template, seeded by aksnet.infra.windowsseed). Every mutation
passes the runner's gate, so a dry run lists "New-VM c1-cp-0 on host hci1: 4 vCPU, 8 GiB" and
changes nothing, and a second apply finds every VM running and performs zero actions. A VM found
off (a run stopped halfway) gets the settings it lacks and is started; a VM of the same name
with another MAC, or on two hosts, is refused as not this cluster's.

The cluster's VMs are its control planes `<cluster>-cp-<i>`, its pools' VMs `<cluster>-<pool>-<i>`
and, with loadBalancerSku HAProxy, its load-balancer VMs `<cluster>-lb-<i>` (Linux, the
LoadBalancerSetting's VM size, role "loadbalancer"; other tools find them by that name).

Decisions (addresses, MACs) come from the store through `node_vms`; host keys are the caller's
(aksnet generates them; keeping them across runs is the cluster operation's job, not this
phase's: a resumed run must pass the same keys, or the pinned key will not match).
"""

from __future__ import annotations

import hashlib
import logging
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

import paramiko

from aksnet.errors import (
    HostUnreachable,
    InvalidInput,
    OperationTimedOut,
    ProtocolError,
    StateConflict,
)
from aksnet.infra import vms
from aksnet.infra.hostkeys import HostKeyPair
from aksnet.infra.macpool import DEFAULT_POOL, MacPool, colon_form
from aksnet.infra.nodeseed import NodeSeed, node_seed
from aksnet.infra.placement import LOAD_BALANCER, VmDemand, place
from aksnet.infra.vmnames import vm_names
from aksnet.infra.vms import HostFact, HostFacts, VmFact, VmFacts, VmSpec, VmState
from aksnet.infra.windowsseed import WINRM_PORT, WinRmCertificate, windows_seed
from aksnet.model.cluster import ClusterSpec
from aksnet.model.network import NetworkSetting
from aksnet.model.sizes import vm_size
from aksnet.plan import Action, RunContext
from aksnet.plan.facts import Fact, Forecast
from aksnet.plan.parallel import HostWork, run_per_host_then
from aksnet.remote.base import Cmdlet, Credential, Endpoint, PowerShellSession
from aksnet.remote.classify import TLSFailure
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.psrp import PSRPSession
from aksnet.remote.retry import RetryPolicy
from aksnet.remote.ssh import DEFAULT_CONNECT_TIMEOUT, DEFAULT_RETRY, SSHSession
from aksnet.state.store import Store

log = logging.getLogger(__name__)

GIB = 1024**3
DEFAULT_IMAGE = r"C:\ClusterStorage\Volume1\Images\aksnet-linux.vhdx"
DEFAULT_WINDOWS_IMAGE = r"C:\ClusterStorage\Volume1\Images\aksnet-windows.vhdx"
DEFAULT_ROOT = r"C:\ClusterStorage\Volume1\aksnet"
_ONE_ATTEMPT = RetryPolicy(attempts=1)
# A boot poll's TCP probe: a SYN (or the ARP request before it) with no answer in a second was
# lost (Linux resends a SYN after 1 s too); a fresh probe beats waiting out the kernel's backoff.
_PROBE_TIMEOUT = 1.0
T = TypeVar("T")


@dataclass(frozen=True)
class NodeVm:
    """One VM of the cluster, with everything decided about it."""

    name: str
    role: str  # "control-plane", "worker" or "loadbalancer"
    cpu: int
    memory_bytes: int
    mac: int
    address: str | None  # None in the DHCP model: read from the host once the VM runs
    seed: NodeSeed
    host_key_line: str  # Linux: the public host key aksnet generated, pinned before connecting
    os_type: str = "Linux"  # or "Windows"
    certificate_path: str | None = None  # Windows: its WinRM certificate, the pinned anchor

    @property
    def is_windows(self) -> bool:
        return self.os_type == "Windows"

    @property
    def is_load_balancer(self) -> bool:
        return self.role == LOAD_BALANCER


@dataclass(frozen=True)
class WindowsAccess:
    """What Windows VMs' seeds and sessions need: the nodes' admin password and, per VM, its
    WinRM certificate (kept across runs by the caller) and where its PEM is kept."""

    password: str = field(repr=False)
    certificate_for: Callable[[str, str | None], WinRmCertificate]
    certificate_path: Callable[[str], Path]


@dataclass(frozen=True)
class ProvisionSettings:
    switch_name: str
    vlan_id: int | None
    admin_user: str
    admin_key: paramiko.PKey = field(repr=False)
    known_hosts: KnownHosts
    image_path: str = DEFAULT_IMAGE
    windows_image_path: str = DEFAULT_WINDOWS_IMAGE
    windows_credential: Credential | None = field(default=None, repr=False)
    root: str = DEFAULT_ROOT
    disk_bytes: int = 20 * GIB  # what placement reserves per VM on the host's storage
    delegation: bool = False  # may the session make the second hop (cluster VM role)?
    ssh_timeout: float = 120.0
    winrm_timeout: float = 300.0  # Windows boots (and runs cloudbase-init) slower than Linux


_vm_names = vm_names  # the VM names live in aksnet.infra.vmnames; older importers find them here


def node_vms(
    spec: ClusterSpec,
    network: NetworkSetting,
    store: Store,
    *,
    admin_user: str,
    authorized_key: str,
    host_key_for: Callable[[str], HostKeyPair],
    mac_pool: MacPool = DEFAULT_POOL,
    windows: WindowsAccess | None = None,
    load_balancers: bool = False,
) -> list[NodeVm]:
    """The cluster's VMs (control plane, Linux pools, Windows pools, load balancers), with
    addresses and MACs.

    An address or MAC the VM holds already in the store is reused, so planning twice (or
    resuming) decides the same values. Windows VMs need `windows` (their password and
    certificates). load_balancers: include the load-balancer VMs (a cluster create does; a
    caller that provisions only the nodes leaves it out).
    """
    held = {
        a.owner: str(a.address)
        for a in store.allocations(network.name, cluster=spec.name)
        if a.owner_kind == "vm"
    }
    vms = [vm for vm in _vm_names(spec) if load_balancers or vm[1] != LOAD_BALANCER]
    if windows is None and any(os_type == "Windows" for *_, os_type in vms):
        raise InvalidInput("windows", None, "Windows VMs need their password and certificates.")
    if network.is_static:
        # Every address the cluster still lacks, in one transaction: all or none.
        missing = [name for name, *_ in vms if name not in held]
        for allocation in store.allocate_each(
            network.name, "node", owner_kind="vm", owners=missing, cluster=spec.name
        ):
            held[allocation.owner] = str(allocation.address)
    out: list[NodeVm] = []
    for name, role, size_name, os_type in vms:
        size = vm_size(size_name)
        address = held.get(name)
        mac = mac_pool.allocate(store, name, spec.name)
        if os_type == "Windows":
            assert windows is not None  # checked above
            certificate = windows.certificate_for(name, address)
            seed = windows_seed(
                hostname=name,
                mac=colon_form(mac),
                network=network,
                address=address,
                admin_user=admin_user,
                password=windows.password,
                certificate=certificate,
            )
            path = str(windows.certificate_path(name))
            out.append(
                NodeVm(
                    name, role, size.cpu, size.memory_bytes, mac, address, seed, "", os_type, path
                )
            )
            continue
        key = host_key_for(name)
        seed = node_seed(
            hostname=name,
            mac=colon_form(mac),
            network=network,
            address=address,
            admin_user=admin_user,
            authorized_key=authorized_key,
            host_keys=(key,),
        )
        out.append(
            NodeVm(name, role, size.cpu, size.memory_bytes, mac, address, seed, key.public_line)
        )
    return out


@dataclass(frozen=True)
class LearntAddresses:
    """Where the addresses learnt from the hosts (DHCP model) are kept: the store, per VM.
    Each call opens the store file itself: VMs are provisioned on worker threads, and a
    SQLite connection belongs to the thread that made it."""

    store_path: Path
    cluster: str
    network: str

    def known(self) -> dict[str, str]:
        with Store(self.store_path) as store:
            return store.learnt_addresses(cluster=self.cluster)

    def record(self, vm: str, address: str) -> None:
        with Store(self.store_path) as store:
            if store.record_learnt_address(self.cluster, vm, self.network, address):
                log.debug("%s: learnt address %s recorded", vm, address)


class ProvisionVMs:
    """The phase. `warnings` collects what was skipped on purpose (the cluster VM role);
    `addresses` each VM's address once known (decided, or learnt from its host: DHCP). With
    `learnt`, a DHCP VM starts with the address recorded when it was last learnt (a what-if of
    a stopped VM plans with it) and each address learnt is recorded (Get shows it, a resumed
    run and a scale-down reach the VM there)."""

    title = "Provision VMs"

    def __init__(
        self,
        nodes: Sequence[NodeVm],
        sessions: Mapping[str, PowerShellSession],
        settings: ProvisionSettings,
        learnt: LearntAddresses | None = None,
        *,
        hand_over_ssh: bool = False,
    ) -> None:
        self.nodes = list(nodes)
        self.sessions = sessions
        self.settings = settings
        self.learnt = learnt
        # With hand_over_ssh, the session that saw a Linux VM answer stays open for the node
        # phases (take_ssh): one SSH connection per node per run, not one to wait and another
        # to work. Without it (a caller with no node phases), the wait closes its session.
        self.hand_over_ssh = hand_over_ssh
        self._ssh: dict[str, SSHSession] = {}
        self.warnings: list[str] = []
        self.placement: dict[str, str] = {}
        self._new_files: dict[str, VmFacts] = {}  # VMs no host lists: their files' facts
        known = learnt.known() if learnt is not None else {}
        self.addresses: dict[str, str] = {
            n.name: n.address or known[n.name] for n in nodes if n.address or n.name in known
        }

    def prepare(self, ctx: RunContext) -> bool:
        return bool(self.nodes)

    def run(self, ctx: RunContext) -> Iterator[Action] | None:
        hosts = sorted(self.sessions)
        host_fact = HostFact(self.sessions)  # its failover cluster too: one round trip a host
        facts = ctx.each_host([HostWork(h, _reader(ctx, h, host_fact)) for h in hosts])
        by_host = {h: f for h, f in zip(hosts, facts, strict=True) if f is not None}
        complete = len(by_host) == len(hosts)  # a host that did not answer may hold a VM
        listed = {n.lower() for f in by_host.values() for n in f.vm_names}
        self.placement = self._place(by_host)  # refuses a cluster that does not fit, first
        used = sorted(set(self.placement.values()))
        clustered = {h: by_host[h].cluster is not None for h in used}
        self._new_files = self._read_new_files(ctx, listed) if complete else {}
        work = [
            HostWork(self.placement[n.name], _bound(self._provision, ctx, n, clustered))
            for n in self.nodes
        ]
        run_per_host_then(work, limit=ctx.limit, per_host=ctx.per_host)
        return None

    def _place(self, facts: Mapping[str, HostFacts]) -> dict[str, str]:
        existing: dict[str, str] = {}
        for host, f in sorted(facts.items()):
            for name in f.vm_names:
                if name.lower() in existing:
                    raise StateConflict(
                        f"VM '{name}' exists on hosts {existing[name.lower()]} and {host}: "
                        "remove the one that is not this cluster's before provisioning.",
                        target=name,
                    )
                existing[name.lower()] = host
        demands = [
            VmDemand(n.name, n.role, n.cpu, n.memory_bytes, self.settings.disk_bytes)
            for n in self.nodes
        ]
        return place(demands, [f.capacity for f in facts.values()], existing)

    def _read_new_files(self, ctx: RunContext, listed: set[str]) -> dict[str, VmFacts]:
        """The files of the VMs no host lists, one round trip per host for all of its new VMs
        (instead of a VM fact each)."""
        new: dict[str, list[VmSpec]] = {}
        for node in self.nodes:
            if node.name.lower() not in listed:
                new.setdefault(self.placement[node.name], []).append(self.spec_of(node))
        hosts = sorted(new)
        readers = [
            HostWork(h, _reader(ctx, h, vms.NewVmFiles(self.sessions, new[h]))) for h in hosts
        ]
        found: dict[str, VmFacts] = {}
        for files in ctx.each_host(readers):
            found.update(files or {})
        return found

    def spec_of(self, node: NodeVm) -> VmSpec:
        s = self.settings
        return VmSpec(
            node.name,
            node.cpu,
            node.memory_bytes,
            node.mac,
            s.vlan_id,
            s.switch_name,
            rf"{s.root}\{node.name}",
            s.windows_image_path if node.is_windows else s.image_path,
            vms.WINDOWS_SECURE_BOOT_TEMPLATE if node.is_windows else vms.LINUX_SECURE_BOOT_TEMPLATE,
        )

    def _provision(
        self, ctx: RunContext, node: NodeVm, clustered: Mapping[str, bool]
    ) -> Callable[[], None] | None:
        """The host-bound part of one VM: its fact, create or converge, and (DHCP) the address
        its host reports. Returns the wait for its guest, which runs outside the host's lanes
        (None in a dry run: nothing boots)."""
        host = self.placement[node.name]
        session, spec = self.sessions[host], self.spec_of(node)
        fact = VmFact(self.sessions, spec, clustered=clustered[host])
        found = self._new_files.get(node.name) or ctx.fact(host, fact)
        assert found is not None  # VmFact always answers; its .vm is None when absent
        if found.vm is None:
            self._create(ctx, host, session, node, fact, found)
        else:
            self._converge(ctx, host, session, node, fact, found)
        if ctx.dry_run:
            if found.vm is not None and found.vm.ip_addresses and node.address is None:
                self.addresses[node.name] = found.vm.ip_addresses[0]  # a running DHCP VM
            return None
        address = node.address or _reported_address(ctx, host, fact)
        return partial(self._wait_for_guest, ctx, host, fact, node, address)

    def _wait_for_guest(
        self, ctx: RunContext, host: str, fact: VmFact, node: NodeVm, address: str | None
    ) -> None:
        """After Start-VM: the guest's address (DHCP: once its host reports one), then its SSH
        or WinRM answering. Holds none of the host's lanes: this waits on the guest's boot."""
        try:
            self._reach_guest(ctx, host, fact, node, address)
        except Exception as error:
            error.add_note(f"while waiting for VM '{node.name}' (host {host}) to boot")
            raise

    def _reach_guest(
        self, ctx: RunContext, host: str, fact: VmFact, node: NodeVm, address: str | None
    ) -> None:
        if address is None:
            address = self._learn_address(ctx, host, fact, node)
        self.addresses[node.name] = address
        if node.address is None and self.learnt is not None:
            self.learnt.record(node.name, address)
        if node.is_windows:
            wait_for_winrm(node, address, host, self.settings)
        else:
            waited = wait_for_ssh(node, address, self.settings, keep=self.hand_over_ssh)
            if waited is not None:
                self._ssh[node.name] = waited

    def take_ssh(self, name: str, address: str) -> SSHSession | None:
        """The connected session that waited for VM `name` at `address` (None: none kept, or
        kept for another address); the caller owns it from now on."""
        session = self._ssh.get(name)
        if session is None or session.host != address:
            return None
        del self._ssh[name]
        return session

    def close(self) -> None:
        """Close the waited sessions nobody took (a run that stopped before the node phases)."""
        while self._ssh:
            self._ssh.popitem()[1].close()

    def _create(
        self,
        ctx: RunContext,
        host: str,
        session: PowerShellSession,
        node: NodeVm,
        fact: VmFact,
        found: VmFacts,
    ) -> None:
        spec = fact.spec
        iso = _LazyIso(node.seed)  # built only to stage it or to compare with one on the host
        staged = found.iso_sha256 is None or found.iso_sha256 != iso.sha256()
        if staged:
            ctx.wet(
                host,
                f"Copy seed ISO of {node.name} to host {host}: {spec.iso_path}",
                lambda: vms.stage_seed_iso(session, spec, iso.data()),
                kind="create",
            )
        role = clustered_role(fact.clustered, self.settings.delegation)
        if fact.clustered and not role:
            self._warn_no_role(node.name, host)
        ctx.wet(
            host,
            f"New-VM {node.name} on host {host}: {node.cpu} vCPU, {_gib(node.memory_bytes)} GiB",
            lambda: vms.create_vm(
                session, spec, staged=staged, make_disk=not found.disk_exists, cluster_role=role
            ),
            _predict(host, fact, node, role),
            kind="create",
        )

    def _converge(
        self,
        ctx: RunContext,
        host: str,
        session: PowerShellSession,
        node: NodeVm,
        fact: VmFact,
        found: VmFacts,
    ) -> None:
        vm = found.vm
        assert vm is not None
        if vm.mac is not None and vm.mac != node.mac:  # None: a create step stopped early
            raise StateConflict(
                f"VM '{node.name}' on host {host} has MAC {colon_form(vm.mac)}, not "
                f"the {colon_form(node.mac)} aksnet allocated: it is not this cluster's VM.",
                target=node.name,
            )
        if vm.state != "Running":
            spec = fact.spec
            fixes = [c.name for c in vms.configure_statements(spec, vm)[:-1]]
            title = f"Start-VM {node.name} on host {host}"
            if fixes:
                title += f" after {', '.join(fixes)}"
            ctx.wet(
                host,
                title,
                lambda: vms.configure_and_start(session, spec, vm),
                _predict(host, fact, node, found.cluster_role),
            )
        if fact.clustered and not found.cluster_role:
            if self.settings.delegation:
                ctx.wet(
                    host,
                    f"Add-ClusterVirtualMachineRole {node.name} on host {host}",
                    lambda: vms.add_cluster_role(session, node.name),
                    _predict(host, fact, node, True),
                )
            else:
                self._warn_no_role(node.name, host)

    def _warn_no_role(self, name: str, host: str) -> None:
        text = (
            f"VM '{name}' on host {host} was not made a failover cluster role: adding it over "
            "remoting needs delegation (the second hop). Provision with delegation=True once "
            "delegation is set up, or run Add-ClusterVirtualMachineRole on the host."
        )
        log.warning("%s", text)
        self.warnings.append(text)

    def _learn_address(self, ctx: RunContext, host: str, fact: VmFact, node: NodeVm) -> str:
        """Poll the host until it reports the DHCP guest's address (a guest reports it once it
        has booted and leased one; the host-bound part read it once already)."""
        timeout = self.settings.winrm_timeout if node.is_windows else self.settings.ssh_timeout
        deadline = time.monotonic() + timeout
        for delay in poll_delays(first=0.25, cap=1.0):
            time.sleep(delay)
            address = _reported_address(ctx, host, fact)
            if address is not None:
                return address
            if time.monotonic() >= deadline:
                raise OperationTimedOut(
                    host,
                    f"VM '{node.name}' on host {host} reported no IPv4 address in {timeout:g} s",
                )
        raise AssertionError("unreachable: poll_delays never ends")


def _reported_address(ctx: RunContext, host: str, fact: VmFact) -> str | None:
    """The first address the host reports for the VM now (None: none yet)."""
    found = ctx.fact(host, fact)
    if found is not None and found.vm is not None and found.vm.ip_addresses:
        return found.vm.ip_addresses[0]
    return None


def clustered_role(clustered: bool, delegation: bool) -> bool:
    """Whether the create step adds the cluster VM role (see aksnet.infra.vms on the 2nd hop)."""
    return clustered and delegation


def _reader(ctx: RunContext, host: str, fact: Fact[T]) -> Callable[[], T | None]:
    return lambda: ctx.fact(host, fact)


def _bound(
    provision: Callable[[RunContext, NodeVm, Mapping[str, bool]], Callable[[], None] | None],
    ctx: RunContext,
    node: NodeVm,
    clustered: Mapping[str, bool],
) -> Callable[[], Callable[[], None] | None]:
    return lambda: provision(ctx, node, clustered)


def _predict(host: str, fact: VmFact, node: NodeVm, role: bool) -> Callable[[Forecast], None]:
    """The dry run's forecast: the VM exists and runs as specified."""
    spec = fact.spec

    def simulate(forecast: Forecast) -> None:
        state = VmState(
            node.name,
            "Running",
            2,
            spec.memory_bytes,
            spec.cpu,
            spec.mac,
            spec.vlan_id,
            (spec.iso_path,),
            spec.secure_boot_template,
            (node.address,) if node.address else (),
        )
        forecast.set(host, fact, VmFacts(state, True, None, role))

    return simulate


class _LazyIso:
    """A VM's seed ISO, built on first use: a what-if of a VM with no ISO on its host (every
    VM of a cluster not created yet) needs neither its bytes nor its hash, and building one is
    most of a dry run's own cost (pycdlib, a temporary directory)."""

    def __init__(self, seed: NodeSeed) -> None:
        self._seed = seed
        self._data: bytes | None = None

    def data(self) -> bytes:
        if self._data is None:
            self._data = _iso_bytes(self._seed)
        return self._data

    def sha256(self) -> str:
        return hashlib.sha256(self.data()).hexdigest().upper()


def _iso_bytes(seed: NodeSeed) -> bytes:
    """The seed ISO (deterministic for one seed), built in a private temporary directory."""
    with tempfile.TemporaryDirectory(prefix="aksnet-seed-") as folder:
        return seed.write_iso(Path(folder) / "seed.iso").read_bytes()


def _gib(value: int) -> str:
    return f"{value / GIB:g}"


def poll_delays(*, first: float = 0.1, cap: float) -> Iterator[float]:
    """The pauses between boot polls: `first`, doubling up to `cap`, then `cap` for ever. A guest
    that answers soon after Start-VM is seen soon; one that takes long costs a poll per `cap`."""
    delay = first
    while True:
        yield min(delay, cap)
        delay *= 2


def wait_for_ssh(
    node: NodeVm, address: str, settings: ProvisionSettings, *, keep: bool = False
) -> SSHSession | None:
    """Poll until the VM's sshd answers with the pinned host key and accepts the admin key.

    A wrong host key fails at once (HostKeyMismatch); an sshd that is not up yet is retried until
    settings.ssh_timeout. With keep, the session that answered is returned still connected, with
    the default retry policy and connect timeout of a working session (the polls try once
    each); without, it is closed and None returned.
    """
    settings.known_hosts.pin(address, 22, node.host_key_line)

    def attempt() -> SSHSession | None:
        session = SSHSession(
            address,
            username=settings.admin_user,
            private_key=settings.admin_key,
            known_hosts=settings.known_hosts,
            retry=_ONE_ATTEMPT,
            connect_timeout=5.0,
        )
        answered = False
        try:
            session.run(["true"], timeout=10.0)
            answered = True
        finally:
            if not (answered and keep):
                session.close()
        if not keep:
            return None
        session.retry, session.connect_timeout = DEFAULT_RETRY, DEFAULT_CONNECT_TIMEOUT
        return session

    return _poll_guest(
        attempt,
        address,
        22,
        timeout=settings.ssh_timeout,
        cap=0.5,
        failure=f"VM '{node.name}' did not answer SSH",
    )


def _poll_guest(
    attempt: Callable[[], T], address: str, port: int, *, timeout: float, cap: float, failure: str
) -> T:
    """attempt() once the guest accepts TCP on `port`, until it succeeds: a guest that is not
    up yet (HostUnreachable, OperationTimedOut, ProtocolError, but not a TLSFailure) is polled
    again after poll_delays(cap=cap) until `timeout`, then OperationTimedOut("<failure> in ...").

    The TCP probe comes first because it is cheap and fails fast: a session's connect made
    before the guest's interface exists waits out its whole connect timeout (the SYN waits on
    ARP, then on the kernel's backoff), and a WinRM session pays TLS and NTLM each time."""
    deadline = time.monotonic() + timeout
    delays = poll_delays(cap=cap)
    while True:
        try:
            _probe(address, port)
            return attempt()
        except TLSFailure:
            raise
        except (HostUnreachable, OperationTimedOut, ProtocolError) as error:
            if time.monotonic() >= deadline:
                raise OperationTimedOut(address, f"{failure} in {timeout:g} s") from error
            log.debug("waiting for %s:%s: %s", address, port, error)
            time.sleep(next(delays))


def _probe(address: str, port: int) -> None:
    """Raise HostUnreachable unless something accepts TCP at address:port within
    _PROBE_TIMEOUT (the connection is closed at once: nothing is sent)."""
    try:
        with socket.create_connection((address, port), timeout=_PROBE_TIMEOUT):
            return
    except TimeoutError as error:
        raise HostUnreachable(
            address, f"port {port} did not accept in {_PROBE_TIMEOUT:g} s"
        ) from error
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise HostUnreachable(address, f"port {port} does not accept yet: {reason}") from error


def winrm_endpoint(node: NodeVm, address: str) -> Endpoint:
    """How aksnet reaches a Windows node: HTTPS 5986, NTLM, its own certificate pinned (the
    only trust anchor). A static node's certificate names its address (IP SAN); a DHCP node's
    cannot (the address is learnt after the seed is made), so its certificate is matched by
    its DNS SAN, the VM name (tls_server_name, aksnet.remote.psrp.verify_server_name)."""
    if node.certificate_path is None:
        raise InvalidInput("certificate_path", None, f"VM '{node.name}' has no WinRM certificate.")
    extra = {} if node.address is not None else {"tls_server_name": node.name}
    return Endpoint(
        address,
        port=WINRM_PORT,
        ssl=True,
        auth="ntlm",
        cert_validation=node.certificate_path,
        extra=extra,
    )


def wait_for_winrm(node: NodeVm, address: str, host: str, settings: ProvisionSettings) -> None:
    """Poll until the Windows VM's WinRM listener answers with the pinned certificate and
    accepts the admin password.

    A certificate that does not match fails at once (TLSFailure), as does a refused password
    (AuthenticationFailed: retrying risks a lockout); a listener that is not up yet is retried
    until settings.winrm_timeout. A session (TLS, NTLM, a runspace pool) is only built once
    the listener's port accepts.
    """
    credential = settings.windows_credential
    if credential is None:
        raise InvalidInput("windows_credential", None, "Windows VMs need the admin credential.")
    endpoint = winrm_endpoint(node, address)

    def attempt() -> None:
        session = PSRPSession(
            endpoint,
            credential,
            retry=_ONE_ATTEMPT,
            operation_timeout=5,
            read_timeout=10,
            connection_timeout=5,
        )
        try:
            session.invoke(Cmdlet.of("Test-Path", LiteralPath="C:\\"))
        finally:
            session.close()

    _poll_guest(
        attempt,
        address,
        WINRM_PORT,
        timeout=settings.winrm_timeout,
        cap=1.0,
        failure=f"Windows VM '{node.name}' on host {host} did not answer WinRM on "
        f"{address}:{WINRM_PORT}",
    )
