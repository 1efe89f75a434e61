"""Get-AksHciCluster: what the store knows of a cluster, in the cmdlet's shape plus addresses.

Read from the store only: ProvisioningState is the recorded state ('creating' until a create
finished, 'provisioned', 'removing'), as AksHci reports it. Nodes lists every VM with an
address, with its role: "control-plane", "worker" or "loadbalancer" (the HAProxy VMs
`<cluster>-lb-<i>`), and where the address comes from ("AddressSource"): "static" for an
address aksnet allocated from the node IP pool, "dhcp" for one its host reported and aksnet
recorded when it learnt it (the DHCP model; the last one reported, which a lease renewal may
since have changed).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from aksnet.cluster import records
from aksnet.errors import NotFound
from aksnet.infra.macpool import colon_form
from aksnet.infra.placement import LOAD_BALANCER
from aksnet.infra.vmnames import vm_roles
from aksnet.model.cluster import ClusterSpec
from aksnet.state.macs import macs_of
from aksnet.state.store import Allocation, Store

_STATES = {
    records.CREATING: "Creating",
    records.PROVISIONED: "Provisioned",
    records.REMOVING: "Deleting",
}


@dataclass(frozen=True)
class ClusterView:
    spec: ClusterSpec
    state: str
    allocations: list[Allocation]
    macs: dict[str, str]
    learnt: dict[str, str] = field(default_factory=dict)  # VM -> address its host reported

    @property
    def provisioning_state(self) -> str:
        return _STATES.get(self.state, self.state)

    def to_dict(self) -> dict[str, Any]:
        spec = self.spec
        linux = sum(p.count for p in spec.node_pools if p.os_type == "Linux")
        windows = sum(p.count for p in spec.node_pools if p.os_type == "Windows")
        api = [a for a in self.allocations if a.owner_kind == records.API_VIP_OWNER_KIND]
        nodes = [a for a in self.allocations if a.owner_kind == "vm"]
        roles = vm_roles(spec)
        lb = spec.load_balancer
        return {
            "Name": spec.name,
            "ProvisioningState": self.provisioning_state,
            "KubernetesVersion": spec.kubernetes_version,
            "PrimaryNetworkPlugin": spec.primary_network_plugin,
            "Network": spec.vnet,
            "ControlPlaneNodeCount": spec.control_plane_node_count,
            "LinuxNodeCount": linux,
            "WindowsNodeCount": windows,
            "NodePools": [
                {"Name": p.name, "OsType": p.os_type, "Count": p.count, "VmSize": p.vm_size}
                for p in spec.node_pools
            ],
            "LoadBalancer": {
                "Sku": lb.sku,
                "Count": lb.count,
                "VmSize": lb.vm_size,
                "Vms": [name for name, role in roles.items() if role == LOAD_BALANCER],
            },
            "ApiServerVip": str(api[0].address) if api else None,
            "PodCidr": spec.pod_cidr,
            "ServiceCidr": spec.service_cidr,
            "Nodes": self._nodes(nodes, roles),
        }

    def _nodes(self, allocated: list[Allocation], roles: dict[str, str]) -> list[dict[str, Any]]:
        addresses = {a.owner: (str(a.address), "static") for a in allocated}
        for vm, address in self.learnt.items():
            addresses.setdefault(vm, (address, "dhcp"))
        return [
            {
                "Name": vm,
                "Role": roles.get(vm, ""),
                "Address": address,
                "AddressSource": source,
                "Mac": self.macs.get(vm),
            }
            for vm, (address, source) in sorted(addresses.items(), key=_by_address)
        ]


def _by_address(item: tuple[str, tuple[str, str]]) -> tuple[int, str]:
    return int(ipaddress.IPv4Address(item[1][0])), item[0]


def get_cluster(store: Store, name: str) -> ClusterView:
    state = records.state_of(store, name)
    if state is None:
        raise NotFound("Cluster", name)
    spec = store.get_cluster(name)
    macs = {m.owner: colon_form(m.mac) for m in macs_of(store, cluster=name)}
    allocations = store.allocations(spec.vnet, cluster=name)
    return ClusterView(spec, state, allocations, macs, store.learnt_addresses(cluster=name))


def list_clusters(store: Store) -> list[ClusterView]:
    return [get_cluster(store, spec.name) for spec in store.list_clusters()]
