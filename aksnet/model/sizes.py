"""VM sizes: the `Get-AksHciVmSize` table (akshci-module.md §3.1, concepts-support.md)."""

from __future__ import annotations

from dataclasses import dataclass

from aksnet.errors import InvalidInput


@dataclass(frozen=True)
class VmSize:
    name: str
    cpu: int
    memory_gb: int
    gpu: str = ""

    @property
    def memory_bytes(self) -> int:
        return self.memory_gb * 1024**3


VM_SIZES: tuple[VmSize, ...] = (
    VmSize("Default", 4, 4),
    VmSize("Standard_A2_v2", 2, 4),
    VmSize("Standard_A4_v2", 4, 8),
    VmSize("Standard_D2s_v3", 2, 8),
    VmSize("Standard_D4s_v3", 4, 16),
    VmSize("Standard_D8s_v3", 8, 32),
    VmSize("Standard_D16s_v3", 16, 64),
    VmSize("Standard_D32s_v3", 32, 128),
    VmSize("Standard_DS2_v2", 2, 7),
    VmSize("Standard_DS3_v2", 2, 14),
    VmSize("Standard_DS4_v2", 8, 28),
    VmSize("Standard_DS5_v2", 16, 56),
    VmSize("Standard_DS13_v2", 8, 56),
    VmSize("Standard_K8S_v1", 4, 2),
    VmSize("Standard_K8S2_v1", 2, 2),
    VmSize("Standard_K8S3_v1", 4, 6),
    VmSize("Standard_NK6", 6, 12, "1x Tesla T4"),
    VmSize("Standard_NK12", 12, 24, "2x Tesla T4"),
)

_BY_NAME = {size.name.lower(): size for size in VM_SIZES}

# Documented defaults (§1.1): the docs spell the control-plane default "Standard_A4_V2".
DEFAULT_CONTROL_PLANE_SIZE = "Standard_A4_v2"
DEFAULT_LOAD_BALANCER_SIZE = "Standard_A4_v2"
DEFAULT_NODE_SIZE = "Standard_K8S3_v1"


def vm_size(name: str, parameter: str = "vmSize") -> VmSize:
    """The size called name (case-insensitive, as PowerShell's ValidateSet is)."""
    size = _BY_NAME.get(str(name).lower())
    if size is None:
        allowed = ", ".join(s.name for s in VM_SIZES)
        raise InvalidInput(parameter, name, f"it must be one of {allowed}.")
    return size
