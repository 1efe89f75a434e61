"""Network settings (`New-AksHciNetworkSetting` / `New-AksHciClusterNetwork`) and their rules.

Two address models (akshci-module.md §2.1): static (node IP pool, VIP pool, gateway, DNS, prefix)
and DHCP (only the VIP pool). Every rule here runs before anything is stored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from aksnet.errors import InvalidInput
from aksnet.network.addressing import AddressRange, parse_address, parse_prefix

_NAME = re.compile(r"^[a-z0-9]+$")
STATIC_PARAMETERS = (
    "ipAddressPrefix",
    "gateway",
    "dnsServers",
    "k8sNodeIpPoolStart",
    "k8sNodeIpPoolEnd",
)


@dataclass(frozen=True)
class NetworkSetting:
    """A validated network setting. Build it with `network_setting(...)`."""

    name: str
    vswitch_name: str
    vip_pool: AddressRange
    vlan_id: int | None = None
    ip_address_prefix: IPv4Network | None = None
    gateway: IPv4Address | None = None
    dns_servers: tuple[IPv4Address, ...] = ()
    node_pool: AddressRange | None = None

    @property
    def is_static(self) -> bool:
        return self.ip_address_prefix is not None

    @property
    def model(self) -> str:
        return "static" if self.is_static else "dhcp"

    def pool(self, kind: str) -> AddressRange:
        """The VIP pool ("vip") or the node pool ("node", static model only)."""
        if kind == "vip":
            return self.vip_pool
        if kind == "node" and self.node_pool is not None:
            return self.node_pool
        raise InvalidInput("pool", kind, f"network '{self.name}' has pools: {self.pool_kinds}.")

    @property
    def pool_kinds(self) -> tuple[str, ...]:
        return ("node", "vip") if self.node_pool is not None else ("vip",)

    def never_handed_out(self) -> frozenset[int]:
        """Addresses no pool hands out: the network and broadcast addresses and the gateway."""
        if self.ip_address_prefix is None:
            return frozenset()
        net = self.ip_address_prefix
        reserved = {int(net.network_address), int(net.broadcast_address)}
        if self.gateway is not None:
            reserved.add(int(self.gateway))
        return frozenset(reserved)

    def to_dict(self) -> dict[str, Any]:
        """The AksHci VirtualNetwork object's property names (§1.6 returned object)."""
        return {
            "Name": self.name,
            "VswitchName": self.vswitch_name,
            "IpAddressPrefix": str(self.ip_address_prefix) if self.ip_address_prefix else None,
            "Gateway": str(self.gateway) if self.gateway else None,
            "DnsServers": [str(d) for d in self.dns_servers],
            "Vlanid": self.vlan_id or 0,
            "VipPoolStart": str(self.vip_pool.start),
            "VipPoolEnd": str(self.vip_pool.end),
            "K8snodeIPPoolStart": str(self.node_pool.start) if self.node_pool else None,
            "K8snodeIPPoolEnd": str(self.node_pool.end) if self.node_pool else None,
            "Model": self.model,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkSetting:
        return network_setting(
            name=data["Name"],
            vswitch_name=data["VswitchName"],
            vlan_id=data.get("Vlanid") or None,
            vip_pool_start=data["VipPoolStart"],
            vip_pool_end=data["VipPoolEnd"],
            ip_address_prefix=data.get("IpAddressPrefix"),
            gateway=data.get("Gateway"),
            dns_servers=data.get("DnsServers") or None,
            k8s_node_ip_pool_start=data.get("K8snodeIPPoolStart"),
            k8s_node_ip_pool_end=data.get("K8snodeIPPoolEnd"),
        )


def network_setting(
    *,
    name: str,
    vswitch_name: str,
    vip_pool_start: str,
    vip_pool_end: str,
    vlan_id: int | None = None,
    ip_address_prefix: str | None = None,
    gateway: str | None = None,
    dns_servers: Sequence[str] | None = None,
    k8s_node_ip_pool_start: str | None = None,
    k8s_node_ip_pool_end: str | None = None,
) -> NetworkSetting:
    """Validate the parameters of New-AksHciClusterNetwork and return the setting."""
    check_network_name(name)
    if not vswitch_name or not str(vswitch_name).strip():
        raise InvalidInput("vswitchName", vswitch_name, "a virtual switch name is required.")
    vlan = check_vlan_id(vlan_id)
    vip_pool = AddressRange.of("vipPoolStart", vip_pool_start, "vipPoolEnd", vip_pool_end)
    static_given = {
        "ipAddressPrefix": ip_address_prefix,
        "gateway": gateway,
        "dnsServers": dns_servers,
        "k8sNodeIpPoolStart": k8s_node_ip_pool_start,
        "k8sNodeIpPoolEnd": k8s_node_ip_pool_end,
    }
    if not any(v not in (None, "", []) for v in static_given.values()):
        return NetworkSetting(name, vswitch_name, vip_pool, vlan)  # DHCP model (§2.1)
    for parameter, value in static_given.items():
        if value in (None, "", []):
            raise InvalidInput(
                parameter,
                value,
                "the static IP model needs all of " + ", ".join(STATIC_PARAMETERS) + ".",
            )
    assert ip_address_prefix and gateway and dns_servers
    assert k8s_node_ip_pool_start and k8s_node_ip_pool_end
    prefix = parse_prefix("ipAddressPrefix", ip_address_prefix)
    node_pool = AddressRange.of(
        "k8sNodeIpPoolStart", k8s_node_ip_pool_start, "k8sNodeIpPoolEnd", k8s_node_ip_pool_end
    )
    setting = NetworkSetting(
        name,
        vswitch_name,
        vip_pool,
        vlan,
        prefix,
        parse_address("gateway", gateway),
        check_dns_servers(dns_servers),
        node_pool,
    )
    check_static_layout(setting)
    return setting


def check_network_name(name: str) -> None:
    """§1.6: "must be all lowercase letters and numbers"."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput("name", name, "it must be all lowercase letters and numbers.")


def check_vlan_id(vlan_id: int | None) -> int | None:
    """§2.7: optional; omitted (or 0, as the returned object shows it) means untagged."""
    if vlan_id is None or vlan_id == 0:
        return None
    if isinstance(vlan_id, bool) or not isinstance(vlan_id, int) or not 1 <= vlan_id <= 4094:
        raise InvalidInput("vlanID", vlan_id, "it must be a VLAN ID from 1 to 4094 (0: untagged).")
    return vlan_id


def check_dns_servers(dns_servers: Sequence[str]) -> tuple[IPv4Address, ...]:
    """§1.6, §2.2: one to three DNS servers."""
    servers = [dns_servers] if isinstance(dns_servers, str) else list(dns_servers)
    if not 1 <= len(servers) <= 3:
        raise InvalidInput("dnsServers", servers, "give at least 1 and at most 3 DNS servers.")
    return tuple(parse_address("dnsServers", s) for s in servers)


def check_static_layout(s: NetworkSetting) -> None:
    """§1.6, §2.2: pools and gateway inside the prefix, pools apart, gateway outside both."""
    assert s.ip_address_prefix is not None and s.node_pool is not None and s.gateway
    prefix = s.ip_address_prefix
    for parameter, pool in (("k8sNodeIpPoolStart", s.node_pool), ("vipPoolStart", s.vip_pool)):
        if not pool.within(prefix):
            raise InvalidInput(
                parameter, f"{pool}", f"the pool must be inside ipAddressPrefix {prefix}."
            )
    if s.gateway not in prefix:
        raise InvalidInput("gateway", str(s.gateway), f"it must be inside {prefix}.")
    if s.gateway in (prefix.network_address, prefix.broadcast_address):
        raise InvalidInput(
            "gateway",
            str(s.gateway),
            f"it must not be the network or broadcast address of {prefix}.",
        )
    if s.node_pool.overlaps(s.vip_pool):
        raise InvalidInput(
            "vipPoolStart",
            f"{s.vip_pool}",
            f"the VIP pool must not overlap the node IP pool {s.node_pool}.",
        )
    for parameter, pool in (("k8sNodeIpPoolStart", s.node_pool), ("vipPoolStart", s.vip_pool)):
        if s.gateway in pool:
            raise InvalidInput(
                "gateway",
                str(s.gateway),
                f"the gateway must be outside the pool {pool} ({parameter}).",
            )
        usable = pool.size - len([a for a in s.never_handed_out() if a in pool])
        if usable < 1:
            raise InvalidInput(
                parameter, f"{pool}", "the pool holds no address that can be handed out."
            )
