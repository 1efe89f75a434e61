"""The phase that configures the load-balancer VMs over SSH: haproxy.cfg, keepalived.conf, and
the two daemons.

On each VM (in parallel, one SSH session each): each file is written atomically, to a temporary
file in the same directory that the daemon's own checker (`haproxy -c`, `keepalived -t`) accepts
ON THE VM before it is renamed into place; then each daemon is started when it does not run, or
reloaded (never restarted: HAProxy's reload keeps established connections) when the
configuration it last applied differs from the file. What a daemon applied is recorded as the
file's sha256 in /run/aksnet-lb/ (gone after a reboot, when systemd starts the daemons with the
file anyway: the next run then reloads once, harmlessly). Facts are the files' sha256, whether
the daemons run and those records, so a second run performs zero actions and a dry run lists
the actions.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aksnet.errors import InvalidInput
from aksnet.infra.linuxfacts import (
    FileState,
    NodeShell,
    Probe,
    Probed,
    ShellFact,
    TextFile,
    file_state,
    install_file,
    read_one,
    read_together,
    sudo,
)
from aksnet.loadbalancer import haproxy, keepalived
from aksnet.loadbalancer.frontends import Frontend
from aksnet.plan.facts import Fact, Forecast
from aksnet.plan.parallel import HostWork
from aksnet.plan.runner import FactValues, RunContext

log = logging.getLogger(__name__)

APPLIED_DIR = "/run/aksnet-lb"
# verb unit dir digest: start or reload the unit, then record the digest it applied (one command).
_APPLY_AND_RECORD = (
    'systemctl "$1" "$2" && mkdir -p -m 0755 "$3" && printf "%s\\n" "$4" > "$3/$2.applied"'
)


@dataclass(frozen=True)
class LoadBalancerVm:
    """A load-balancer VM: its name, its address and its SSH session (passwordless sudo)."""

    name: str
    address: str
    shell: NodeShell


@dataclass(frozen=True)
class Daemon:
    """A daemon's configuration file, its checker and its unit name."""

    unit: str
    path: str
    checker: tuple[str, ...]  # the file to check is appended
    reloaded: str  # what a reload keeps, for the action's title


HAPROXY = Daemon(
    "haproxy",
    haproxy.CONFIG_PATH,
    ("haproxy", "-c", "-f"),
    "seamless: established connections stay",
)
KEEPALIVED = Daemon(
    "keepalived",
    keepalived.CONFIG_PATH,
    ("keepalived", "-t", "-f"),
    "VIPs still configured stay held",
)


@dataclass(frozen=True)
class UnitActive:
    """'active' when `systemctl is-active unit` says so; None otherwise."""

    shell: NodeShell
    unit: str

    @property
    def key(self) -> str:
        return f"unit-active:{self.unit}"

    def probe(self) -> Probe:
        return Probe('exec systemctl is-active "$1"', (self.unit,))

    def parse(self, host: str, probed: Probed) -> str | None:
        return "active" if probed.text.strip() == "active" else None

    def read(self, host: str) -> str | None:
        return read_one(host, self)


def applied_fact(shell: NodeShell, daemon: Daemon) -> TextFile:
    """The sha256 of the configuration the daemon last started or reloaded with."""
    return TextFile(shell, f"{APPLIED_DIR}/{daemon.unit}.applied")


