"""The public Python API: one function per user-visible operation.

Parameters keep the AksHci meaning (snake_case of the cmdlet parameter names). Every function
validates all of its input before it changes anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aksnet.errors import InvalidInput
from aksnet.model.cluster import (
    DEFAULT_KUBERNETES_VERSION,
    DEFAULT_MAX_PODS,
    DEFAULT_NODE_CIDR_MASK,
    DEFAULT_POD_CIDR,
    DEFAULT_SERVICE_CIDR,
    ClusterSpec,
    NodePoolSpec,
    cluster_spec,
    load_balancer_setting,
    node_pool_spec,
)
from aksnet.model.network import NetworkSetting, network_setting
from aksnet.network.budget import (
    Budget,
    aks_host_budget,
    check_cluster_in_network,
    check_fits,
    cluster_budget,
)
from aksnet.network.plugins import PLUGINS, Plugin, get_plugin
from aksnet.state.store import Allocation, Store

if TYPE_CHECKING:  # the cluster operations load SSH, PSRP and templates: only when called
    from aksnet.cluster.create import CreateOptions, CreateResult
    from aksnet.cluster.credential import CredentialResult
    from aksnet.cluster.get import ClusterView
    from aksnet.cluster.hosts import HostConnections
    from aksnet.cluster.nodepool import NodePoolView
    from aksnet.cluster.remove import RemoveResult
    from aksnet.cluster.scale import ScaleResult
    from aksnet.plan.progress import ProgressListener


def open_store(path: Path | str | None = None) -> Store:
    """The store at path, else at AKSNET_HOME or the per-OS default."""
    return Store(path)


# Network settings


def new_network_setting(store: Store, **parameters: Any) -> NetworkSetting:
    """New-AksHciClusterNetwork / New-AksHciNetworkSetting."""
    setting = network_setting(**parameters)
    store.add_network(setting)
    return setting


@dataclass(frozen=True)
class NetworkView:
    setting: NetworkSetting
    allocations: list[Allocation]
    free: dict[str, int]
    used_by: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.setting.to_dict(),
            "FreeAddresses": self.free,
            "UsedBy": self.used_by,
            "Allocations": [a.to_dict() for a in self.allocations],
        }


def get_network_settings(store: Store, name: str | None = None) -> list[NetworkView]:
    """Get-AksHciClusterNetwork, with the allocations the AksHci cmdlet does not show."""
    settings = [store.get_network(name)] if name else store.list_networks()
    return [
        NetworkView(
            s,
            store.allocations(s.name),
            {kind: store.free_count(s.name, kind) for kind in s.pool_kinds},
            store.network_users(s.name),
        )
        for s in settings
    ]


def remove_network_setting(store: Store, name: str) -> None:
    """Remove-AksHciClusterNetwork: refused while a cluster uses the network."""
    store.remove_network(name)


# Clusters


def new_cluster_spec(
    *,
    name: str,
    vnet: str,
    primary_network_plugin: str | None = None,
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
    control_plane_node_count: int = 1,
    control_plane_vm_size: str | None = None,
    load_balancer_vm_size: str | None = None,
    load_balancer_sku: str = "HAProxy",
    load_balancer_count: int = 1,
    node_pool_name: str | None = None,
    node_count: int | None = None,
    node_vm_size: str | None = None,
    os_type: str | None = None,
    linux_node_count: int | None = None,
    windows_node_count: int | None = None,
    linux_node_vm_size: str | None = None,
    windows_node_vm_size: str | None = None,
    node_max_pod_count: int = DEFAULT_MAX_PODS,
    taints: Sequence[str] = (),
    pod_cidr: str = DEFAULT_POD_CIDR,
    node_cidr_mask: int = DEFAULT_NODE_CIDR_MASK,
    service_cidr: str = DEFAULT_SERVICE_CIDR,
    encapsulation: str | None = None,
    network_policies: bool = False,
    ipv6: bool = False,
) -> ClusterSpec:
    """New-AksHciCluster's parameters, both documented parameter sets, as a validated spec."""
    pools = _node_pools(
        name,
        node_pool_name=node_pool_name,
        node_count=node_count,
        node_vm_size=node_vm_size,
        os_type=os_type,
        legacy=(linux_node_count, windows_node_count, linux_node_vm_size, windows_node_vm_size),
        max_pods=node_max_pod_count,
        taints=taints,
        node_cidr_mask=node_cidr_mask,
    )
    lb = load_balancer_setting(
        sku=load_balancer_sku, vm_size_name=load_balancer_vm_size, count=load_balancer_count
    )
    return cluster_spec(
        name=name,
        vnet=vnet,
        primary_network_plugin=primary_network_plugin,
        kubernetes_version=kubernetes_version,
        control_plane_node_count=control_plane_node_count,
        control_plane_vm_size=control_plane_vm_size,
        load_balancer=lb,
        node_pools=pools,
        pod_cidr=pod_cidr,
        node_cidr_mask=node_cidr_mask,
        service_cidr=service_cidr,
        encapsulation=encapsulation,
        network_policies=network_policies,
        ipv6=ipv6,
    )


