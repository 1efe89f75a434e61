"""aksnet's managed MAC pool: locally administered unicast addresses (02:...), one per VM.

Hyper-V's dynamic MACs come from a per-host range and can change when a VM moves between hosts;
the seed's network-config matches the NIC by MAC, so aksnet gives every VM a static MAC that it
decided and recorded in the store before the VM exists. The pool must lie inside the locally
administered unicast space (first octet with bit 0x02 set and bit 0x01 clear) so it can never
collide with a vendor-assigned address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aksnet.errors import InvalidInput
from aksnet.state.macs import allocate_mac
from aksnet.state.store import Store

_MAC = re.compile(r"^[0-9a-fA-F]{2}([:-]?[0-9a-fA-F]{2}){5}$")


def parse_mac(text: str, parameter: str = "mac") -> int:
    """A MAC in colon, dash or bare-hex form (any case) as a 48-bit integer."""
    if not isinstance(text, str) or not _MAC.match(text):
        raise InvalidInput(parameter, text, "it must be a MAC such as 02:a5:00:00:00:01.")
    return int(re.sub(r"[:-]", "", text), 16)


def colon_form(mac: int) -> str:
    """02:a5:00:00:00:01 (cloud-init's network-config form)."""
    return ":".join(f"{(mac >> shift) & 0xFF:02x}" for shift in range(40, -8, -8))


def hyperv_form(mac: int) -> str:
    """02A500000001 (what Set-VMNetworkAdapter -StaticMacAddress takes and Get- returns)."""
    return f"{mac:012X}"


@dataclass(frozen=True)
class MacPool:
    """An inclusive range of locally administered unicast MACs."""

    first: int
    last: int

    @classmethod
    def of(cls, first: str, last: str) -> MacPool:
        pool = cls(parse_mac(first, "first"), parse_mac(last, "last"))
        pool.check()
        return pool

    def check(self) -> None:
        if self.first > self.last:
            raise InvalidInput("last", colon_form(self.last), "it must not be below the first.")
        for parameter, mac in (("first", self.first), ("last", self.last)):
            octet = mac >> 40
            if not octet & 0x02 or octet & 0x01:
                raise InvalidInput(
                    parameter,
                    colon_form(mac),
                    "it must be a locally administered unicast MAC (first octet x2, x6, xA or "
                    "xE, e.g. 02:...).",
                )
        if self.first >> 40 != self.last >> 40:
            raise InvalidInput("last", colon_form(self.last), "the pool must keep its first octet.")

    def allocate(self, store: Store, owner: str, cluster: str | None = None) -> int:
        """The owner's MAC from this pool, recorded in the store (the same one when asked again)."""
        self.check()
        return allocate_mac(store, self.first, self.last, owner=owner, cluster=cluster)


# The default pool: 02:a5:4b (aksnet, locally administered) followed by 24 bits.
DEFAULT_POOL = MacPool(0x02A54B000000, 0x02A54BFFFFFF)