class VmSetup:
    """The facts and actions of one load-balancer VM, all through ctx."""

    def __init__(self, ctx: RunContext, vm: LoadBalancerVm) -> None:
        self.ctx, self.vm, self.host, self.shell = ctx, vm, vm.name, vm.shell

    def converge(self, files: Sequence[tuple[Daemon, str]]) -> None:
        """Both files first (each checked on the VM), then start or reload each daemon.

        Every fact is read first, in one round trip: writing a file changes only that file's
        state, and starting or reloading a daemon only its own unit state and applied record,
        so no decision depends on another's effect.
        """
        known = self.ctx.facts(self.host, self._facts([d for d, _ in files]), read_together)
        for daemon, text in files:
            self.ensure_file(daemon, text.encode(), known)
        for daemon, text in files:
            self.ensure_running(daemon, hashlib.sha256(text.encode()).hexdigest(), known)

    def _facts(self, daemons: Sequence[Daemon]) -> list[ShellFact[Any]]:
        shell = self.shell
        return [
            *(FileState(shell, d.path) for d in daemons),
            *(UnitActive(shell, d.unit) for d in daemons),
            *(applied_fact(shell, d) for d in daemons),
        ]

    def ensure_file(self, daemon: Daemon, data: bytes, known: FactValues | None = None) -> None:
        fact, wanted = FileState(self.shell, daemon.path), file_state(data, 0o644)
        current = self.ctx.fact(self.host, fact, known)
        if current == wanted:
            return
        self.ctx.wet(
            self.host,
            f"write {daemon.path} on {self.host} (checked with {daemon.checker[0]} on the VM)",
            lambda: self._install_checked(daemon, data),
            _predict(self.host, fact, wanted),
            kind="create" if current is None else "change",
        )

    def _install_checked(self, daemon: Daemon, data: bytes) -> None:
        install_file(self.shell, data, daemon.path, 0o644, checker=daemon.checker)

    def ensure_running(self, daemon: Daemon, digest: str, known: FactValues | None = None) -> None:
        active, applied = UnitActive(self.shell, daemon.unit), applied_fact(self.shell, daemon)
        if self.ctx.fact(self.host, active, known) != "active":
            verb, why = "start", ""
        elif (self.ctx.fact(self.host, applied, known) or "").strip() != digest:
            verb, why = "reload", f" ({daemon.reloaded})"
        else:
            return

        def predict(forecast: Forecast) -> None:
            forecast.set(self.host, active, "active")
            forecast.set(self.host, applied, f"{digest}\n")

        self.ctx.wet(
            self.host,
            f"{verb} {daemon.unit} on {self.host}{why}",
            lambda: self._apply(verb, daemon, digest),
            predict,
            kind="run",
        )

    def _apply(self, verb: str, daemon: Daemon, digest: str) -> None:
        sudo(self.shell, "sh", "-c", _APPLY_AND_RECORD, "sh", verb, daemon.unit, APPLIED_DIR,
             digest)  # fmt: skip


def _predict(host: str, fact: Fact[object], value: object) -> Callable[[Forecast], None]:
    return lambda forecast: forecast.set(host, fact, value)


class LoadBalancerSetup:
    """Configures every load-balancer VM of a cluster (in parallel): HAProxy for the frontends,
    keepalived holding the VIPs, both running with the current configuration (keepalived takes
    the VIPs seconds later: a create waits for the API VIP last, aksnet.loadbalancer.heldvips).

    Both configurations are rendered (and so validated) here, before any VM is touched.
    unicast: VRRP to the other VMs' addresses instead of multicast (networks without multicast).
    """

    title = "Configure the load balancer"

    def __init__(
        self,
        vms: Sequence[LoadBalancerVm],
        frontends: Sequence[Frontend],
        *,
        cluster: str,
        api_vip: str,
        interface: str = "eth0",
        unicast: bool = False,
        router_id: int | None = None,
    ) -> None:
        _check_vms(vms)
        if not frontends:
            raise InvalidInput("frontends", [], "at least the API server's frontend.")
        self.vms = tuple(vms)
        self.haproxy_cfg = haproxy.render_haproxy_config(frontends)
        service_vips = sorted({f.vip for f in frontends} - {api_vip})
        self.keepalived_confs = [
            keepalived.render_keepalived_config(
                cluster=cluster,
                interface=interface,
                api_vip=api_vip,
                service_vips=service_vips,
                index=index,
                address=vm.address,
                peers=[p.address for p in self.vms if p is not vm] if unicast else (),
                router_id=router_id,
            )
            for index, vm in enumerate(self.vms)
        ]

    def prepare(self, ctx: RunContext) -> bool:
        return bool(self.vms)

    def run(self, ctx: RunContext) -> None:
        log.debug("configuring %d load-balancer VM(s)", len(self.vms))
        ctx.each_host(
            [
                HostWork(vm.name, self._converger(ctx, vm, conf))
                for vm, conf in zip(self.vms, self.keepalived_confs, strict=True)
            ]
        )

    def _converger(self, ctx: RunContext, vm: LoadBalancerVm, conf: str) -> Callable[[], None]:
        files = [(HAPROXY, self.haproxy_cfg), (KEEPALIVED, conf)]
        return lambda: VmSetup(ctx, vm).converge(files)


def _check_vms(vms: Sequence[LoadBalancerVm]) -> None:
    names = [vm.name for vm in vms]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInput("vms", duplicates, "load-balancer VM names must be unique.")
    if len(vms) > keepalived.MAX_VMS:
        raise InvalidInput("vms", len(vms), f"at most {keepalived.MAX_VMS} load-balancer VMs.")