def _node_pools(
    cluster: str,
    *,
    node_pool_name: str | None,
    node_count: int | None,
    node_vm_size: str | None,
    os_type: str | None,
    legacy: tuple[int | None, int | None, str | None, str | None],
    max_pods: int,
    taints: Sequence[str],
    node_cidr_mask: int,
) -> tuple[NodePoolSpec, ...]:
    """The node-pool parameter set, or the legacy one (§1.1), never both."""
    linux_count, windows_count, linux_size, windows_size = legacy
    uses_legacy = any(v is not None for v in legacy)
    uses_pool_set = any(v is not None for v in (node_pool_name, node_count, node_vm_size, os_type))
    if uses_legacy and uses_pool_set:
        raise InvalidInput(
            "nodePoolName",
            node_pool_name,
            "it cannot be combined with linuxNodeCount, windowsNodeCount, linuxNodeVmSize or "
            "windowsNodeVmSize (two parameter sets).",
        )
    if uses_pool_set:
        return (
            node_pool_spec(
                name=node_pool_name or f"{cluster}-{(os_type or 'Linux').lower()}",
                count=1 if node_count is None else node_count,
                os_type=os_type or "Linux",
                vm_size_name=node_vm_size,
                max_pod_count=max_pods,
                taints=taints,
                node_cidr_mask=node_cidr_mask,
                max_pods_parameter="nodeMaxPodCount",
            ),
        )
    return (
        node_pool_spec(
            name=f"{cluster}-linux",
            count=1 if linux_count is None else linux_count,
            os_type="Linux",
            vm_size_name=linux_size,
            max_pod_count=max_pods,
            taints=taints,
            node_cidr_mask=node_cidr_mask,
            max_pods_parameter="nodeMaxPodCount",
        ),
        node_pool_spec(
            name=f"{cluster}-windows",
            count=0 if windows_count is None else windows_count,
            os_type="Windows",
            vm_size_name=windows_size,
            max_pod_count=max_pods,
            taints=taints,
            node_cidr_mask=node_cidr_mask,
            max_pods_parameter="nodeMaxPodCount",
        ),
    )


@dataclass(frozen=True)
class ClusterPlan:
    spec: ClusterSpec
    network: NetworkSetting
    budget: Budget
    free: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "Name": self.spec.name,
            "Network": self.network.name,
            "Model": self.network.model,
            "PrimaryNetworkPlugin": self.spec.primary_network_plugin,
            "ControlPlaneNodeCount": self.spec.control_plane_node_count,
            "NodePools": [
                {"Name": p.name, "OsType": p.os_type, "Count": p.count, "VmSize": p.vm_size}
                for p in self.spec.node_pools
            ],
            "PodCidr": self.spec.pod_cidr,
            "ServiceCidr": self.spec.service_cidr,
            "NodeAddressesNeeded": self.budget.node,
            "VipAddressesNeeded": self.budget.vip,
            "NodeAddressesTotal": self.budget.node_total,
            "VipAddressesTotal": self.budget.vip_total,
            "FreeAddresses": self.free,
        }


