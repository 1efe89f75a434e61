"""The state of one emulated Hyper-V host: capacity, vSwitches, VMs, VHDs, cluster membership.

Thread-safe: every change and every read holds the host's one lock. Hooks (on_vm_start /
on_vm_stop) run outside the lock, so a hook may call back into the host.
"""

from __future__ import annotations

import fnmatch
import logging
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aksnet.lab.hyperv.filesystem import WindowsFileSystem
from aksnet.lab.hyperv.vm import DvdDrive, HardDiskDrive, NetworkAdapter, VirtualMachine

log = logging.getLogger(__name__)
GB = 1024**3
DEFAULT_VM_PATH = "C:\\ProgramData\\Microsoft\\Windows\\Hyper-V"


class LabFailure(Exception):
    """A failure a cmdlet reports; the machine adds the command's name to the error id."""

    def __init__(
        self, error_id: str, message: str, category: str, target: str | None = None
    ) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message
        self.category = category
        self.target = target


class BootRefused(Exception):
    """The lab cannot boot what the VM's disk holds; Start-VM's error carries this text."""


@dataclass(frozen=True)
class AdapterInfo:
    name: str
    mac_address: str
    switch_name: str | None
    vlan_id: int | None  # the access VLAN, None when untagged
    mac_spoofing: bool


@dataclass(frozen=True)
class VMEvent:
    """What the lab's Linux runtime needs to start (or stop) the VM's stand-in."""

    host: str
    name: str
    vm_id: str
    generation: int
    memory_bytes: int
    processor_count: int
    adapters: tuple[AdapterInfo, ...]
    iso_paths: tuple[Path, ...]
    secure_boot: bool
    secure_boot_template: str | None
    # The VM's first hard disk (Windows path) and the real file of the image at the root of its
    # differencing chain: what the VM boots. None when the VM has no hard disk.
    disk_path: str | None = None
    image_path: Path | None = None

    @property
    def mac_addresses(self) -> tuple[str, ...]:
        return tuple(a.mac_address for a in self.adapters)


Hook = Callable[[VMEvent], None]


@dataclass
class VSwitch:
    name: str
    switch_type: str
    net_adapter: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Vhd:
    path: str
    size: int
    vhd_type: str
    parent: str | None = None


def is_wildcard(name: str) -> bool:
    return any(c in name for c in "*?[")


