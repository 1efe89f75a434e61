"""The state of one emulated Hyper-V VM and how it looks as Get-VM* objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from aksnet.lab.hyperv.objects import LabObject

MB = 1024 * 1024
DEFAULT_MEMORY = 512 * MB  # New-VM's documented default
ZERO_MAC = "000000000000"


@dataclass
class NetworkAdapter:
    """One VM network adapter (Hyper-V creates one, "Network Adapter", with every new VM)."""

    name: str
    switch_name: str | None
    mac_address: str = ZERO_MAC
    dynamic_mac: bool = True
    mac_spoofing: str = "Off"
    vlan_mode: str = "Untagged"
    access_vlan_id: int = 0
    ip_addresses: list[str] = field(default_factory=list)


@dataclass
class DvdDrive:
    """A DVD drive; path is the ISO's Windows path, real_path the real file behind it."""

    controller_number: int
    controller_location: int
    path: str | None = None
    real_path: Path | None = None


@dataclass
class HardDiskDrive:
    path: str
    controller_number: int = 0
    controller_location: int = 0


@dataclass
class VirtualMachine:
    """One VM as Hyper-V keeps it."""

    name: str
    generation: int
    path: str
    memory_startup: int = DEFAULT_MEMORY
    processor_count: int = 1
    state: str = "Off"
    vm_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    adapters: list[NetworkAdapter] = field(default_factory=list)
    dvd_drives: list[DvdDrive] = field(default_factory=list)
    hard_disks: list[HardDiskDrive] = field(default_factory=list)
    secure_boot: str = "On"
    secure_boot_template: str = "MicrosoftWindows"
    dynamic_memory: bool = False

    def vm_object(self, host_name: str) -> LabObject:
        return LabObject(
            "VirtualMachine",
            Name=self.name,
            VMName=self.name,
            VMId=self.vm_id,
            Id=self.vm_id,
            State=self.state,
            Generation=self.generation,
            MemoryStartup=self.memory_startup,
            MemoryAssigned=self.memory_startup if self.state == "Running" else 0,
            DynamicMemoryEnabled=self.dynamic_memory,
            ProcessorCount=self.processor_count,
            Path=self.path,
            ComputerName=host_name,
            Status="Operating normally",
            NetworkAdapters=[self.adapter_object(a, host_name) for a in self.adapters],
        )

    def adapter_object(self, a: NetworkAdapter, host_name: str) -> LabObject:
        return LabObject(
            "VMNetworkAdapter",
            Name=a.name,
            VMName=self.name,
            VMId=self.vm_id,
            SwitchName=a.switch_name,
            MacAddress=a.mac_address,
            DynamicMacAddressEnabled=a.dynamic_mac,
            MacAddressSpoofing=a.mac_spoofing,
            IPAddresses=list(a.ip_addresses) if self.state == "Running" else [],
            Connected=a.switch_name is not None,
            IsManagementOs=False,
            ComputerName=host_name,
            Status=["Ok"],
        )

    def vlan_object(self, a: NetworkAdapter) -> LabObject:
        return LabObject(
            "VMNetworkAdapterVlanSetting",
            VMName=self.name,
            AdapterName=a.name,
            OperationMode=a.vlan_mode,
            AccessVlanId=a.access_vlan_id,
            NativeVlanId=0,
        )

    def dvd_object(self, d: DvdDrive, host_name: str) -> LabObject:
        return LabObject(
            "DvdDrive",
            VMName=self.name,
            VMId=self.vm_id,
            ControllerType="SCSI" if self.generation == 2 else "IDE",
            ControllerNumber=d.controller_number,
            ControllerLocation=d.controller_location,
            DvdMediaType="ISO" if d.path else "None",
            Path=d.path,
            ComputerName=host_name,
        )

    def disk_object(self, d: HardDiskDrive, host_name: str) -> LabObject:
        return LabObject(
            "HardDiskDrive",
            VMName=self.name,
            ControllerType="SCSI" if self.generation == 2 else "IDE",
            ControllerNumber=d.controller_number,
            ControllerLocation=d.controller_location,
            Path=d.path,
            ComputerName=host_name,
        )

    def firmware_object(self) -> LabObject:
        return LabObject(
            "VMFirmware",
            VMName=self.name,
            SecureBoot=self.secure_boot,
            SecureBootTemplate=self.secure_boot_template,
            PreferredNetworkBootProtocol="IPv4",
        )