def plan_cluster(
    store: Store, spec: ClusterSpec, *, service_ports: Sequence[int] = (), aks_host: bool = False
) -> ClusterPlan:
    """The address budget of a cluster and every check against its network; creates nothing.

    aks_host adds the AKS host's own reservation (1 + 2 update addresses) to the budget, as the
    documented sizing table does for a network that also carries the management cluster.
    """
    network = store.get_network(spec.vnet)
    check_cluster_in_network(spec, network)
    budget = cluster_budget(spec, static=network.is_static, service_ports=service_ports)
    if aks_host and network.is_static:
        budget = budget + aks_host_budget()
    free = {kind: store.free_count(network.name, kind) for kind in network.pool_kinds}
    check_fits(budget, network, free)
    return ClusterPlan(spec, network, budget, free)


# Plugins


def list_plugins() -> list[Plugin]:
    return list(PLUGINS.values())


def show_plugin(name: str) -> Plugin:
    return get_plugin(name, parameter="name")


# Cluster lifecycle (Linux-only clusters; see aksnet.cluster)


def new_cluster(
    store: Store,
    spec: ClusterSpec,
    hosts: HostConnections,
    *,
    what_if: bool = False,
    options: CreateOptions | None = None,
) -> CreateResult:
    """New-AksHciCluster: plan (budget and checks) for a new cluster, then create, converge or
    resume it on the hosts. what_if plans the same phases and changes nothing."""
    from aksnet.cluster import records
    from aksnet.cluster.create import create_cluster

    check_cluster_supported(store, spec)
    if records.state_of(store, spec.name) is None:
        plan_cluster(store, spec)  # refuses a cluster whose addresses do not fit, first
    return create_cluster(store, spec, hosts, what_if=what_if, options=options)


def check_cluster_supported(store: Store, spec: ClusterSpec) -> None:
    """Refuse what cluster creation cannot do yet (Windows pools, the DHCP model); reads only
    the store, so callers can refuse before they reach any host."""
    from aksnet.cluster.create import check_supported

    check_supported(spec, store)


def get_cluster(store: Store, name: str) -> ClusterView:
    """Get-AksHciCluster -name: ProvisioningState, node pools, counts, addresses, plugin."""
    from aksnet.cluster.get import get_cluster as get

    return get(store, name)


def list_clusters(store: Store) -> list[ClusterView]:
    """Get-AksHciCluster without -name."""
    from aksnet.cluster.get import list_clusters as listing

    return listing(store)


def remove_cluster(
    store: Store,
    name: str,
    hosts: HostConnections,
    *,
    what_if: bool = False,
    listeners: Sequence[ProgressListener] = (),
) -> RemoveResult:
    """Remove-AksHciCluster: VMs, disks and ISOs off the hosts; addresses and MACs released."""
    from aksnet.cluster.remove import remove_cluster as remove

    return remove(store, name, hosts, what_if=what_if, listeners=listeners)


def set_cluster(
    store: Store,
    name: str,
    hosts: HostConnections,
    *,
    control_plane_node_count: int,
    what_if: bool = False,
    options: CreateOptions | None = None,
) -> ScaleResult:
    """Set-AksHciCluster -name -controlPlaneNodeCount: scale the control plane (1, 3 or 5)."""
    from aksnet.cluster.scale import set_control_plane_count

    return set_control_plane_count(
        store, name, control_plane_node_count, hosts, what_if=what_if, options=options
    )


# Node pools (aksnet.cluster.nodepool)


