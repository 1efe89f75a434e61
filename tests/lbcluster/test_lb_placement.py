"""Load-balancer VMs are spread over hosts like control planes (no lab needed)."""

from __future__ import annotations

from aksnet.infra.placement import CONTROL_PLANE, LOAD_BALANCER, HostCapacity, VmDemand, place

GIB = 1024**3


def hosts() -> list[HostCapacity]:
    # hci1 has far more free memory: memory alone would put every VM there.
    return [
        HostCapacity("hci1", 200 * GIB, 16, 1000 * GIB),
        HostCapacity("hci2", 40 * GIB, 16, 1000 * GIB),
    ]


def test_two_load_balancer_vms_go_to_different_hosts() -> None:
    vms = [
        VmDemand("c1-cp-0", CONTROL_PLANE, 4, 8 * GIB),
        VmDemand("c1-linux-0", "worker", 4, 6 * GIB),
        VmDemand("c1-lb-0", LOAD_BALANCER, 4, 8 * GIB),
        VmDemand("c1-lb-1", LOAD_BALANCER, 4, 8 * GIB),
    ]
    placed = place(vms, hosts())
    assert {placed["c1-lb-0"], placed["c1-lb-1"]} == {"hci1", "hci2"}
    assert placed["c1-linux-0"] == "hci1"  # workers still follow free memory


def test_a_new_load_balancer_vm_avoids_the_host_of_an_existing_one() -> None:
    vms = [
        VmDemand("c1-lb-0", LOAD_BALANCER, 4, 8 * GIB),
        VmDemand("c1-lb-1", LOAD_BALANCER, 4, 8 * GIB),
    ]
    placed = place(vms, hosts(), existing={"c1-lb-0": "hci1"})
    assert placed == {"c1-lb-0": "hci1", "c1-lb-1": "hci2"}


def test_a_third_load_balancer_vm_on_two_hosts_goes_by_free_memory() -> None:
    vms = [VmDemand(f"c1-lb-{i}", LOAD_BALANCER, 4, 8 * GIB) for i in range(3)]
    placed = place(vms, hosts())
    assert sorted(placed.values()) == ["hci1", "hci1", "hci2"]
