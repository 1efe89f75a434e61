"""IP planning against the documented sizing table and worked example (akshci-module.md §2.3)."""

import pytest

from aksnet.api import new_cluster_spec, plan_cluster
from aksnet.errors import CapacityExceeded
from aksnet.model.network import network_setting
from aksnet.network.budget import (
    aks_host_budget,
    check_fits,
    cluster_budget,
    vips_for_services,
)
from aksnet.state.store import Store
from tests.model.conftest import static


def test_services_on_different_ports_share_a_vip() -> None:
    assert vips_for_services([443, 443, 443, 80]) == 3
    assert vips_for_services([80, 443, 8443]) == 1
    assert vips_for_services([]) == 0


def test_documented_worked_example_needs_27_node_and_5_vip_addresses() -> None:
    cluster_a = new_cluster_spec(name="a", vnet="n", control_plane_node_count=3, linux_node_count=5)
    cluster_b = new_cluster_spec(name="b", vnet="n", control_plane_node_count=1, linux_node_count=3)
    budget_a = cluster_budget(cluster_a, service_ports=[443, 443, 443, 80])
    budget_b = cluster_budget(cluster_b)
    assert budget_a.node_total == 3 + 5 + 5 + 1 == 14
    assert budget_b.node_total == 1 + 3 + 5 + 1 == 10
    total = aks_host_budget() + budget_a + budget_b
    assert total.node_total == 27
    assert total.vip_total == 5  # 2 API servers + 3 services
    assert total.node_total + total.vip_total == 32


def test_worked_example_fits_a_24_with_5_vips_and_27_node_addresses() -> None:
    network = network_setting(**static())  # node pool .10-.36 (27), VIP pool .200-.204 (5)
    assert network.pool("node").size == 27 and network.pool("vip").size == 5
    a = new_cluster_spec(name="a", vnet="labnet", control_plane_node_count=3, linux_node_count=5)
    b = new_cluster_spec(name="b", vnet="labnet", linux_node_count=3)
    total = (
        aks_host_budget() + cluster_budget(a, service_ports=[443] * 3 + [80]) + cluster_budget(b)
    )
    check_fits(total, network, {"node": 27, "vip": 5})
    bigger_b = new_cluster_spec(name="b", vnet="labnet", linux_node_count=4)
    more = aks_host_budget() + cluster_budget(a, service_ports=[443] * 3) + cluster_budget(bigger_b)
    with pytest.raises(CapacityExceeded) as info:
        check_fits(more, network, {"node": 27, "vip": 5})
    assert info.value.needed == 28 and info.value.free == 27
    assert "Kubernetes node IP pool 198.18.0.10-198.18.0.36" in str(info.value)


def test_larger_clusters() -> None:
    spec = new_cluster_spec(
        name="big",
        vnet="n",
        control_plane_node_count=5,
        linux_node_count=100,
        windows_node_count=20,
        load_balancer_count=3,
    )
    budget = cluster_budget(spec, service_ports=[80] * 40 + [443] * 10)
    assert budget.node == {
        "control-plane nodes": 5,
        "worker nodes": 120,
        "update operations": 5,
        "load-balancer VMs": 3,
    }
    assert budget.node_total == 133
    assert budget.vip_total == 1 + 40


def test_load_balancer_sku_none_needs_no_vm_and_gives_services_no_vip() -> None:
    spec = new_cluster_spec(name="c", vnet="n", load_balancer_sku="none")
    budget = cluster_budget(spec, service_ports=[80, 80])
    assert budget.node["load-balancer VMs"] == 0
    assert budget.vip == {"API server": 1}


def test_dhcp_model_takes_no_node_addresses_from_a_pool() -> None:
    spec = new_cluster_spec(name="c", vnet="n", linux_node_count=3)
    budget = cluster_budget(spec, static=False, service_ports=[80])
    assert budget.node_total == 0 and budget.vip_total == 2


def test_plan_that_does_not_fit_is_refused_naming_pool_need_and_free(store: Store) -> None:
    store.add_network(network_setting(**static()))
    plan = plan_cluster(store, new_cluster_spec(name="c1", vnet="labnet", linux_node_count=20))
    assert plan.budget.node_total == 1 + 20 + 5 + 1 and plan.free == {"node": 27, "vip": 5}
    with pytest.raises(CapacityExceeded) as info:
        plan_cluster(store, new_cluster_spec(name="c1", vnet="labnet", linux_node_count=21))
    assert "28 needed, 27 free" in str(info.value)
    with pytest.raises(CapacityExceeded, match=r"VIP pool .* 6 needed, 5 free"):
        plan_cluster(store, new_cluster_spec(name="c1", vnet="labnet"), service_ports=[80] * 5)
    assert store.allocations() == [] and store.list_clusters() == []


def test_plan_counts_addresses_already_allocated(store: Store) -> None:
    store.add_network(network_setting(**static()))
    store.allocate("labnet", "node", owner_kind="vm", owner="other", count=20)
    with pytest.raises(CapacityExceeded, match="8 needed, 7 free"):
        plan_cluster(store, new_cluster_spec(name="c1", vnet="labnet"))