def new_node_pool(
    store: Store,
    cluster_name: str,
    hosts: HostConnections,
    *,
    name: str,
    count: int = 1,
    os_type: str = "Linux",
    vm_size: str | None = None,
    max_pod_count: int = DEFAULT_MAX_PODS,
    taints: Sequence[str] = (),
    what_if: bool = False,
    options: CreateOptions | None = None,
) -> ScaleResult:
    """New-AksHciNodePool: record the pool, then create its VMs and join them."""
    from aksnet.cluster.nodepool import new_node_pool as new

    return new(
        store,
        cluster_name,
        hosts,
        name=name,
        count=count,
        os_type=os_type,
        vm_size=vm_size,
        max_pod_count=max_pod_count,
        taints=taints,
        what_if=what_if,
        options=options,
    )


def get_node_pools(store: Store, cluster_name: str, name: str | None = None) -> list[NodePoolView]:
    """Get-AksHciNodePool -clusterName [-name]."""
    from aksnet.cluster.nodepool import get_node_pools as get

    return get(store, cluster_name, name)


def set_node_pool(
    store: Store,
    cluster_name: str,
    name: str,
    hosts: HostConnections,
    *,
    count: int | None = None,
    vm_size: str | None = None,
    what_if: bool = False,
    options: CreateOptions | None = None,
) -> ScaleResult:
    """Set-AksHciNodePool -count | -vmSize: scale up (create) or down (drain, delete, remove)."""
    from aksnet.cluster.nodepool import set_node_pool as set_pool

    return set_pool(
        store,
        cluster_name,
        name,
        hosts,
        count=count,
        vm_size=vm_size,
        what_if=what_if,
        options=options,
    )


def remove_node_pool(
    store: Store,
    cluster_name: str,
    name: str,
    hosts: HostConnections,
    *,
    what_if: bool = False,
    options: CreateOptions | None = None,
) -> ScaleResult:
    """Remove-AksHciNodePool: its VMs drained and removed, addresses released, then the pool."""
    from aksnet.cluster.nodepool import remove_node_pool as remove

    return remove(store, cluster_name, name, hosts, what_if=what_if, options=options)


def get_credential(
    store: Store,
    name: str,
    *,
    config_path: Path | str | None = None,
    overwrite: bool = False,
    hosts: HostConnections | None = None,
) -> CredentialResult:
    """Get-AksHciCredential -name [-configPath]: the admin kubeconfig, written owner-only.
    hosts: needed only in the DHCP model, where the first control plane's host reports its
    address (see optional_lab_hosts)."""
    from aksnet.cluster.credential import get_credential as fetch

    return fetch(store, name, config_path=config_path, overwrite=overwrite, hosts=hosts)


def optional_lab_hosts(lab_dir: Path | str | None = None) -> HostConnections | None:
    """The running lab's hosts, or None when no lab runs (for reads that need hosts only
    sometimes, like a DHCP cluster's addresses)."""
    from aksnet.lab.daemon import LabNotRunning

    try:
        return lab_hosts(lab_dir)
    except LabNotRunning:
        return None


def lab_hosts(lab_dir: Path | str | None = None) -> HostConnections:
    """The Hyper-V hosts of the running lab (lab.json and credentials.json of lab_dir)."""
    from aksnet.cluster.hosts import HostConnections

    return HostConnections.from_lab(lab_dir)


# Sync-AksHciLoadBalancer (aksnet.loadbalancer.apply)

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from aksnet.loadbalancer.apply import LoadBalancerSyncResult


