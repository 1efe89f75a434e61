"""What the Hyper-V hosts and the Windows nodes hold, read in one round trip each (read-only).

`HostInventory` is a fact (aksnet.plan.Fact): every VM on a host with its state and network
adapters (switch, MAC, access VLAN), from Get-VM, Get-VMNetworkAdapter and
Get-VMNetworkAdapterVlan in one pipeline. `hns_network_names` lists a Windows node's HNS
networks (Get-HnsNetwork). Create's own facts (aksnet.infra.vms.VmFact) read one VM at a time
and do not keep the adapter's switch; the checks create does not make need every VM of a host.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aksnet.infra.macpool import parse_mac
from aksnet.infra.vms import _VLAN_MODES, _VM_STATES, _enum
from aksnet.remote.base import Cmdlet, PowerShellSession

_QUIET = {"ErrorAction": "SilentlyContinue"}


@dataclass(frozen=True)
class Adapter:
    name: str
    switch: str | None  # None: not connected
    mac: int | None
    vlan_id: int | None  # the access VLAN; None when untagged


@dataclass(frozen=True)
class HostVm:
    name: str
    host: str
    state: str
    adapters: tuple[Adapter, ...]


class HostInventory:
    """Every VM on a host with its adapters; a Fact keyed per host."""

    key = "remediation:vm-inventory"

    def __init__(self, sessions: Mapping[str, PowerShellSession]) -> None:
        self._sessions = sessions

    def read(self, host: str) -> tuple[HostVm, ...]:
        output = self._sessions[host].invoke(
            Cmdlet.of("Get-VM"),
            Cmdlet.of("Get-VMNetworkAdapter", _QUIET, VMName="*"),
            Cmdlet.of("Get-VMNetworkAdapterVlan", _QUIET, VMName="*"),
        )
        return parse_inventory(host, output)


def parse_inventory(host: str, output: Sequence[Any]) -> tuple[HostVm, ...]:
    """Sort one pipeline's objects by their shape, as aksnet.infra.vms.parse_vm_facts does."""
    objects = [o for o in output if isinstance(o, dict)]
    vms = [o for o in objects if "Generation" in o]
    adapters = [o for o in objects if "MacAddress" in o]
    vlans = {
        (str(o.get("VMName", "")).lower(), str(o.get("AdapterName", ""))): o
        for o in objects
        if "OperationMode" in o
    }
    found = []
    for vm in vms:
        name = str(vm["Name"])
        mine = [a for a in adapters if str(a.get("VMName", "")).lower() == name.lower()]
        found.append(
            HostVm(
                name,
                host,
                _enum(vm.get("State"), _VM_STATES),
                tuple(_adapter(a, vlans.get((name.lower(), str(a.get("Name", ""))))) for a in mine),
            )
        )
    return tuple(found)


def _adapter(adapter: dict[str, Any], vlan: dict[str, Any] | None) -> Adapter:
    access = vlan is not None and _enum(vlan.get("OperationMode"), _VLAN_MODES) == "Access"
    mac = parse_mac(str(adapter.get("MacAddress") or "000000000000"))
    return Adapter(
        str(adapter.get("Name", "")),
        str(adapter["SwitchName"]) if adapter.get("SwitchName") else None,
        mac or None,
        int(vlan["AccessVlanId"]) if vlan and access else None,
    )


def hns_network_names(session: PowerShellSession) -> list[str]:
    """The names of the HNS networks on a Windows node."""
    return [str(n.get("Name", "")) for n in session.invoke(Cmdlet.of("Get-HnsNetwork")) if n]
