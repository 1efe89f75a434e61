"""Which addresses a load-balancer VM holds, read over SSH, and the wait for keepalived to take
the API server's VIP.

keepalived takes a VIP a few seconds after it starts (its health script must pass `rise` times
first), so configuring it is not the same as the VIP answering. A create's last phase
(ApiVipHeld) waits until one of the load-balancer VMs holds the API VIP, so that a create
returned is one whose API is reachable; being last, the wait overlaps the node phases (kubeadm
itself retries its endpoint meanwhile). Remediation reads the same fact to find VIPs the store
does not know.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aksnet.errors import OperationTimedOut
from aksnet.infra.linuxfacts import NodeShell
from aksnet.infra.provision import poll_delays
from aksnet.plan.runner import RunContext

log = logging.getLogger(__name__)

API_VIP_TIMEOUT = 60.0  # keepalived's own rise time is seconds; a minute means it is not coming


@dataclass(frozen=True)
class HeldAddresses:
    """The IPv4 addresses on a Linux VM's interfaces other than loopback: (device, address)."""

    shell: NodeShell = field(compare=False)
    key: str = "ipv4-addresses"

    def read(self, host: str) -> tuple[tuple[str, str], ...]:
        text = self.shell.run(["ip", "-o", "-4", "address", "show"]).text
        return parse_addresses(text)


def parse_addresses(text: str) -> tuple[tuple[str, str], ...]:
    """`ip -o -4 address show` lines: "2: eth0    inet 198.19.0.12/24 brd ... scope global"."""
    found = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == "inet" and fields[1] != "lo":
            found.append((fields[1], fields[3].split("/")[0]))
    return tuple(found)


def wait_for_vip(
    ctx: RunContext,
    vms: Sequence[tuple[str, NodeShell]],
    vip: str,
    *,
    timeout: float = API_VIP_TIMEOUT,
) -> str:
    """Poll the VMs (name, shell) until one holds `vip`; return its name. OperationTimedOut
    naming the VMs and the VIP when none does within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    delays = poll_delays(first=0.2, cap=1.0)
    while True:
        for name, shell in vms:
            held = ctx.fact(name, HeldAddresses(shell)) or ()
            if any(address == vip for _device, address in held):
                return name
        if time.monotonic() >= deadline:
            names = ", ".join(name for name, _shell in vms)
            raise OperationTimedOut(
                vip,
                f"no load-balancer VM ({names}) took the API VIP {vip} within {timeout:g} s: "
                "check keepalived on them (journalctl -u keepalived)",
            )
        log.debug("waiting for a load-balancer VM to hold %s", vip)
        time.sleep(next(delays))


class ApiVipHeld:
    """The phase: one of the load-balancer VMs holds the API VIP. `vms` gives (name, shell)
    pairs once the VMs run (their addresses may be learnt: DHCP). It changes nothing, so a
    what-if skips it."""

    title = "Wait for the API VIP"

    def __init__(
        self,
        vms: Callable[[], Sequence[tuple[str, NodeShell]]],
        api_vip: str,
        *,
        timeout: float = API_VIP_TIMEOUT,
    ) -> None:
        self.vms, self.api_vip, self.timeout = vms, api_vip, timeout

    def prepare(self, ctx: RunContext) -> bool:
        return not ctx.dry_run

    def run(self, ctx: RunContext) -> None:
        holder = wait_for_vip(ctx, self.vms(), self.api_vip, timeout=self.timeout)
        log.debug("API VIP %s held by %s", self.api_vip, holder)
