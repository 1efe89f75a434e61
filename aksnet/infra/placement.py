"""Place VMs on Hyper-V hosts from facts about their free memory, processors and storage.

Placement is a pure function of what the hosts reported (Get-VMHost, read just before) and what
the VMs need; it decides everything before anything is created, so a cluster that does not fit
is refused whole with CapacityExceeded naming the host and the resource, instead of failing
halfway. Rules: a VM that already exists stays where it is; control-plane VMs go to hosts
without one while there are such hosts (losing one host must not lose the etcd quorum), and so
do load-balancer VMs (losing one host must not lose every holder of the VIPs); every other VM
goes to the host with the most free memory left, so load spreads. Processors are overcommitted
as Hyper-V allows, but one VM never gets more vCPUs than its host has logical processors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aksnet.errors import CapacityExceeded, InvalidInput

GIB = 1024**3
CONTROL_PLANE = "control-plane"
LOAD_BALANCER = "loadbalancer"
# Roles whose VMs go to distinct hosts while there are enough, placed in this order first.
SPREAD_ROLES = (CONTROL_PLANE, LOAD_BALANCER)


@dataclass(frozen=True)
class HostCapacity:
    """What one host has free, as Get-VMHost reported it."""

    host: str
    free_memory_bytes: int
    logical_processors: int
    free_storage_bytes: int


@dataclass(frozen=True)
class VmDemand:
    """What one VM needs. role: "control-plane", "loadbalancer" or anything else (workers)."""

    name: str
    role: str
    cpu: int
    memory_bytes: int
    disk_bytes: int = 0


@dataclass
class _Room:
    host: str
    memory: int
    storage: int
    processors: int
    spread: Counter[str] = field(default_factory=Counter)  # VMs of each SPREAD_ROLES role


def place(
    vms: Sequence[VmDemand],
    hosts: Sequence[HostCapacity],
    existing: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """VM name -> host for every VM; existing maps VMs that are on a host already.

    Raises CapacityExceeded, before anything is created, when some VM fits on no host.
    """
    if not hosts:
        raise InvalidInput("hosts", [], "placement needs at least one host.")
    existing = dict(existing or {})
    rooms = {
        h.host: _Room(h.host, h.free_memory_bytes, h.free_storage_bytes, h.logical_processors)
        for h in hosts
    }
    placed: dict[str, str] = {}
    for vm in vms:
        if vm.name in existing:
            placed[vm.name] = existing[vm.name]
            if vm.role in SPREAD_ROLES and existing[vm.name] in rooms:
                rooms[existing[vm.name]].spread[vm.role] += 1
    # Control planes, then load balancers, so they get distinct hosts before workers fill them;
    # big VMs first.
    todo = sorted(
        (vm for vm in vms if vm.name not in placed),
        key=lambda vm: (_rank(vm.role), -vm.memory_bytes),
    )
    for vm in todo:
        room = _best_room(vm, list(rooms.values()))
        room.memory -= vm.memory_bytes
        room.storage -= vm.disk_bytes
        if vm.role in SPREAD_ROLES:
            room.spread[vm.role] += 1
        placed[vm.name] = room.host
    return {vm.name: placed[vm.name] for vm in vms}


def _best_room(vm: VmDemand, rooms: list[_Room]) -> _Room:
    fitting = [r for r in rooms if _fits(vm, r)]
    if not fitting:
        raise _shortage(vm, rooms)
    if vm.role in SPREAD_ROLES:
        fewest = min(r.spread[vm.role] for r in fitting)
        fitting = [r for r in fitting if r.spread[vm.role] == fewest]
    # Most free memory first; the host name breaks ties so placement is reproducible.
    return min(fitting, key=lambda r: (-r.memory, r.host))


def _rank(role: str) -> int:
    return SPREAD_ROLES.index(role) if role in SPREAD_ROLES else len(SPREAD_ROLES)


def _fits(vm: VmDemand, room: _Room) -> bool:
    return (
        vm.memory_bytes <= room.memory
        and vm.disk_bytes <= room.storage
        and vm.cpu <= room.processors
    )


def _shortage(vm: VmDemand, rooms: list[_Room]) -> CapacityExceeded:
    """Name the resource that no host has enough of, and the host that comes closest."""
    checks: tuple[tuple[str, int, str], ...] = (
        ("memory", vm.memory_bytes, "bytes"),
        ("logical processors", vm.cpu, "vCPU"),
        ("storage", vm.disk_bytes, "bytes"),
    )
    for resource, needed, unit in checks:
        best = max(rooms, key=lambda r: _free(r, resource))
        free = _free(best, resource)
        if needed > free:
            return CapacityExceeded(
                f"{resource} on host {best.host}",
                needed,
                max(free, 0),
                f"VM '{vm.name}' needs {_shown(needed, unit)}; the most any host has free is "
                f"{_shown(free, unit)} on {best.host}. Nothing was created.",
            )
    # Every resource exists somewhere, just not all on one host.
    names = ", ".join(r.host for r in rooms)
    return CapacityExceeded(
        f"memory, processors and storage together on hosts {names}",
        vm.memory_bytes,
        max(r.memory for r in rooms),
        f"no single host has room for VM '{vm.name}' ({vm.cpu} vCPU, "
        f"{_shown(vm.memory_bytes, 'bytes')}, disk {_shown(vm.disk_bytes, 'bytes')}). "
        "Nothing was created.",
    )


def _free(room: _Room, resource: str) -> int:
    if resource == "memory":
        return room.memory
    return room.processors if resource == "logical processors" else room.storage


def _shown(value: int, unit: str) -> str:
    if unit == "bytes":
        return f"{value / GIB:g} GiB"
    return f"{value} {unit}"
