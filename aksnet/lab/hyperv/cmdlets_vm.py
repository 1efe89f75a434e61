"""Hyper-V VM cmdlets: Get/New/Set/Start/Stop/Remove-VM, processor, memory, disks, DVD, firmware."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aksnet.lab.hyperv.binder import Bound
from aksnet.lab.hyperv.host import DEFAULT_VM_PATH, LabFailure
from aksnet.lab.hyperv.objects import LabObject
from aksnet.lab.hyperv.select import host_of, select_vms
from aksnet.lab.hyperv.vm import DEFAULT_MEMORY, VirtualMachine

if TYPE_CHECKING:
    from aksnet.lab.hyperv.machine import Context, MachineBase


def _for_each(
    ctx: Context, vms: list[VirtualMachine], out: list[Any], action: Callable[[VirtualMachine], Any]
) -> list[Any]:
    """Run action per VM; a failure is that VM's error record and the next VM still runs."""
    for vm in vms:
        try:
            result = action(vm)
        except LabFailure as f:
            out.append(ctx.record(f.error_id, f.message, f.category, f.target))
            continue
        if result is not None:
            out.append(result)
    return out


def get_vm(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    if b.has("Id"):
        vm = host.vm_by_id(str(b.get("Id")))
        return [vm.vm_object(host.name)] if vm else []
    if not b.has("Name"):
        return [vm.vm_object(host.name) for vm in host.find_vms(None)[0]]
    vms, records = select_vms(ctx, b, "Name")
    return [vm.vm_object(host.name) for vm in vms] + records


def new_vm(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    generation = int(b.get("Generation", 1))
    vm = host.new_vm(
        name=str(b.get("Name") or "New Virtual Machine"),
        generation=generation,
        memory=int(b.get("MemoryStartupBytes", DEFAULT_MEMORY)),
        switch_name=b.get("SwitchName"),
        path=b.get("Path"),
    )
    if b.set_name == "Existing VHD":
        host.add_hard_disk(vm, str(b.get("VHDPath")))
    elif b.set_name == "New VHD":
        host.new_vhd(str(b.get("NewVHDPath")), int(b.get("NewVHDSizeBytes")), "Dynamic", None)
        host.add_hard_disk(vm, str(b.get("NewVHDPath")))
    return [vm.vm_object(host.name)]


def _each_vm(ctx: Context, b: Bound, action: str) -> list[Any]:
    host = host_of(ctx)
    vms, out = select_vms(ctx, b, "Name")
    change = {"start": host.start_vm, "stop": host.stop_vm, "remove": host.remove_vm}[action]
    passthru = b.has("Passthru") or b.has("PassThru")

    def one(vm: VirtualMachine) -> Any:
        change(vm)
        return vm.vm_object(host.name) if passthru else None

    return _for_each(ctx, vms, out, one)


def start_vm(ctx: Context, b: Bound) -> list[Any]:
    return _each_vm(ctx, b, "start")


def stop_vm(ctx: Context, b: Bound) -> list[Any]:
    return _each_vm(ctx, b, "stop")


def remove_vm(ctx: Context, b: Bound) -> list[Any]:
    return _each_vm(ctx, b, "remove")


def set_vm(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    vms, out = select_vms(ctx, b, "Name")

    def one(vm: VirtualMachine) -> Any:
        with host.lock:
            if b.has("ProcessorCount"):
                host.set_processor_count(vm, int(b.get("ProcessorCount")))
            if b.has("MemoryStartupBytes"):
                vm.memory_startup = int(b.get("MemoryStartupBytes"))
            if b.has("DynamicMemory") or b.has("StaticMemory"):
                vm.dynamic_memory = b.has("DynamicMemory")
        return vm.vm_object(host.name) if b.has("Passthru") else None

    return _for_each(ctx, vms, out, one)


def set_vm_processor(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    vms, out = select_vms(ctx, b)
    if not b.has("Count"):
        return out
    return _for_each(ctx, vms, out, lambda vm: host.set_processor_count(vm, int(b.get("Count"))))


def set_vm_memory(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    vms, out = select_vms(ctx, b)

    def one(vm: VirtualMachine) -> None:
        with host.lock:
            if b.has("StartupBytes"):
                if vm.state != "Off" and not vm.dynamic_memory:
                    raise LabFailure(
                        "InvalidState",
                        f"Failed to modify device 'Memory'.\n'{vm.name}' failed to modify "
                        "device 'Memory'. The operation cannot be performed while the object is "
                        "in its current state.",
                        "InvalidOperation",
                        vm.name,
                    )
                vm.memory_startup = int(b.get("StartupBytes"))
            if b.has("DynamicMemoryEnabled"):
                vm.dynamic_memory = bool(b.get("DynamicMemoryEnabled"))

    return _for_each(ctx, vms, out, one)


def get_vm_host(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    return [
        LabObject(
            "VMHost",
            Name=host.name,
            ComputerName=host.name,
            LogicalProcessorCount=host.logical_processors,
            MemoryCapacity=host.memory_bytes,
            FreeMemory=host.memory_free(),
            StorageCapacity=host.storage_bytes,
            StorageUsed=host.storage_used(),
            VirtualHardDiskPath="C:\\ClusterStorage\\Volume1",
            VirtualMachinePath=DEFAULT_VM_PATH,
        )
    ]


def new_vhd(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    out: list[Any] = []
    kind = "Differencing" if b.has("Differencing") else "Fixed" if b.has("Fixed") else "Dynamic"
    for path in b.get("Path"):
        size = b.get("SizeBytes")
        vhd = host.new_vhd(path, int(size) if size is not None else None, kind, b.get("ParentPath"))
        out.append(_vhd_object(vhd.path, vhd.size, vhd.vhd_type, vhd.parent, host.name))
    return out


def get_vhd(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    out: list[Any] = []
    for path in b.get("Path") or []:
        vhd = host.get_vhd(path)
        out.append(_vhd_object(vhd.path, vhd.size, vhd.vhd_type, vhd.parent, host.name))
    return out


def _vhd_object(path: str, size: int, kind: str, parent: str | None, host: str) -> LabObject:
    return LabObject(
        "VirtualHardDisk",
        Path=path,
        VhdFormat="VHDX" if path.lower().endswith(".vhdx") else "VHD",
        VhdType=kind,
        Size=size,
        ParentPath=parent,
        ComputerName=host,
        Attached=False,
    )


def add_hard_disk(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    vms, out = select_vms(ctx, b)

    def one(vm: VirtualMachine) -> Any:
        disk = host.add_hard_disk(vm, str(b.get("Path")))
        return vm.disk_object(disk, host.name) if b.has("Passthru") else None

    return _for_each(ctx, vms, out, one)


def add_dvd(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    vms, out = select_vms(ctx, b)

    def one(vm: VirtualMachine) -> Any:
        drive = host.add_dvd(vm, b.get("Path"))
        return vm.dvd_object(drive, host.name) if b.has("Passthru") else None

    return _for_each(ctx, vms, out, one)


def set_dvd(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    vms, out = select_vms(ctx, b)
    for vm in vms:
        drives = [
            d
            for d in vm.dvd_drives
            if b.get("ControllerNumber", d.controller_number) == d.controller_number
            and b.get("ControllerLocation", d.controller_location) == d.controller_location
        ]
        if not drives:
            raise LabFailure(
                "ObjectNotFound",
                f"No DVD drive was found on virtual machine '{vm.name}' at the given location.",
                "ObjectNotFound",
                vm.name,
            )
        host.insert_iso(drives[0], b.get("Path"))
    return out


def get_dvd(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    vms, out = select_vms(ctx, b)
    return [vm.dvd_object(d, host.name) for vm in vms for d in vm.dvd_drives] + out


def set_firmware(ctx: Context, b: Bound) -> list[Any]:
    host = host_of(ctx)
    vms, out = select_vms(ctx, b)
    for vm in vms:
        if vm.generation != 2:
            out.append(
                ctx.record(
                    "InvalidParameter",
                    f"The operation is not supported for generation 1 virtual machine "
                    f"'{vm.name}'. Set-VMFirmware applies to generation 2 virtual machines.",
                    "InvalidArgument",
                    vm.name,
                )
            )
            continue
        with host.lock:
            if b.has("EnableSecureBoot"):
                vm.secure_boot = str(b.get("EnableSecureBoot"))
            if b.has("SecureBootTemplate"):
                vm.secure_boot_template = str(b.get("SecureBootTemplate"))
    return out


def get_firmware(ctx: Context, b: Bound) -> list[Any]:
    vms, out = select_vms(ctx, b)
    return [vm.firmware_object() for vm in vms if vm.generation == 2] + out


def register(m: MachineBase) -> None:
    for name, handler in {
        "Get-VM": get_vm,
        "New-VM": new_vm,
        "Set-VM": set_vm,
        "Start-VM": start_vm,
        "Stop-VM": stop_vm,
        "Remove-VM": remove_vm,
        "Set-VMProcessor": set_vm_processor,
        "Set-VMMemory": set_vm_memory,
        "Get-VMHost": get_vm_host,
        "New-VHD": new_vhd,
        "Get-VHD": get_vhd,
        "Add-VMHardDiskDrive": add_hard_disk,
        "Add-VMDvdDrive": add_dvd,
        "Set-VMDvdDrive": set_dvd,
        "Get-VMDvdDrive": get_dvd,
        "Set-VMFirmware": set_firmware,
        "Get-VMFirmware": get_firmware,
    }.items():
        m.register(name, handler)
