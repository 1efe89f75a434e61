"""Hyper-V VMs of a cluster as facts and actions, in few PSRP round trips.

Round trips per host: one, the host fact (Get-VMHost, Get-VM and Get-Cluster in one pipeline; a
host in no failover cluster, whose Get-Cluster throws, costs a second one without Get-Cluster).
Round trips per new VM (DESIGN "Scale and speed"; polling for its boot aside):
  1. the VM fact: Test-Path (disk), Get-VM, Get-VMNetworkAdapter, Get-VMNetworkAdapterVlan,
     Get-VMDvdDrive, Get-VMFirmware, Get-FileHash (seed ISO) and, on a failover cluster,
     Get-ClusterGroup, all with -ErrorAction SilentlyContinue in one pipeline; for the VMs no
     host lists (new ones) only their files, Test-Path and Get-FileHash, for all of one host's
     new VMs in one round trip of two statements, each given every path (NewVmFiles);
  2. stage the seed ISO: New-Item -Force (folder), Set-Content/Add-Content to a temporary name and
     Get-FileHash of it, verified here against the local SHA-256;
  3. create: Move-Item (the verified ISO into place), New-VHD -Differencing, New-VM,
     Set-VMProcessor, Set-VMNetworkAdapter -StaticMacAddress, Set-VMNetworkAdapterVlan -Access,
     Add-VMDvdDrive, Set-VMFirmware -SecureBootTemplate, Start-VM (and
     Add-ClusterVirtualMachineRole when allowed).
A seed ISO larger than one step's budget costs one more round trip per extra 2 MiB.

Add-ClusterVirtualMachineRole and the second hop: a cluster change made over remoting needs the
caller's credentials on a second machine (the cluster), which WinRM does not pass on unless the
session has delegation (CredSSP, Kerberos constrained delegation, or a JEA/RunAs endpoint on the
owning node). aksnet does not turn on CredSSP behind the user's back: with ``delegation=False``
(the default) the role is skipped with a warning that names the VM and the fix (the VM runs but
is not highly available); with ``delegation=True`` the role is added in the create step, and a
refusal surfaces as RemoteCommandFailed with a note explaining the second hop.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aksnet.errors import ProtocolError, RemoteCommandFailed
from aksnet.infra.macpool import hyperv_form, parse_mac
from aksnet.infra.placement import HostCapacity
from aksnet.remote.base import Cmdlet, PowerShellSession, Statement

log = logging.getLogger(__name__)

QUIET = "SilentlyContinue"
LINUX_SECURE_BOOT_TEMPLATE = "MicrosoftUEFICertificateAuthority"
WINDOWS_SECURE_BOOT_TEMPLATE = "MicrosoftWindows"
STAGED_SUFFIX = ".aksnet-tmp"
CHUNK = 256 * 1024
# Hyper-V's VMState and VMNetworkAdapterVlanMode enums, for hosts that send numbers.
_VM_STATES = {
    1: "Other",
    2: "Running",
    3: "Off",
    4: "Stopping",
    6: "Saved",
    9: "Paused",
    10: "Starting",
    11: "Reset",
}
_VLAN_MODES = {0: "Untagged", 1: "Access", 2: "Trunk", 3: "Isolated", 4: "Private"}
SECOND_HOP_NOTE = (
    "Add-ClusterVirtualMachineRole changes the failover cluster from a remote session: that is "
    "a second hop, which Windows refuses without delegation. Set up Kerberos constrained "
    "delegation, CredSSP or a RunAs endpoint on the hosts, or provision with delegation=False "
    "and add the role on the host itself."
)


@dataclass(frozen=True)
class VmSpec:
    """One VM as aksnet creates it on a host (paths are the host's Windows paths).

    Linux and Windows VMs differ only in their node image (parent_disk) and secure boot
    template (MicrosoftUEFICertificateAuthority for Linux, MicrosoftWindows for Windows).
    """

    name: str
    cpu: int
    memory_bytes: int
    mac: int
    vlan_id: int | None
    switch_name: str
    folder: str  # holds the VM's configuration, its differencing disk and its seed ISO
    parent_disk: str  # the node image
    secure_boot_template: str = LINUX_SECURE_BOOT_TEMPLATE

    @property
    def iso_path(self) -> str:
        return rf"{self.folder}\seed.iso"

    @property
    def vhd_path(self) -> str:
        return rf"{self.folder}\{self.name}.vhdx"


@dataclass(frozen=True)
class VmState:
    """What Hyper-V reports about an existing VM."""

    name: str
    state: str
    generation: int
    memory_startup: int
    processor_count: int
    mac: int | None
    vlan_id: int | None  # the access VLAN; None when untagged
    dvd_paths: tuple[str, ...]
    secure_boot_template: str | None
    ip_addresses: tuple[str, ...]


@dataclass(frozen=True)
class VmFacts:
    """The VM (None when absent) and the files it is made from, on one host."""

    vm: VmState | None
    disk_exists: bool
    iso_sha256: str | None
    cluster_role: bool


@dataclass(frozen=True)
class HostFacts:
    capacity: HostCapacity
    vm_names: tuple[str, ...]
    cluster: str | None = None  # the failover cluster the host belongs to (None: in none)


class HostFact:
    """Get-VMHost, the names of the VMs on the host and its failover cluster, in one round
    trip (two for a host in no cluster: its Get-Cluster throws, so it is read again without)."""

    key = "vmhost"

    def __init__(self, sessions: Mapping[str, PowerShellSession]) -> None:
        self._sessions = sessions

    def read(self, host: str) -> HostFacts:
        session, reads = self._sessions[host], (Cmdlet.of("Get-VMHost"), Cmdlet.of("Get-VM"))
        try:
            # Get-Cluster last: its terminating error (no cluster) stops nothing after it.
            output = session.invoke(*reads, Cmdlet.of("Get-Cluster"))
        except RemoteCommandFailed as error:
            if not _no_cluster(error):
                raise
            output = session.invoke(*reads)
        vmhost = next(o for o in output if isinstance(o, dict) and "MemoryCapacity" in o)
        names = tuple(str(o["Name"]) for o in output if isinstance(o, dict) and "Generation" in o)
        # Get-VMHost of a real host reports no storage; "unknown" must not block placement.
        storage = vmhost.get("StorageCapacity")
        free_storage = int(storage) - int(vmhost.get("StorageUsed") or 0) if storage else 2**62
        capacity = HostCapacity(
            host, int(vmhost["FreeMemory"]), int(vmhost["LogicalProcessorCount"]), free_storage
        )
        clusters = [str(o["Name"]) for o in output if isinstance(o, dict) and _is_cluster(o)]
        return HostFacts(capacity, names, clusters[0] if clusters else None)


def _is_cluster(obj: dict[str, Any]) -> bool:
    """Get-Cluster's object: a Name and a Domain (a VM has a Generation, the host its memory)."""
    return "Domain" in obj and "Generation" not in obj and "MemoryCapacity" not in obj


def _no_cluster(error: RemoteCommandFailed) -> bool:
    """Get-Cluster's terminating error when the cluster service is not running (no cluster)."""
    return any("ClusterCmdletException" in r.fully_qualified_error_id for r in error.records)


class VmFact:
    """Everything about one VM and its files on a host, in one round trip."""

    def __init__(
        self, sessions: Mapping[str, PowerShellSession], spec: VmSpec, *, clustered: bool
    ) -> None:
        self._sessions = sessions
        self.spec = spec
        self.clustered = clustered
        self.key = f"vm:{spec.name.lower()}"

    def statements(self) -> list[Statement]:
        name, quiet = self.spec.name, {"ErrorAction": QUIET}
        statements: list[Statement] = [
            Cmdlet.of("Test-Path", LiteralPath=self.spec.vhd_path),
            Cmdlet.of("Get-VM", quiet, Name=name),
            Cmdlet.of("Get-VMNetworkAdapter", quiet, VMName=name),
            Cmdlet.of("Get-VMNetworkAdapterVlan", quiet, VMName=name),
            Cmdlet.of("Get-VMDvdDrive", quiet, VMName=name),
            Cmdlet.of("Get-VMFirmware", quiet, VMName=name),
            _iso_hash(self.spec),
        ]
        if self.clustered:
            statements.append(Cmdlet.of("Get-ClusterGroup", quiet, Name=name))
        return statements

    def read(self, host: str) -> VmFacts:
        output = self._sessions[host].invoke(*self.statements())
        return parse_vm_facts(self.spec.name, output)


class NewVmFiles:
    """The files of VMs no host lists (a run stopped before New-VM may have left a VM's disk or
    seed ISO), for all such VMs placed on one host in one round trip: one Test-Path given every
    disk (a bool per path, in order) and one Get-FileHash given every ISO. Two statements, not
    two per VM: serialising a pipeline (pypsrp) and reading it on the host cost per statement,
    and a what-if of a 20-node cluster sent 14 per host. Read by host -> {VM name: VmFacts}."""

    def __init__(self, sessions: Mapping[str, PowerShellSession], specs: Sequence[VmSpec]) -> None:
        self._sessions = sessions
        self.specs = list(specs)
        self.key = "new-vm-files:" + ",".join(sorted(s.name.lower() for s in self.specs))

    def statements(self) -> list[Statement]:
        disks = [spec.vhd_path for spec in self.specs]
        isos = [spec.iso_path for spec in self.specs]
        return [
            Cmdlet.of("Test-Path", LiteralPath=disks),
            Cmdlet.of("Get-FileHash", {"ErrorAction": QUIET}, LiteralPath=isos, Algorithm="SHA256"),
        ]

    def read(self, host: str) -> dict[str, VmFacts]:
        output = self._sessions[host].invoke(*self.statements())
        return parse_new_vm_files(host, self.specs, output)


def parse_new_vm_files(
    host: str, specs: Sequence[VmSpec], output: Sequence[Any]
) -> dict[str, VmFacts]:
    """One bool per Test-Path, in order; a hash object per ISO found, matched by its path."""
    exists = [o for o in output if isinstance(o, bool)]
    if len(exists) != len(specs):
        raise ProtocolError(host, f"expected {len(specs)} Test-Path answers, got {len(exists)}")
    hashes = {
        _path_key(str(o["Path"])): str(o["Hash"])
        for o in output
        if isinstance(o, dict) and "Hash" in o and "Path" in o
    }
    return {
        spec.name: VmFacts(None, found, hashes.get(_path_key(spec.iso_path)), False)
        for spec, found in zip(specs, exists, strict=True)
    }


def _path_key(path: str) -> str:
    return path.replace("/", "\\").lower()  # Windows paths: case and separator insensitive


def _iso_hash(spec: VmSpec) -> Cmdlet:
    return Cmdlet.of(
        "Get-FileHash", {"ErrorAction": QUIET}, LiteralPath=spec.iso_path, Algorithm="SHA256"
    )


def parse_vm_facts(name: str, output: Sequence[Any]) -> VmFacts:
    """Sort the one pipeline's outputs by their shape (each cmdlet's object has its own keys)."""
    disk_exists = bool(output[0]) if output and isinstance(output[0], bool) else False
    objects = [o for o in output if isinstance(o, dict)]

    def having(key: str) -> list[dict[str, Any]]:
        return [o for o in objects if key in o]

    hashes = having("Hash")
    vms = having("Generation")
    vm = _vm_state(name, vms[0], objects) if vms else None
    return VmFacts(
        vm, disk_exists, str(hashes[0]["Hash"]) if hashes else None, bool(having("GroupType"))
    )


def _vm_state(name: str, vm: dict[str, Any], objects: list[dict[str, Any]]) -> VmState:
    adapters = [o for o in objects if "MacAddress" in o]
    vlans = [o for o in objects if "OperationMode" in o]
    dvds = [o for o in objects if "DvdMediaType" in o]
    firmware = [o for o in objects if "SecureBootTemplate" in o]
    mac = parse_mac(str(adapters[0]["MacAddress"])) if adapters else None
    vlan_id = None
    if vlans and _enum(vlans[0]["OperationMode"], _VLAN_MODES) == "Access":
        vlan_id = int(vlans[0]["AccessVlanId"])
    return VmState(
        name=name,
        state=_enum(vm["State"], _VM_STATES),
        generation=int(vm["Generation"]),
        memory_startup=int(vm["MemoryStartup"]),
        processor_count=int(vm["ProcessorCount"]),
        mac=mac or None,  # 000000000000: a dynamic MAC not assigned yet
        vlan_id=vlan_id,
        dvd_paths=tuple(str(d["Path"]) for d in dvds if d.get("Path")),
        secure_boot_template=str(firmware[0]["SecureBootTemplate"]) if firmware else None,
        ip_addresses=tuple(str(a) for a in (adapters[0].get("IPAddresses") or []))
        if adapters
        else (),
    )


def _enum(value: Any, names: Mapping[int, str]) -> str:
    return names.get(value, str(value)) if isinstance(value, int) else str(value)


# Actions -----------------------------------------------------------------------------------


def stage_seed_iso(session: PowerShellSession, spec: VmSpec, iso: bytes) -> None:
    """Write the ISO beside its final path and verify its SHA-256, in one round trip.

    The verified file is moved into place by create_vm, so a reader never sees a partial ISO.
    """
    staged = spec.iso_path + STAGED_SUFFIX
    chunks = [iso[i : i + CHUNK] for i in range(0, len(iso), CHUNK)] or [b""]
    writes: list[Statement] = [
        Cmdlet.of(
            "Set-Content" if i == 0 else "Add-Content",
            LiteralPath=staged,
            Value=chunk,
            Encoding="Byte",
        )
        for i, chunk in enumerate(chunks)
    ]
    output = session.invoke(
        Cmdlet.of("New-Item", ItemType="Directory", Path=spec.folder, Force=True),
        *writes,
        Cmdlet.of("Get-FileHash", LiteralPath=staged, Algorithm="SHA256"),
    )
    reported = [str(o["Hash"]) for o in output if isinstance(o, dict) and "Hash" in o]
    expected = hashlib.sha256(iso).hexdigest().upper()
    if reported != [expected]:
        raise ProtocolError(
            session.host,
            f"checksum mismatch staging {spec.iso_path}: SHA256 {reported} on the host, "
            f"{expected} sent",
        )


def create_statements(
    spec: VmSpec, *, staged: bool, make_disk: bool, cluster_role: bool
) -> list[Statement]:
    """The create step's pipeline: one round trip from the staged ISO to a running VM.

    Every statement has -ErrorAction Stop: a non-terminating error would let the next ones run
    (New-VM without its disk, Start-VM of a half-configured VM); stopping leaves a state that
    the next run's facts see and converge (see configure_statements).
    """
    statements: list[Cmdlet] = []
    if staged:
        staged_path = spec.iso_path + STAGED_SUFFIX
        statements.append(
            Cmdlet.of("Move-Item", LiteralPath=staged_path, Destination=spec.iso_path, Force=True)
        )
    if make_disk:
        statements.append(
            Cmdlet.of("New-VHD", Path=spec.vhd_path, ParentPath=spec.parent_disk, Differencing=True)
        )
    statements.append(
        Cmdlet.of(
            "New-VM",
            Name=spec.name,
            Generation=2,
            MemoryStartupBytes=spec.memory_bytes,
            VHDPath=spec.vhd_path,
            SwitchName=spec.switch_name,
            Path=spec.folder,
        )
    )
    statements += configure_statements(spec, None)
    if cluster_role:
        statements.append(Cmdlet.of("Add-ClusterVirtualMachineRole", VMName=spec.name))
    return [_stopping(s) for s in statements]


def configure_statements(spec: VmSpec, vm: VmState | None) -> list[Cmdlet]:
    """Settings that differ from spec (all of them for a new VM), then Start-VM.

    For a VM that exists but is off: a run that stopped halfway through the create step left
    it so, and these statements finish the job without creating anything twice.
    """
    name = spec.name
    out: list[Cmdlet] = []
    if vm is not None and vm.memory_startup != spec.memory_bytes:
        out.append(Cmdlet.of("Set-VMMemory", VMName=name, StartupBytes=spec.memory_bytes))
    if vm is None or vm.processor_count != spec.cpu:
        out.append(Cmdlet.of("Set-VMProcessor", VMName=name, Count=spec.cpu))
    if vm is None or vm.mac != spec.mac:
        out.append(
            Cmdlet.of("Set-VMNetworkAdapter", VMName=name, StaticMacAddress=hyperv_form(spec.mac))
        )
    if spec.vlan_id is not None and (vm is None or vm.vlan_id != spec.vlan_id):
        out.append(
            Cmdlet.of("Set-VMNetworkAdapterVlan", VMName=name, Access=True, VlanId=spec.vlan_id)
        )
    if vm is None or spec.iso_path.lower() not in (p.lower() for p in vm.dvd_paths):
        out.append(Cmdlet.of("Add-VMDvdDrive", VMName=name, Path=spec.iso_path))
    template = spec.secure_boot_template
    if vm is None or vm.secure_boot_template != template:
        out.append(Cmdlet.of("Set-VMFirmware", VMName=name, SecureBootTemplate=template))
    out.append(Cmdlet.of("Start-VM", Name=name))
    return out


def _stopping(statement: Cmdlet) -> Cmdlet:
    return Cmdlet(statement.name, (*statement.parameters, ("ErrorAction", "Stop")))


def create_vm(
    session: PowerShellSession, spec: VmSpec, *, staged: bool, make_disk: bool, cluster_role: bool
) -> None:
    statements = create_statements(
        spec, staged=staged, make_disk=make_disk, cluster_role=cluster_role
    )
    _invoke_explaining_second_hop(session, statements)


def configure_and_start(session: PowerShellSession, spec: VmSpec, vm: VmState) -> None:
    """Finish a VM that exists but is off: the settings that differ, then Start-VM."""
    session.invoke(*[_stopping(s) for s in configure_statements(spec, vm)])


def add_cluster_role(session: PowerShellSession, name: str) -> None:
    _invoke_explaining_second_hop(
        session, [Cmdlet.of("Add-ClusterVirtualMachineRole", VMName=name)]
    )


def _invoke_explaining_second_hop(
    session: PowerShellSession, statements: Sequence[Statement]
) -> None:
    try:
        session.invoke(*statements)
    except RemoteCommandFailed as error:
        if any("ClusterAccessDenied" in r.fully_qualified_error_id for r in error.records):
            error.add_note(SECOND_HOP_NOTE)
        raise
