"""An emulated Windows Kubernetes node: services, firewall rules, HNS, adapters, files, and the
image's EMULATED kubeadm.exe run through Start-Process (aksnet.lab.hyperv.kubeadm_exe).

New-HnsNetwork / New-HnsEndpoint are functions of microsoft/SDN hns.psm1: they exist only after
Import-Module of that file (which must exist on the node). reboot() models a restart: networks
that are not persistent are gone, automatic services run again, imported modules are forgotten.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aksnet.lab.hyperv import cmdlets_files, cmdlets_modules, cmdlets_process, kubeadm_exe
from aksnet.lab.hyperv.binder import Bound
from aksnet.lab.hyperv.filesystem import WindowsFileSystem
from aksnet.lab.hyperv.hns import HnsEndpoint, HnsNetwork, network_from_parameters
from aksnet.lab.hyperv.machine import Context, MachineBase
from aksnet.lab.hyperv.objects import LabObject

DEFAULT_SERVICES = ("kubelet", "kube-proxy", "flanneld", "CalicoNode", "CalicoFelix", "containerd")
HNS_FUNCTIONS = ("new-hnsnetwork", "new-hnsendpoint")


@dataclass
class Service:
    name: str
    display_name: str
    status: str = "Stopped"
    start_type: str = "Automatic"

    def to_object(self) -> LabObject:
        return LabObject(
            "ServiceController",
            Name=self.name,
            ServiceName=self.name,
            DisplayName=self.display_name,
            Status=self.status,
            StartType=self.start_type,
        )


class WindowsNode(MachineBase):
    """A Windows node the lab emulates; ``ip_address`` is its management address."""

    def __init__(
        self,
        name: str,
        root: Path,
        *,
        ip_address: str = "198.18.0.10",
        prefix_length: int = 24,
        mac_address: str = "00-15-5D-00-00-10",
        services: tuple[str, ...] = DEFAULT_SERVICES,
        lab_dir: Path | None = None,
    ) -> None:
        """lab_dir: the lab whose emulated control plane (aksnet.lab.k8sregistry) the node's
        kubeadm.exe joins; None for a node outside a lab (its joins are refused)."""
        super().__init__(name, WindowsFileSystem(root))
        self.lock = threading.RLock()
        self.ip_address = ip_address
        self.prefix_length = prefix_length
        self.mac_address = mac_address
        self.services = {s.lower(): Service(s, s) for s in services}
        self.firewall_rules: dict[str, dict[str, Any]] = {}
        self.networks: list[HnsNetwork] = []
        self.endpoints: list[HnsEndpoint] = []
        self.built_in_modules = frozenset(
            {"hostnetworkingservice", "netsecurity", "nettcpip", "netadapter"}
        )
        self.adapters = ["Ethernet"]
        self.boot_count = 1
        self.lab_dir = lab_dir
        # The image's EMULATED programs that Start-Process runs (when their file exists).
        self.programs: dict[str, cmdlets_process.Program] = {
            kubeadm_exe.PATH.lower(): kubeadm_exe.kubeadm_exe
        }
        self.kubeadm_calls: list[dict[str, Any]] = []
        cmdlets_files.register(self)
        cmdlets_modules.register(self)
        cmdlets_process.register(self)
        for command, handler in _HANDLERS.items():
            self.register(command, handler)

    def available(self, command: str) -> bool:
        key = command.lower()
        if key in HNS_FUNCTIONS:
            return "hns" in self.imported_modules and key in self.handlers
        return key in self.handlers

    def reboot(self) -> None:
        """A restart: non-persistent HNS state is lost, automatic services start again."""
        with self.lock:
            self.networks = [n for n in self.networks if n.persistent]
            ids = {n.id for n in self.networks}
            self.endpoints = [e for e in self.endpoints if e.network_id in ids]
            for s in self.services.values():
                s.status = "Running" if s.start_type == "Automatic" else "Stopped"
            self.imported_modules.clear()
            self.boot_count += 1


def _node(ctx: Context) -> WindowsNode:
    if not isinstance(ctx.machine, WindowsNode):
        raise TypeError(f"{ctx.contract.name} needs a Windows node")
    return ctx.machine


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _services(ctx: Context, b: Bound) -> tuple[list[Service], list[Any]]:
    node = _node(ctx)
    found: list[Service] = []
    out: list[Any] = []
    objects = b.get("InputObject") or []
    wanted = _names(b.get("Name")) + [str(o.get("Name")) for o in objects if isinstance(o, dict)]
    if not wanted and not b.has("DisplayName"):
        return list(node.services.values()), out
    for name in wanted:
        service = node.services.get(name.lower())
        if service is None:
            out.append(
                ctx.record(
                    "NoServiceFoundForGivenName",
                    f"Cannot find any service with service name '{name}'.",
                    "ObjectNotFound",
                    name,
                )
            )
        else:
            found.append(service)
    for display in _names(b.get("DisplayName")):
        found += [s for s in node.services.values() if s.display_name.lower() == display.lower()]
    return found, out


def get_service(ctx: Context, b: Bound) -> list[Any]:
    found, out = _services(ctx, b)
    return [s.to_object() for s in found] + out


def _set_status(ctx: Context, b: Bound) -> list[Any]:
    found, out = _services(ctx, b)
    with _node(ctx).lock:
        for s in found:
            s.status = "Running"
    return out + ([s.to_object() for s in found] if b.has("PassThru") else [])


def new_firewall_rule(ctx: Context, b: Bound) -> list[Any]:
    node = _node(ctx)
    name = str(b.get("Name") or b.get("DisplayName"))
    with node.lock:
        if name.lower() in node.firewall_rules:
            # Non-terminating (a CIM error): helper.psm1 silences it with -ErrorAction.
            return [
                ctx.record(
                    "Windows System Error 183",
                    "Cannot create a file when that file already exists.",
                    "ResourceExists",
                    name,
                )
            ]
        rule = LabObject(
            "NetFirewallRule",
            Name=name,
            DisplayName=str(b.get("DisplayName")),
            Description=b.get("Description"),
            Direction=str(b.get("Direction", "Inbound")),
            Action=str(b.get("Action", "Allow")),
            Enabled=str(b.get("Enabled", "True")),
            Protocol=b.get("Protocol"),
            LocalPort=b.get("LocalPort"),
            PrimaryStatus="OK",
        )
        node.firewall_rules[name.lower()] = rule
    return [rule]


def get_firewall_rule(ctx: Context, b: Bound) -> list[Any]:
    node = _node(ctx)
    with node.lock:
        rules = list(node.firewall_rules.values())
    if b.set_name == "ByDisplayName":
        wanted = {n.lower() for n in _names(b.get("DisplayName"))}
        return [r for r in rules if str(r["DisplayName"]).lower() in wanted]
    if b.set_name != "ByName":
        return rules
    out: list[Any] = []
    for name in _names(b.get("Name")):
        hit = node.firewall_rules.get(name.lower())
        out.append(
            hit
            if hit is not None
            else ctx.record(
                "CmdletizationQuery_NotFound_Name",
                f"No MSFT_NetFirewallRule objects found with property 'Name' equal to '{name}'.  "
                "Verify the value of the property and retry.",
                "ObjectNotFound",
                name,
            )
        )
    return out


def new_hns_network(ctx: Context, b: Bound) -> list[Any]:
    node = _node(ctx)
    network = network_from_parameters(b.values)
    with node.lock:
        node.networks.append(network)
        if network.type.lower() in ("overlay", "l2bridge") and len(node.adapters) == 1:
            node.adapters.append(f"vEthernet ({network.adapter_name or 'Ethernet'})")
    return [network.to_object(node.ip_address)]


def get_hns_network(ctx: Context, b: Bound) -> list[Any]:
    node = _node(ctx)
    with node.lock:
        networks = list(node.networks)
    if b.has("Id"):
        networks = [n for n in networks if n.id.lower() == str(b.get("Id")).lower()]
    return [n.to_object(node.ip_address) for n in networks]


def _ids(b: Bound) -> set[str]:
    items = b.get("InputObjects") or []
    return {str(i.get("Id") or i.get("ID")).lower() for i in items if isinstance(i, dict)}


def remove_hns_network(ctx: Context, b: Bound) -> list[Any]:
    node = _node(ctx)
    ids = _ids(b)
    with node.lock:
        node.networks = [n for n in node.networks if n.id.lower() not in ids]
        node.endpoints = [e for e in node.endpoints if e.network_id.lower() not in ids]
    return []


def new_hns_endpoint(ctx: Context, b: Bound) -> list[Any]:
    node = _node(ctx)
    network_id = str(b.get("NetworkId", "")).upper()
    with node.lock:
        if not any(n.id == network_id for n in node.networks):
            raise ctx.fail(
                "Microsoft.PowerShell.Commands.WriteErrorException",
                "Element not found.",
                "NotSpecified",
                network_id,
            )
        policies = [{"Type": "OutBoundNAT"}] if b.has("EnableOutboundNat") else []
        endpoint = HnsEndpoint(
            b.get("Name"),
            network_id,
            b.get("IPAddress"),
            b.get("MacAddress"),
            b.get("Gateway"),
            policies,
        )
        node.endpoints.append(endpoint)
    return [endpoint.to_object()]


def get_hns_endpoint(ctx: Context, b: Bound) -> list[Any]:
    node = _node(ctx)
    with node.lock:
        endpoints = list(node.endpoints)
    if b.has("Id"):
        endpoints = [e for e in endpoints if e.id.lower() == str(b.get("Id")).lower()]
    return [e.to_object() for e in endpoints]


def remove_hns_endpoint(ctx: Context, b: Bound) -> list[Any]:
    node = _node(ctx)
    ids = _ids(b)
    with node.lock:
        node.endpoints = [e for e in node.endpoints if e.id.lower() not in ids]
    return []


def get_net_adapter(ctx: Context, b: Bound) -> list[Any]:
    node = _node(ctx)
    wanted = {n.lower() for n in _names(b.get("Name"))}
    return [
        LabObject(
            "NetAdapter",
            Name=name,
            InterfaceAlias=name,
            ifIndex=index + 4,
            InterfaceIndex=index + 4,
            MacAddress=node.mac_address,
            Status="Up",
            InterfaceDescription="Microsoft Hyper-V Network Adapter"
            if index == 0
            else "Hyper-V Virtual Ethernet Adapter",
        )
        for index, name in enumerate(node.adapters)
        if not wanted or name.lower() in wanted
    ]


def get_net_ip_address(ctx: Context, b: Bound) -> list[Any]:
    node = _node(ctx)
    alias = node.adapters[-1]  # the address moves to the vEthernet adapter once HNS made one
    address = LabObject(
        "NetIPAddress",
        IPAddress=node.ip_address,
        InterfaceAlias=alias,
        InterfaceIndex=len(node.adapters) + 3,
        AddressFamily="IPv4",
        PrefixLength=node.prefix_length,
        PrefixOrigin="Manual",
    )
    wanted = {a.lower() for a in _names(b.get("InterfaceAlias"))}
    if wanted and alias.lower() not in wanted:
        return []
    return [address]


_HANDLERS = {
    "Get-Service": get_service,
    "Start-Service": _set_status,
    "Restart-Service": _set_status,
    "New-NetFirewallRule": new_firewall_rule,
    "Get-NetFirewallRule": get_firewall_rule,
    "New-HnsNetwork": new_hns_network,
    "Get-HnsNetwork": get_hns_network,
    "Remove-HnsNetwork": remove_hns_network,
    "New-HnsEndpoint": new_hns_endpoint,
    "Get-HnsEndpoint": get_hns_endpoint,
    "Remove-HnsEndpoint": remove_hns_endpoint,
    "Get-NetAdapter": get_net_adapter,
    "Get-NetIPAddress": get_net_ip_address,
}

__all__ = ["HnsNetwork", "Service", "WindowsNode"]
