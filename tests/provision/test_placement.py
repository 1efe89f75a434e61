"""Placement from host facts: spread, control planes apart, refusal before anything is made."""

from __future__ import annotations

import pytest

from aksnet.errors import CapacityExceeded, InvalidInput
from aksnet.infra.placement import CONTROL_PLANE, HostCapacity, VmDemand, place

GIB = 1024**3


def host(name: str, memory_gb: int = 64, cpus: int = 16, storage_gb: int = 1024) -> HostCapacity:
    return HostCapacity(name, memory_gb * GIB, cpus, storage_gb * GIB)


def vm(name: str, role: str = "worker", cpu: int = 4, memory_gb: int = 8) -> VmDemand:
    return VmDemand(name, role, cpu, memory_gb * GIB, 20 * GIB)


def test_control_planes_go_to_different_hosts_when_there_are_enough() -> None:
    vms = [vm(f"cp-{i}", CONTROL_PLANE) for i in range(3)]
    placed = place(vms, [host("hci1"), host("hci2"), host("hci3", memory_gb=32)])
    assert sorted(placed.values()) == ["hci1", "hci2", "hci3"]


def test_control_planes_share_hosts_only_when_there_are_fewer_hosts() -> None:
    vms = [vm(f"cp-{i}", CONTROL_PLANE) for i in range(3)]
    placed = place(vms, [host("hci1"), host("hci2")])
    assert sorted(placed.values()) in (["hci1", "hci1", "hci2"], ["hci1", "hci2", "hci2"])


def test_a_control_plane_avoids_the_host_of_an_existing_one() -> None:
    vms = [vm("cp-0", CONTROL_PLANE), vm("cp-1", CONTROL_PLANE)]
    # hci2 has more free memory, but cp-0 already runs there.
    placed = place(vms, [host("hci1", 32), host("hci2", 64)], existing={"cp-0": "hci2"})
    assert placed == {"cp-0": "hci2", "cp-1": "hci1"}


def test_workers_spread_by_free_memory_and_existing_vms_stay() -> None:
    vms = [vm("w-0"), vm("w-1"), vm("w-2")]
    placed = place(vms, [host("hci1", 20), host("hci2", 40)], existing={"w-0": "hci1"})
    assert placed["w-0"] == "hci1"
    assert placed["w-1"] == "hci2" and placed["w-2"] == "hci2"  # 40-8=32 still beats 20


def test_memory_shortage_names_the_host_and_resource() -> None:
    with pytest.raises(CapacityExceeded) as caught:
        place([vm("w-0", memory_gb=48)], [host("hci1", 16), host("hci2", 32)])
    error = caught.value
    assert error.resource == "memory on host hci2" and error.needed == 48 * GIB
    assert error.free == 32 * GIB and "'w-0'" in str(error) and "Nothing was created" in str(error)


def test_too_many_vcpus_for_any_host_is_refused() -> None:
    with pytest.raises(CapacityExceeded, match="logical processors on host hci1"):
        place([vm("w-0", cpu=32)], [host("hci1", cpus=16)])


def test_storage_shortage_is_refused() -> None:
    with pytest.raises(CapacityExceeded, match="storage on host hci1"):
        place([vm("w-0")], [host("hci1", storage_gb=10)])


def test_a_cluster_that_fits_vm_by_vm_but_not_in_total_is_refused_whole() -> None:
    vms = [vm("w-0", memory_gb=24), vm("w-1", memory_gb=24), vm("w-2", memory_gb=24)]
    with pytest.raises(CapacityExceeded) as caught:
        place(vms, [host("hci1", 32), host("hci2", 32)])
    assert "w-2" in str(caught.value)


def test_resources_spread_over_hosts_are_not_enough_for_one_vm() -> None:
    with pytest.raises(CapacityExceeded, match="together on hosts hci1, hci2"):
        place([vm("w-0", cpu=8, memory_gb=16)], [host("hci1", 32, cpus=4), host("hci2", 8)])


def test_no_hosts_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="hosts"):
        place([vm("w-0")], [])
