"""Hyper-V networking cmdlets: vSwitches, VM network adapters, VLANs, connect/disconnect."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aksnet.lab.hyperv.binder import Bound
from aksnet.lab.hyperv.host import LabFailure
from aksnet.lab.hyperv.objects import LabObject
from aksnet.lab.hyperv.select import host_of, select_vms
from aksnet.lab.hyperv.vm import NetworkAdapter, VirtualMachine

if TYPE_CHECKING:
    from aksnet.lab.hyperv.machine import Context, MachineBase

_MAC = re.compile(r"^[0-9A-F]{12}$")


def _switch_object(ctx: Context, name: str) -> LabObject:
    host = host_of(ctx)
    sw = host.switches[name.lower()]
    return LabObject(
        "VMSwitch",
        Name=sw.name,
        Id=sw.id,
        SwitchType=sw.switch_type,
        NetAdapterInterfaceDescription=sw.net_adapter,
        ComputerName=host.name,
    )


def get_switch(ctx: Context, b: Bound) -> list[Any]:
    names = [b.get("Name")] if b.has("Name") else None
    switches = host_of(ctx).find_switches(names)
    wanted = {str(t).lower() for t in b.get("SwitchType") or []}
    return [
        _switch_object(ctx, s.name)
        for s in switches
        if not wanted or s.switch_type.lower() in wanted
    ]


def new_switch(ctx: Context, b: Bound) -> list[Any]:
    adapters = b.get("NetAdapterName") or b.get("NetAdapterInterfaceDescription")
    sw = host_of(ctx).new_switch(
        str(b.get("Name")), str(b.get("SwitchType", "External")), adapters[0] if adapters else None
    )
    return [_switch_object(ctx, sw.name)]


def _adapters(
    ctx: Context, b: Bound, name_param: str
) -> tuple[list[tuple[VirtualMachine, NetworkAdapter]], list[Any]]:
    """(VM, adapter) pairs a call names, by VM or by adapter objects, filtered by adapter name."""
    host = host_of(ctx)
    pairs: list[tuple[VirtualMachine, NetworkAdapter]] = []
    out: list[Any] = []
    given = b.get("VMNetworkAdapter")
    if given is not None:
        for obj in given if isinstance(given, list) else [given]:
            vm = host.vm_by_id(str(obj.get("VMId", "")))
            for a in vm.adapters if vm else []:
                if a.name == obj.get("Name"):
                    pairs.append((vm, a))  # type: ignore[arg-type]
        return pairs, out
    vms, out = select_vms(ctx, b)
    wanted = b.get(name_param)
    for vm in vms:
        pairs += [(vm, a) for a in vm.adapters if wanted is None or _named(a, wanted)]
    return pairs, out


def _named(a: NetworkAdapter, wanted: Any) -> bool:
    names = wanted if isinstance(wanted, list) else [wanted]
    return a.name.lower() in {str(n).lower() for n in names}


def get_adapter(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    if b.set_name == "All":
        return [vm.adapter_object(a, host.name) for vm in host.vms for a in vm.adapters]
    pairs, out = _adapters(ctx, b, "Name")
    return [vm.adapter_object(a, host.name) for vm, a in pairs] + out


def add_adapter(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    vms, out = select_vms(ctx, b)
    for vm in vms:
        switch = host.require_switch(str(b.get("SwitchName"))).name if b.has("SwitchName") else None
        adapter = NetworkAdapter(str(b.get("Name", "Network Adapter")), switch)
        if b.has("StaticMacAddress"):
            adapter.mac_address, adapter.dynamic_mac = _mac(str(b.get("StaticMacAddress"))), False
        with host.lock:
            vm.adapters.append(adapter)
        if b.has("Passthru"):
            out.append(vm.adapter_object(adapter, host.name))
    return out


def _mac(value: str) -> str:
    mac = value.replace("-", "").replace(":", "").upper()
    if not _MAC.match(mac):
        raise LabFailure(
            "InvalidParameter",
            f"The MAC address '{value}' is not valid: expected 12 hexadecimal digits.",
            "InvalidArgument",
            value,
        )
    return mac


def set_adapter(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    pairs, out = _adapters(ctx, b, "Name")
    for vm, a in pairs:
        with host.lock:
            if b.has("StaticMacAddress"):
                a.mac_address, a.dynamic_mac = _mac(str(b.get("StaticMacAddress"))), False
            if b.has("DynamicMacAddress"):
                a.dynamic_mac = True
            if b.has("MacAddressSpoofing"):
                a.mac_spoofing = str(b.get("MacAddressSpoofing"))
        if b.has("Passthru"):
            out.append(vm.adapter_object(a, host.name))
    return out


def set_vlan(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    if b.has("Access") and not b.has("VlanId"):
        raise ctx.fail(
            "InvalidParameter",
            "The VlanId parameter must be specified together with Access.",
            "InvalidArgument",
        )
    pairs, out = _adapters(ctx, b, "VMNetworkAdapterName")
    for vm, a in pairs:
        with host.lock:
            if b.has("Access"):
                a.vlan_mode, a.access_vlan_id = "Access", int(b.get("VlanId"))
            elif b.has("Untagged"):
                a.vlan_mode, a.access_vlan_id = "Untagged", 0
        if b.has("Passthru"):
            out.append(vm.vlan_object(a))
    return out


def get_vlan(ctx: Context, b: Bound) -> list[Any]:
    pairs, out = _adapters(ctx, b, "VMNetworkAdapterName")
    return [vm.vlan_object(a) for vm, a in pairs] + out


def connect_adapter(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    switch = b.get("VMSwitch")
    name = switch.get("Name") if isinstance(switch, dict) else b.get("SwitchName")
    sw = host.require_switch(str(name)) if name is not None else None
    pairs, out = _adapters(ctx, b, "Name")
    for vm, a in pairs:
        with host.lock:
            a.switch_name = sw.name if sw else a.switch_name
        if b.has("Passthru"):
            out.append(vm.adapter_object(a, host.name))
    return out


def disconnect_adapter(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    pairs, out = _adapters(ctx, b, "Name")
    for _vm, a in pairs:
        with host.lock:
            a.switch_name = None
    return out


def register(m: MachineBase) -> None:
    for name, handler in {
        "Get-VMSwitch": get_switch,
        "New-VMSwitch": new_switch,
        "Get-VMNetworkAdapter": get_adapter,
        "Add-VMNetworkAdapter": add_adapter,
        "Set-VMNetworkAdapter": set_adapter,
        "Set-VMNetworkAdapterVlan": set_vlan,
        "Get-VMNetworkAdapterVlan": get_vlan,
        "Connect-VMNetworkAdapter": connect_adapter,
        "Disconnect-VMNetworkAdapter": disconnect_adapter,
    }.items():
        m.register(name, handler)
