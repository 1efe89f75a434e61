"""Shared inputs for the artifact tests: network settings, cluster specs and host keys."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from aksnet.infra.hostkeys import HostKeyPair, generate_host_key
from aksnet.model.cluster import ClusterSpec, NodePoolSpec, cluster_spec, node_pool_spec
from aksnet.model.network import NetworkSetting, network_setting

API_VIP = "198.18.0.200"


def static_network() -> NetworkSetting:
    return network_setting(
        name="labnet",
        vswitch_name="LabSwitch",
        vlan_id=7,
        ip_address_prefix="198.18.0.0/24",
        gateway="198.18.0.1",
        dns_servers=["198.18.0.2", "198.18.0.3"],
        k8s_node_ip_pool_start="198.18.0.10",
        k8s_node_ip_pool_end="198.18.0.36",
        vip_pool_start="198.18.0.200",
        vip_pool_end="198.18.0.204",
    )


def dhcp_network() -> NetworkSetting:
    return network_setting(
        name="dhcpnet",
        vswitch_name="LabSwitch",
        vip_pool_start="198.18.0.200",
        vip_pool_end="198.18.0.204",
    )


def pools(windows: bool) -> Sequence[NodePoolSpec]:
    linux = node_pool_spec(name="linux", count=2)
    if not windows:
        return (linux,)
    return (linux, node_pool_spec(name="win", count=1, os_type="Windows"))


def cluster(
    plugin: str, *, windows: bool, encapsulation: str | None = None, **changes: object
) -> ClusterSpec:
    return cluster_spec(
        name="c1",
        vnet="labnet",
        primary_network_plugin=plugin,
        node_pools=pools(windows),
        encapsulation=encapsulation,
        **changes,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def host_keys() -> tuple[HostKeyPair, ...]:
    return (generate_host_key("ed25519", comment="c1-cp-0"),)


@pytest.fixture(scope="session")
def admin_key() -> HostKeyPair:
    """A key pair whose public line stands in for the admin's authorized key."""
    return generate_host_key("ed25519", comment="admin")