def sync_load_balancer(
    store: Store,
    name: str,
    hosts: HostConnections | None = None,
    *,
    what_if: bool = False,
    watch: bool = False,
    stop: threading.Event | None = None,
    on_result: Callable[[LoadBalancerSyncResult], None] | None = None,
    listeners: Sequence[ProgressListener] = (),
) -> list[LoadBalancerSyncResult]:
    """Sync-AksHciLoadBalancer -name [-WhatIf] [-Watch]: VIPs for the cluster's LoadBalancer
    Services (status and Events written back), then the frontends on its load-balancer VMs.

    Returns the result of each run: one, or with watch, one per run until `stop` is set or
    Ctrl+C (SIGINT, in the main thread) ends the loop after the run in progress; on_result
    sees each as it ends. hosts: only for a DHCP cluster, whose first control plane's host
    reports its address. loadBalancerSku none: the Services are reported and get no address.
    """
    import threading

    from aksnet.loadbalancer import apply

    store.get_cluster(name)  # NotFound before anything is reached
    if watch and what_if:
        raise InvalidInput("watch", True, "not with what_if: a what-if run changes nothing.")
    if not watch:
        result = apply.sync_cluster_load_balancer(
            store, name, what_if=what_if, hosts=hosts, listeners=listeners
        )
        if on_result is not None:
            on_result(result)
        return [result]
    results: list[LoadBalancerSyncResult] = []
    stop = stop or threading.Event()

    def record(result: LoadBalancerSyncResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    restore = _interrupt_sets(stop)
    try:
        apply.watch_cluster_load_balancer(
            store, name, stop, record, hosts=hosts, listeners=listeners
        )
    finally:
        restore()
    return results


def _interrupt_sets(stop: threading.Event) -> Callable[[], None]:
    """Until the returned function is called, Ctrl+C (SIGINT) sets `stop` instead of raising
    KeyboardInterrupt, so the run in progress ends normally (its journal and lease closed),
    never half-way through an action. Only in the main thread, where Python runs signal
    handlers; elsewhere the caller sets stop."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGINT, lambda signum, frame: stop.set())

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)

    return restore


# Test-/Repair-AksHciClusterNetwork and their scheduled runs (aksnet.remediation)

if TYPE_CHECKING:
    from aksnet.remediation.report import Report
    from aksnet.remediation.timer import TimerUnits

REMEDIATION_DEADLINE = 600.0


def test_cluster_network(
    store: Store,
    hosts: HostConnections,
    name: str | None = None,
    *,
    deadline: float = REMEDIATION_DEADLINE,
    options: CreateOptions | None = None,
) -> Report:
    """Test-AksHciClusterNetwork [-name]: every check of every cluster (or one); changes
    nothing. Report.exit_code: 0 clean, 1 drift, 2 a check could not be made."""
    from aksnet.remediation import run

    return run.test_cluster_network(store, hosts, name, deadline=deadline, options=options)


def repair_cluster_network(
    store: Store,
    hosts: HostConnections,
    name: str | None = None,
    *,
    what_if: bool = False,
    deadline: float = REMEDIATION_DEADLINE,
    options: CreateOptions | None = None,
) -> Report:
    """Repair-AksHciClusterNetwork [-name] [-WhatIf]: repairs drift on what aksnet created by
    create's own actions; foreign objects are reported and left alone."""
    from aksnet.remediation import run

    return run.repair_cluster_network(
        store, hosts, name, what_if=what_if, deadline=deadline, options=options
    )


def install_remediation_timer(
    name: str | None = None,
    *,
    directory: Path | str | None = None,
    interval: float = 900.0,
    deadline: float = REMEDIATION_DEADLINE,
    store_path: str | None = None,
    log_file: str | None = None,
) -> TimerUnits:
    """`aksnet remediation install-timer`: a systemd timer + service running Repair."""
    from aksnet.remediation import timer

    return timer.install_timer(
        name,
        directory=directory if directory is not None else timer.DEFAULT_UNIT_DIR,
        interval=interval,
        deadline=deadline,
        store=store_path,
        log_file=log_file,
    )


def remove_remediation_timer(
    name: str | None = None, *, directory: Path | str | None = None
) -> int:
    """`aksnet remediation remove-timer`: the units' files removed (0: none were there)."""
    from aksnet.remediation import timer

    folder = directory if directory is not None else timer.DEFAULT_UNIT_DIR
    return timer.remove_timer(name, directory=folder)
