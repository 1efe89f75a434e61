"""One test per documented cluster and node-pool rule (akshci-module.md §1.1, §1.5, §1.10, §6)."""

import pytest

from aksnet.api import new_cluster_spec, plan_cluster
from aksnet.errors import InvalidInput
from aksnet.model.cluster import node_pool_spec, with_node_pool
from aksnet.model.network import network_setting
from aksnet.model.sizes import vm_size
from aksnet.state.store import Store
from tests.model.conftest import static


def refused(parameter: str, **params: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        new_cluster_spec(**{"name": "c1", "vnet": "labnet", **params})  # type: ignore[arg-type]
    assert info.value.parameter == parameter, str(info.value)
    return info.value


def test_defaults_are_the_documented_ones() -> None:
    spec = new_cluster_spec(name="mycluster", vnet="labnet")
    assert spec.primary_network_plugin == "calico"
    assert spec.control_plane_node_count == 1
    assert spec.control_plane_vm_size == "Standard_A4_v2"
    assert spec.load_balancer.sku == "HAProxy" and spec.load_balancer.vm_size == "Standard_A4_v2"
    linux, windows = spec.node_pools
    assert (linux.name, linux.count, linux.os_type) == ("mycluster-linux", 1, "Linux")
    assert (windows.name, windows.count, windows.os_type) == ("mycluster-windows", 0, "Windows")
    assert linux.vm_size == "Standard_K8S3_v1" and linux.max_pod_count == 110
    assert (spec.pod_cidr, spec.service_cidr) == ("10.244.0.0/16", "10.96.0.0/12")


def test_cluster_name_has_no_hyphens_and_is_alphanumeric() -> None:
    assert "no hyphens" in str(refused("name", name="my-cluster"))
    refused("name", name="My Cluster")
    refused("name", name="1cluster")
    refused("name", name="")


def test_primary_network_plugin_is_calico_or_flannel() -> None:
    assert (
        new_cluster_spec(
            name="c1", vnet="n", primary_network_plugin="Flannel"
        ).primary_network_plugin
        == "flannel"
    )
    refused("primaryNetworkPlugin", primary_network_plugin="cilium")


def test_os_type_is_linux_or_windows() -> None:
    err = refused("osType", node_pool_name="p", os_type="macos")
    assert "Linux or Windows" in str(err)
    pool = new_cluster_spec(name="c1", vnet="n", node_pool_name="w", os_type="windows").node_pools[
        0
    ]
    assert pool.os_type == "Windows"


def test_node_max_pod_count_must_be_greater_than_50() -> None:
    refused("nodeMaxPodCount", node_max_pod_count=50)
    assert (
        new_cluster_spec(name="c1", vnet="n", node_max_pod_count=51).node_pools[0].max_pod_count
        == 51
    )


def test_node_max_pod_count_must_fit_the_per_node_block() -> None:
    err = refused("nodeMaxPodCount", node_max_pod_count=255)
    assert "at most 254" in str(err)
    with pytest.raises(InvalidInput, match="at most 126"):
        new_cluster_spec(name="c1", vnet="n", node_cidr_mask=25, node_max_pod_count=127)


def test_control_plane_node_count_is_an_odd_quorum() -> None:
    refused("controlPlaneNodeCount", control_plane_node_count=2)
    refused("controlPlaneNodeCount", control_plane_node_count=0)
    assert (
        new_cluster_spec(name="c1", vnet="n", control_plane_node_count=3).control_plane_node_count
        == 3
    )


def test_vm_sizes_come_from_the_documented_table() -> None:
    refused("controlPlaneVmSize", control_plane_vm_size="Standard_Huge")
    refused("loadBalancerVmSize", load_balancer_vm_size="nope")
    refused("vmSize", node_pool_name="p", node_vm_size="nope")
    size = vm_size("standard_k8s3_v1")
    assert (size.name, size.cpu, size.memory_gb) == ("Standard_K8S3_v1", 4, 6)


def test_load_balancer_sku_is_haproxy_or_none() -> None:
    refused("loadBalancerSku", load_balancer_sku="f5")
    spec = new_cluster_spec(name="c1", vnet="n", load_balancer_sku="none")
    assert spec.load_balancer.vm_count == 0


def test_node_pool_names_are_unique_within_a_cluster() -> None:
    spec = new_cluster_spec(name="c1", vnet="n")
    with pytest.raises(InvalidInput, match="another node pool"):
        with_node_pool(spec, node_pool_spec(name="c1-linux"))


def test_parameter_sets_cannot_be_mixed() -> None:
    refused("nodePoolName", node_pool_name="p", linux_node_count=2)


def test_legacy_parameter_set_counts() -> None:
    spec = new_cluster_spec(name="c1", vnet="n", linux_node_count=2, windows_node_count=1)
    assert [(p.os_type, p.count) for p in spec.node_pools] == [("Linux", 2), ("Windows", 1)]


def test_pod_and_service_cidrs_must_not_overlap() -> None:
    err = refused("serviceCidr", pod_cidr="10.96.0.0/16")
    assert "must not overlap the pod CIDR" in str(err)


def test_pod_cidr_holds_a_block_for_every_node() -> None:
    err = refused("podCidr", pod_cidr="10.244.0.0/23", linux_node_count=2)
    assert "2 /24 node blocks" in str(err) and "3 nodes" in str(err)


def test_cidrs_must_not_overlap_the_node_subnet_or_the_vip_pool(store: Store) -> None:
    store.add_network(network_setting(**static()))
    spec = new_cluster_spec(name="c1", vnet="labnet", pod_cidr="198.18.0.0/16")
    with pytest.raises(InvalidInput, match=r"node subnet 198\.18\.0\.0/24"):
        plan_cluster(store, spec)
    dhcp = network_setting(
        name="dhcp", vswitch_name="S", vip_pool_start="10.96.0.10", vip_pool_end="10.96.0.20"
    )
    store.add_network(dhcp)
    with pytest.raises(InvalidInput, match="VIP pool"):
        plan_cluster(store, new_cluster_spec(name="c2", vnet="dhcp"))
