"""The lab bridge: one Linux bridge in the root namespace holding the gateway of one lab /24.

The /24 is 198.18.0.0/15 cut into 512 slots: slot s is 198.18.s.0/24 for s < 256 and
198.19.(s-256).0/24 above. A slot is taken atomically by creating its bridge: when the name
exists (another lab or test run owns it), the next slot is tried. No NAT, no forwarding and no
sysctl is set in the root namespace; no existing interface is touched.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from pathlib import Path

from aksnet.errors import CapacityExceeded, InvalidInput, StateConflict
from aksnet.lab.linux import netns, state

log = logging.getLogger(__name__)

LAB_RANGE = ipaddress.IPv4Network("198.18.0.0/15")
SLOTS = range(512)
DEFAULT_SLOTS = range(256)  # 198.18.0.0/16: the lab's own; tests use range(256, 512)
_PREFIX = re.compile(r"^[a-z][a-z0-9]{0,3}$")


def subnet_of(slot: int) -> ipaddress.IPv4Network:
    """The /24 of a slot."""
    if slot not in SLOTS:
        raise InvalidInput("slot", slot, "is not allowed: use 0 to 511")
    base = int(LAB_RANGE.network_address) + slot * 256
    return ipaddress.IPv4Network((base, 24))


def bridge_name(prefix: str, slot: int) -> str:
    return f"{prefix}b{slot}"


class LabNetwork:
    """The lab's bridge. up() takes a free slot; down() removes the bridge."""

    def __init__(self, lab_dir: Path | str, prefix: str = "ak", slots: range = DEFAULT_SLOTS):
        if not _PREFIX.match(prefix):
            raise InvalidInput(
                "prefix", prefix, "is not allowed: 1 to 4 characters, a-z then a-z or 0-9"
            )
        if not slots or slots.start < 0 or slots.stop > len(SLOTS):
            raise InvalidInput("slots", slots, "must be a non-empty range inside 0..511")
        self.lab_dir = Path(lab_dir)
        self.prefix = prefix
        self.slots = slots
        self.slot: int | None = None

    def __repr__(self) -> str:
        return f"LabNetwork(prefix={self.prefix!r}, slot={self.slot!r})"

    @property
    def bridge(self) -> str:
        return bridge_name(self.prefix, self._taken())

    @property
    def subnet(self) -> ipaddress.IPv4Network:
        return subnet_of(self._taken())

    @property
    def gateway(self) -> ipaddress.IPv4Address:
        return self.subnet.network_address + 1

    def _taken(self) -> int:
        if self.slot is None:
            raise StateConflict("the lab network is not up: call up() first", target=self.prefix)
        return self.slot

    def up(self) -> LabNetwork:
        """Take the first free slot: create its bridge, give it the gateway address."""
        if self.slot is not None:
            return self
        for slot in self.slots:
            if self._try_slot(slot):
                self.slot = slot
                log.debug("lab: bridge %s is up with %s", self.bridge, self.gateway)
                return self
        raise CapacityExceeded("lab network slots", 1, 0, f"(all of {self.slots} are taken)")

    def _try_slot(self, slot: int) -> bool:
        name = bridge_name(self.prefix, slot)
        if not netns.try_add_bridge(name):
            return False
        with state.update(self.lab_dir) as data:
            data["bridges"][name] = {"slot": slot}
        subnet = subnet_of(slot)
        try:
            netns.quiet_ipv6(name)
            netns.add_address(name, f"{subnet.network_address + 1}/24")
            if self._subnet_used_elsewhere(name, subnet):
                # Another lab with another prefix holds this /24: leave it to them.
                self._remove(name)
                return False
            netns.set_up(name)
        except BaseException:
            self._remove(name)
            raise
        return True

    @staticmethod
    def _subnet_used_elsewhere(own: str, subnet: ipaddress.IPv4Network) -> bool:
        for link, cidr in netns.addresses_in_root():
            if link != own and ipaddress.IPv4Interface(cidr).ip in subnet:
                return True
        return False

    def _remove(self, name: str) -> None:
        netns.delete_link(name)
        with state.update(self.lab_dir) as data:
            data["bridges"].pop(name, None)

    def down(self) -> None:
        """Remove the bridge (idempotent). Stop the nodes on it first."""
        if self.slot is None:
            return
        self._remove(self.bridge)
        self.slot = None
