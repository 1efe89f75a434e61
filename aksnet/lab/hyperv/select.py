"""Find the VMs a Hyper-V cmdlet call names: by -VM objects or by -Name/-VMName strings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aksnet.lab.hyperv.binder import Bound
from aksnet.lab.hyperv.host import HyperVHost, vm_not_found
from aksnet.lab.hyperv.vm import VirtualMachine

if TYPE_CHECKING:
    from aksnet.lab.hyperv.machine import Context


def host_of(ctx: Context) -> HyperVHost:
    host = getattr(ctx.machine, "host", None)
    if not isinstance(host, HyperVHost):
        raise TypeError(f"{ctx.contract.name} needs a Hyper-V host")
    return host


def select_vms(
    ctx: Context, b: Bound, name_param: str = "VMName"
) -> tuple[list[VirtualMachine], list[Any]]:
    """The VMs and, for each plain name that matched none, the real not-found error record."""
    host = host_of(ctx)
    found: list[VirtualMachine] = []
    records: list[Any] = []
    for obj in b.get("VM") or []:
        vm = host.vm_by_id(str(obj.get("VMId", obj.get("Id", ""))) if isinstance(obj, dict) else "")
        if vm is None:
            name = obj.get("Name", "?") if isinstance(obj, dict) else str(obj)
            failure = vm_not_found(str(name))
            records.append(ctx.record(failure.error_id, failure.message, failure.category, name))
        else:
            found.append(vm)
    names = b.get(name_param)
    if names is not None:
        names = names if isinstance(names, list) else [names]
        vms, missing = host.find_vms([str(n) for n in names])
        found += vms
        for name in missing:
            failure = vm_not_found(name)
            records.append(ctx.record(failure.error_id, failure.message, failure.category, name))
    return found, records
