"""VmNetworks: the network side of a lab VM, shared by Linux and Windows VMs.

attach() records the VM's namespace, veth and folder in the lab state (before creating them, so
sweep() finds them after a crash), then creates the namespace and a veth pair on the lab bridge
with the VM's MAC and address and its default route. detach() removes all of it again (killing
whatever runs in the namespace).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from aksnet.errors import InvalidInput
from aksnet.lab.linux import cloudinit, netns, state
from aksnet.lab.linux.cloudinit import NodeAddress
from aksnet.lab.linux.dhcp import EmulatedDhcp
from aksnet.lab.linux.network import LabNetwork
from aksnet.lab.linux.teardown import destroy_node

log = logging.getLogger(__name__)


class VmNetworks:
    """The VM namespaces of one lab on its LabNetwork."""

    def __init__(self, lab_dir: Path, network: LabNetwork, dhcp: EmulatedDhcp | None) -> None:
        self.lab_dir = lab_dir
        self.network = network
        self.dhcp = dhcp

    def address_for(self, network_config: dict[str, Any], mac: str, hostname: str) -> NodeAddress:
        """The VM's address from its network-config: static, or a lease of the lab's DHCP."""
        dhcp = self.dhcp
        lease = (lambda m: dhcp.lease(m, hostname)) if dhcp is not None else None
        return cloudinit.address_for(network_config, mac, lease)

    def __repr__(self) -> str:
        return f"VmNetworks(lab_dir={str(self.lab_dir)!r}, network={self.network!r})"

    def check_address(self, address: NodeAddress) -> None:
        """Refuse an address that is not a host address of the lab subnet (or is its gateway)."""
        ip, subnet = address.interface.ip, self.network.subnet
        if ip not in subnet or ip in (
            subnet.network_address,
            subnet.broadcast_address,
            self.network.gateway,
        ):
            raise InvalidInput(
                "network-config addresses",
                str(address.interface),
                f"must be a host address of the lab subnet {subnet} other than "
                f"the gateway {self.network.gateway}",
            )

    def record(self, name: str) -> dict[str, Any] | None:
        """The VM's recorded namespace, veth, folder and address; None when it has none."""
        found: dict[str, Any] | None = state.read(self.lab_dir)["nodes"].get(name)
        return found

    def attach(self, name: str, mac: str, address: NodeAddress) -> dict[str, Any]:
        """Record, then create the VM's namespace and veth (mac: "02:00:5e:00:00:01" form)."""
        self.check_address(address)
        record = self._record_new(name, address)
        try:
            self._plumb(record, mac, address)
        except BaseException:
            self.detach(name)
            raise
        return record

    def detach(self, name: str, keep_dir: bool = False) -> None:
        """Kill what runs in the VM's namespace, remove its veth and namespace (idempotent)."""
        record = self.record(name)
        if record is None:
            return
        destroy_node(record, keep_dir)
        with state.update(self.lab_dir) as data:
            data["nodes"].pop(name, None)

    def _record_new(self, name: str, address: NodeAddress) -> dict[str, Any]:
        """Name the VM's resources and record them before any is created."""
        prefix, slot = self.network.prefix, self.network.slot
        with state.update(self.lab_dir) as data:
            index = data["next_index"]
            data["next_index"] = index + 1
            record = {
                "netns": f"{prefix}{slot}-{name}",
                "veth": f"{prefix}v{slot}n{index}",
                "node_dir": str(state.state_dir(self.lab_dir) / "nodes" / name),
                "address": str(address.interface.ip),
                "pid": None,
            }
            data["nodes"][name] = record
        return record

    def _plumb(self, record: dict[str, Any], mac: str, address: NodeAddress) -> None:
        ns, veth = record["netns"], record["veth"]
        netns.add_netns(ns)
        netns.add_veth_into(veth, ns, "eth0", mac)
        netns.quiet_ipv6(veth)
        netns.attach_to_bridge(veth, self.network.bridge)
        netns.set_up(veth)
        netns.set_up("lo", ns)
        netns.quiet_ipv6("eth0", ns)
        netns.add_address("eth0", str(address.interface), ns)
        netns.set_up("eth0", ns)
        if address.gateway is not None:
            netns.add_default_route(ns, str(address.gateway))
        log.debug("lab: VM namespace %s has %s", ns, address.interface)
