"""EMULATED DHCP: the lab hands addresses of a range of its /24 to VMs whose network-config says
dhcp4, for Linux and Windows VMs alike.

No DHCP packet is ever sent: when the lab plumbs a VM's namespace it takes the VM's lease (the
address, the lab's /24 prefix length and its gateway as the router; the lab runs no DNS server,
so no DNS servers are offered) and configures eth0 with it, as a DHCP client would. Leases are
kept per MAC address in <lab_dir>/dhcp/leases.json, so a VM that starts again gets its address
again; the first free address of the range goes to a new MAC. The host reports the address
through Get-VMNetworkAdapter's IPAddresses, which is how aksnet learns DHCP addresses.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aksnet.errors import CapacityExceeded, InvalidInput
from aksnet.lab.linux.cloudinit import NodeAddress

LABEL = "EMULATED DHCP"
FIRST_HOST, LAST_HOST = 100, 199  # the range: .100-.199 of the lab's /24
LEASES_FILE = "leases.json"


class EmulatedDhcp:
    """The lab's DHCP range and its leases (see the module docstring)."""

    def __init__(
        self,
        lab_dir: Path,
        subnet: ipaddress.IPv4Network,
        gateway: ipaddress.IPv4Address,
    ) -> None:
        if subnet.prefixlen != 24:
            raise InvalidInput("subnet", str(subnet), "must be the lab's /24")
        self.folder = Path(lab_dir) / "dhcp"
        self.subnet = subnet
        self.gateway = gateway
        self.first = subnet.network_address + FIRST_HOST
        self.last = subnet.network_address + LAST_HOST

    def __repr__(self) -> str:
        return f"EmulatedDhcp(range={self.range_text!r})"

    @property
    def range_text(self) -> str:
        return f"{self.first}-{self.last}"

    def lease(self, mac: str, hostname: str = "") -> NodeAddress:
        """The MAC's lease: the address it had, else the first free one of the range."""
        key = _mac_key(mac)
        with self._leases() as leases:
            known = leases.get(key)
            if known is None or ipaddress.IPv4Address(known["address"]) not in self.subnet:
                known = {"address": str(self._free(leases)), "hostname": hostname}
                leases[key] = known
            elif hostname:
                known["hostname"] = hostname
            address = ipaddress.IPv4Address(known["address"])
        interface = ipaddress.IPv4Interface(f"{address}/{self.subnet.prefixlen}")
        return NodeAddress(interface, self.gateway, ())

    def leases(self) -> dict[str, dict[str, Any]]:
        """MAC (aa:bb:..) -> {address, hostname}, as lab.json shows them."""
        with self._leases() as leases:
            return {mac: dict(lease) for mac, lease in sorted(leases.items())}

    def status(self) -> dict[str, Any]:
        return {
            "emulated": True,
            "label": LABEL,
            "range": self.range_text,
            "router": str(self.gateway),
            "dns_servers": [],
            "leases": self.leases(),
        }

    def _free(self, leases: dict[str, Any]) -> ipaddress.IPv4Address:
        taken = {lease["address"] for lease in leases.values()}
        candidate = self.first
        while candidate <= self.last:
            if str(candidate) not in taken:
                return candidate
            candidate += 1
        raise CapacityExceeded("lab DHCP addresses", 1, 0, f"(all of {self.range_text} are leased)")

    @contextlib.contextmanager
    def _leases(self) -> Iterator[dict[str, Any]]:
        """The leases under an exclusive lock; written back atomically when the block ends."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / LEASES_FILE
        with open(self.folder / "leases.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            leases: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
            yield leases
            tmp = self.folder / f".{LEASES_FILE}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(leases, indent=2, sort_keys=True))
            os.replace(tmp, path)


def _mac_key(mac: str) -> str:
    digits = mac.replace(":", "").replace("-", "").lower()
    if len(digits) != 12 or any(c not in "0123456789abcdef" for c in digits):
        raise InvalidInput("mac", mac, "must be a MAC address like 02:00:5e:00:00:01")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))