def matches(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


class FailoverCluster:
    """A failover cluster several hosts share: nodes and clustered roles (groups)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()
        self.nodes: list[str] = []
        self.groups: dict[str, dict[str, str]] = {}  # lower name -> Name, OwnerNode, State


class HyperVHost:
    """One Hyper-V host. Windows paths live under ``root`` (see WindowsFileSystem)."""

    def __init__(
        self,
        name: str,
        root: Path,
        *,
        memory_bytes: int = 64 * GB,
        logical_processors: int = 16,
        storage_bytes: int = 1024 * GB,
        on_vm_start: Hook | None = None,
        on_vm_stop: Hook | None = None,
        cluster: FailoverCluster | None = None,
    ) -> None:
        self.name = name
        self.fs = WindowsFileSystem(root)
        self.lock = threading.RLock()
        self.memory_bytes = memory_bytes
        self.logical_processors = logical_processors
        self.storage_bytes = storage_bytes
        self.on_vm_start = on_vm_start
        self.on_vm_stop = on_vm_stop
        self.cluster = cluster
        if cluster is not None:
            with cluster.lock:
                cluster.nodes.append(name)
        self.switches: dict[str, VSwitch] = {}
        self.vms: list[VirtualMachine] = []
        self.vhds: dict[str, Vhd] = {}
        self._mac_rng = random.Random(name)  # stable MACs per host name
        self.fs.real("C:\\ClusterStorage\\Volume1").mkdir(parents=True, exist_ok=True)
        self.fs.real(DEFAULT_VM_PATH).mkdir(parents=True, exist_ok=True)

    # capacity ------------------------------------------------------------------------------
    def memory_free(self) -> int:
        with self.lock:
            used = sum(vm.memory_startup for vm in self.vms if vm.state == "Running")
            return self.memory_bytes - used

    def storage_used(self) -> int:
        with self.lock:
            return sum(v.size for v in self.vhds.values())

    # switches ------------------------------------------------------------------------------
    def new_switch(self, name: str, switch_type: str, net_adapter: str | None) -> VSwitch:
        with self.lock:
            if name.lower() in self.switches:
                raise LabFailure(
                    "ObjectAlreadyExists",
                    f"Failed while adding virtual Ethernet switch connections.\n"
                    f"A virtual switch with the name '{name}' already exists.",
                    "ResourceExists",
                    name,
                )
            sw = VSwitch(name, "External" if net_adapter else switch_type, net_adapter)
            self.switches[name.lower()] = sw
            return sw

    def find_switches(self, names: list[str] | None) -> list[VSwitch]:
        with self.lock:
            if not names:
                return list(self.switches.values())
            found: list[VSwitch] = []
            for pattern in names:
                hits = [s for s in self.switches.values() if matches(pattern, s.name)]
                if not hits and not is_wildcard(pattern):
                    raise switch_not_found(pattern)
                found += [h for h in hits if h not in found]
            return found

    def require_switch(self, name: str) -> VSwitch:
        return self.find_switches([name])[0]

    # VMs -------------------------------------------------------------------------------------
    def new_vm(
        self,
        name: str,
        generation: int,
        memory: int,
        switch_name: str | None,
        path: str | None,
    ) -> VirtualMachine:
        with self.lock:
            if switch_name is not None:
                switch_name = self.require_switch(switch_name).name
            # With -Path Hyper-V makes a folder named after the VM; without, the VM lives in the
            # host's default folder itself.
            vm_path = self.fs.normalize(path) + "\\" + name if path else DEFAULT_VM_PATH
            self.fs.real(vm_path).mkdir(parents=True, exist_ok=True)
            vm = VirtualMachine(name=name, generation=generation, path=vm_path)
            vm.memory_startup = memory
            vm.adapters.append(NetworkAdapter("Network Adapter", switch_name))
            if generation == 1:  # Hyper-V gives a generation 1 VM a DVD drive on IDE 1:0
                vm.dvd_drives.append(DvdDrive(1, 0))
            self.vms.append(vm)
            log.debug("host %s: new VM %s (gen %d)", self.name, name, generation)
            return vm

    def find_vms(self, names: list[str] | None) -> tuple[list[VirtualMachine], list[str]]:
        """VMs matching the names (wildcards allowed) and the plain names that matched none."""
        with self.lock:
            if not names:
                return list(self.vms), []
            found: list[VirtualMachine] = []
            missing: list[str] = []
            for pattern in names:
                hits = [vm for vm in self.vms if matches(pattern, vm.name)]
                if not hits and not is_wildcard(pattern):
                    missing.append(pattern)
                found += [h for h in hits if h not in found]
            return found, missing

    def vm_by_id(self, vm_id: str) -> VirtualMachine | None:
        with self.lock:
            return next((vm for vm in self.vms if vm.vm_id.lower() == vm_id.lower()), None)

    def start_vm(self, vm: VirtualMachine) -> None:
        with self.lock:
            if vm.state == "Running":
                raise invalid_state(vm, "start")
            free = self.memory_free()
            if vm.memory_startup > free:
                raise out_of_memory(vm)
            for a in vm.adapters:
                if a.dynamic_mac and a.mac_address == "000000000000":
                    a.mac_address = "00155D" + "".join(
                        f"{self._mac_rng.randrange(256):02X}" for _ in range(3)
                    )
            vm.state = "Running"
            event = self._event(vm)
        self._run_hook(self.on_vm_start, event, vm)

    def _run_hook(self, hook: Hook | None, event: VMEvent, vm: VirtualMachine) -> None:
        if hook is None:
            return
        try:
            hook(event)
        except Exception as exc:  # the runtime could not start the stand-in: the VM is off
            log.debug("host %s: hook failed for %s: %s", self.name, vm.name, exc)
            if vm.state == "Running":
                with self.lock:
                    vm.state = "Off"
                detail = f"\n{exc}" if isinstance(exc, BootRefused) else ""
                raise LabFailure(
                    "OperationFailed",
                    f"'{vm.name}' failed to start. (Virtual machine ID {vm.vm_id.upper()}){detail}",
                    "NotSpecified",
                    vm.name,
                ) from exc
            raise

    def stop_vm(self, vm: VirtualMachine) -> None:
        with self.lock:
            if vm.state == "Off":
                return  # Stop-VM on a VM that is off does nothing
            vm.state = "Off"
            for a in vm.adapters:
                a.ip_addresses = []
            event = self._event(vm)
        if self.on_vm_stop is not None:
            self.on_vm_stop(event)

    def remove_vm(self, vm: VirtualMachine) -> None:
        with self.lock:
            if vm.state != "Off":
                raise invalid_state(vm, "delete")
            self.vms.remove(vm)

    def _event(self, vm: VirtualMachine) -> VMEvent:
        adapters = tuple(
            AdapterInfo(
                a.name,
                a.mac_address,
                a.switch_name,
                a.access_vlan_id if a.vlan_mode == "Access" else None,
                a.mac_spoofing == "On",
            )
            for a in vm.adapters
        )
        isos = tuple(d.real_path for d in vm.dvd_drives if d.real_path is not None)
        disk = vm.hard_disks[0].path if vm.hard_disks else None
        return VMEvent(
            host=self.name,
            name=vm.name,
            vm_id=vm.vm_id,
            generation=vm.generation,
            memory_bytes=vm.memory_startup,
            processor_count=vm.processor_count,
            adapters=adapters,
            iso_paths=isos,
            secure_boot=vm.generation == 2 and vm.secure_boot == "On",
            secure_boot_template=vm.secure_boot_template if vm.generation == 2 else None,
            disk_path=disk,
            image_path=self.fs.real(self.base_image(disk)) if disk is not None else None,
        )

    def base_image(self, path: str) -> str:
        """The root of a disk's differencing chain (the disk itself when it has no parent)."""
        with self.lock:
            seen: set[str] = set()
            current = self.fs.normalize(path)
            while current.lower() not in seen:
                seen.add(current.lower())
                vhd = self.vhds.get(current.lower())
                if vhd is None or vhd.parent is None:
                    return current
                current = vhd.parent
            return current  # a cycle cannot be made with New-VHD; stop rather than loop

    def set_processor_count(self, vm: VirtualMachine, count: int) -> None:
        with self.lock:
            if vm.state != "Off":
                raise invalid_state(vm, "modify")
            if not 1 <= count <= self.logical_processors:
                raise LabFailure(
                    "InvalidParameter",
                    f"Failed to modify device 'Processor'.\nThe virtual machine '{vm.name}' "
                    f"cannot be assigned {count} virtual processors: the host has "
                    f"{self.logical_processors} logical processors.",
                    "InvalidArgument",
                    vm.name,
                )
            vm.processor_count = count

    def set_guest_ips(self, vm_name: str, mac_address: str, ips: list[str]) -> None:
        """What the guest reports over KVP: the lab runtime calls this once the VM has IPs."""
        with self.lock:
            wanted = mac_address.replace(":", "").replace("-", "").upper()
            for vm in self.vms:
                for a in vm.adapters:
                    if vm.name.lower() == vm_name.lower() and a.mac_address == wanted:
                        a.ip_addresses = list(ips)

    # disks --------------------------------------------------------------------------------------
    def new_vhd(self, path: str, size: int | None, vhd_type: str, parent: str | None) -> Vhd:
        with self.lock:
            windows = self.fs.normalize(path)
            real = self.fs.real(windows)
            if real.exists():
                raise LabFailure(
                    "InvalidParameter",
                    f"Failed to create the virtual hard disk.\nThe system failed to create "
                    f"'{windows}': The file exists. (0x80070050).",
                    "InvalidArgument",
                    windows,
                )
            if parent is not None:
                parent_vhd = self.require_file(parent)
                size = size or self.vhds.get(parent_vhd.lower(), Vhd(parent_vhd, 0, "")).size
            size = size or 0
            if self.storage_used() + size > self.storage_bytes:
                raise LabFailure(
                    "OperationFailed",
                    "Failed to create the virtual hard disk.\nThere is not enough space on the "
                    "disk. (0x80070070).",
                    "ResourceUnavailable",
                    windows,
                )
            real.parent.mkdir(parents=True, exist_ok=True)
            real.write_bytes(b"")  # an empty stand-in; the size is bookkeeping
            vhd = Vhd(windows, size, vhd_type, self.fs.normalize(parent) if parent else None)
            self.vhds[windows.lower()] = vhd
            return vhd

    def get_vhd(self, path: str) -> Vhd:
        with self.lock:
            windows = self.require_file(path)
            known = self.vhds.get(windows.lower())
            if known is None:  # a real file copied in (e.g. a base image): report its size
                size = self.fs.real(windows).stat().st_size
                known = Vhd(windows, size, "Dynamic")
            return known

    def require_file(self, path: str) -> str:
        windows = self.fs.normalize(path)
        if not self.fs.real(windows).is_file():
            raise LabFailure(
                "ObjectNotFound",
                f"Failed to get the disk information.\nThe system cannot find the file "
                f"specified. (0x80070002) '{windows}'",
                "ObjectNotFound",
                windows,
            )
        return windows

    def add_hard_disk(self, vm: VirtualMachine, path: str) -> HardDiskDrive:
        with self.lock:
            windows = self.require_file(path)
            disk = HardDiskDrive(windows, 0, len(vm.hard_disks))
            vm.hard_disks.append(disk)
            return disk

    def add_dvd(self, vm: VirtualMachine, path: str | None) -> DvdDrive:
        with self.lock:
            drive = DvdDrive(0 if vm.generation == 2 else 1, len(vm.dvd_drives) + 1)
            if path is not None:
                self.insert_iso(drive, path)  # a missing ISO fails before the drive is added
            vm.dvd_drives.append(drive)
            return drive

    def insert_iso(self, drive: DvdDrive, path: str | None) -> None:
        with self.lock:
            if path is None:
                drive.path, drive.real_path = None, None
                return
            windows = self.require_file(path)
            drive.path, drive.real_path = windows, self.fs.real(windows)


def switch_not_found(name: str) -> LabFailure:
    return LabFailure(
        "InvalidParameter",
        f'Hyper-V was unable to find a virtual switch with name "{name}".',
        "InvalidArgument",
        name,
    )


def vm_not_found(name: str) -> LabFailure:
    return LabFailure(
        "InvalidParameter",
        f'Hyper-V was unable to find a virtual machine with name "{name}".',
        "InvalidArgument",
        name,
    )


def out_of_memory(vm: VirtualMachine) -> LabFailure:
    """Start-VM's text when the host lacks memory (as Hyper-V on Windows Server reports it)."""
    vm_id = vm.vm_id.upper()
    no_memory = "Not enough memory resources are available to complete this operation. (0x8007000E)"
    return LabFailure(
        "OutOfMemory",
        f"'{vm.name}' failed to start.\n"
        f"Not enough memory in the system to start the virtual machine {vm.name}.\n"
        f"Could not initialize memory: {no_memory}.\n"
        f"'{vm.name}' failed to start. (Virtual machine ID {vm_id})\n"
        f"Not enough memory in the system to start the virtual machine {vm.name} with ram size "
        f"{vm.memory_startup // (1024 * 1024)} megabytes. (Virtual machine ID {vm_id})\n"
        f"'{vm.name}' could not initialize memory: {no_memory}. (Virtual machine ID {vm_id})",
        "ResourceUnavailable",
        vm.name,
    )


def invalid_state(vm: VirtualMachine, action: str) -> LabFailure:
    """A change the VM's power state forbids (the action is kept for the lab's log only)."""
    log.debug("VM %s: cannot %s in state %s", vm.name, action, vm.state)
    return LabFailure(
        "InvalidState",
        "The operation cannot be performed while the virtual machine is in its current state.",
        "InvalidOperation",
        vm.name,
    )
