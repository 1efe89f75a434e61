"""New-AksHciCluster: decisions in the store, then one run of phases.

Order: refuse what is not supported (Windows pools with a plugin that cannot do Windows) ->
record the cluster as 'creating' -> decide the API VIP and each VM's
address and MAC (aksnet.infra.provision's node_vms, the load-balancer VMs included; reused on
every later run) -> run the phases "Provision VMs" (Linux, Windows and load-balancer VMs),
"Configure the load balancer" (HAProxy) or "Write the kube-vip manifests" (loadBalancerSku none;
aksnet.cluster.loadbalancer), "Set up Linux nodes", "Apply the CNI", "Join Windows nodes", "Set up
Windows nodes" (aksnet.infra.windowsjoin) under a StoreJournal (kind 'create', target the
cluster), so a failed or killed run resumes -> record the cluster as 'provisioned'. A real
create holds the cluster's run lease (aksnet.state.lease) from before its first decision to the
end, so two creates of one cluster started at the same instant cannot both allocate or act.

In the DHCP model a VM's seed says dhcp4 and "Provision VMs" learns its address from the host
(Get-VMNetworkAdapter) once it runs; its SSH host key is pinned at that address, and the node
phases are built after that (aksnet.cluster.nodes). Each learnt address is recorded in the store
(learnt_addresses: an observation, not an allocation), so Get shows it and later runs start from
it; it goes with the VM (scale-down) and the cluster (Remove).

Windows nodes are reached over PSRP (HTTPS 5986, NTLM) as the cluster's admin user with the
password aksnet generated for them, each pinned to the WinRM certificate aksnet put in its seed
(aksnet.cluster.keys keeps both).

A what-if run executes the same code against a scratch copy of the store and of the cluster's
key folder (sqlite's backup API, shutil.copytree), under the runner's dry run: nothing on the
hosts, in the store or in AKSNET_HOME changes, and the result lists every action. The scratch
folder is in memory (/dev/shm) when that has room: the copy is made for every what-if (a key
pair per VM) and remediation runs one per cluster; on disk the copy cost more than the plan.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from aksnet.cluster import records
from aksnet.cluster.cni import ApplyCni
from aksnet.cluster.deferred import AfterVmsExist, Later
from aksnet.cluster.hosts import HostConnections, close_all
from aksnet.cluster.keys import ClusterKeys
from aksnet.cluster.loadbalancer import NO_SERVICE_ADDRESSES, api_vip_wait, load_balancer_phases
from aksnet.cluster.nodes import ClusterNodes
from aksnet.errors import InvalidInput
from aksnet.infra.jointoken import JoinToken
from aksnet.infra.linuxnode import LinuxNodeSetup, kubeadm_configs
from aksnet.infra.manifests import (
    KubeadmConfig,
    KubeadmNode,
    render_cni_text,
    render_kubeadm_config,
)
from aksnet.infra.provision import (
    DEFAULT_IMAGE,
    DEFAULT_ROOT,
    DEFAULT_WINDOWS_IMAGE,
    LearntAddresses,
    ProvisionSettings,
    ProvisionVMs,
    WindowsAccess,
    node_vms,
)
from aksnet.infra.windowsjoin import (
    JoinConfigs,
    JoinWindowsNodes,
    SetUpWindowsNodes,
    WindowsNode,
)
from aksnet.loadbalancer.frontends import Frontend
from aksnet.loadbalancer.saved import held_service_vips, load_service_frontends
from aksnet.model.cluster import ClusterSpec
from aksnet.network.plugins import get_plugin
from aksnet.plan import Phase, ProgressListener, RunResult, apply, dry_run
from aksnet.plan.journal import StoreJournal
from aksnet.remote.base import Credential
from aksnet.state.lease import HeldLease
from aksnet.state.store import Store

MEMORY_SCRATCH = "/dev/shm"


@dataclass(frozen=True)
class CreateOptions:
    """How VMs are made and reached; the defaults are AksHci's layout on the hosts."""

    admin_user: str = "clouduser"
    image_path: str = DEFAULT_IMAGE
    windows_image_path: str = DEFAULT_WINDOWS_IMAGE
    root: str = DEFAULT_ROOT
    ssh_timeout: float = 120.0
    winrm_timeout: float = 300.0
    network_timeout: float = 60.0  # for a Windows node's HNS pod network to appear
    per_host: int = 2
    delegation: bool = False
    listeners: Sequence[ProgressListener] = field(default=(), repr=False)


@dataclass
class CreateResult:
    name: str
    run: RunResult
    api_vip: str
    nodes: list[dict[str, str]]
    placement: dict[str, str]
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "WhatIf": self.run.dry_run,
            "ApiVip": self.api_vip,
            "Nodes": self.nodes,
            "Placement": self.placement,
            "Actions": [
                {"Host": r.host, "Title": r.title, "Outcome": r.outcome} for r in self.run.records
            ],
            "Changes": len(self.run.changes),
            "Resumed": self.run.resumed,
            "Warnings": self.warnings,
        }


def check_supported(spec: ClusterSpec, store: Store) -> None:
    """Refuse, before anything is created, what this create cannot do (yet)."""
    plugin = get_plugin(spec.primary_network_plugin)
    for pool in spec.node_pools:
        if pool.name.lower() == "lb" and spec.load_balancer.vm_count > 0:
            raise InvalidInput(
                "nodePoolName",
                pool.name,
                f"the name 'lb' is taken by the cluster's load-balancer VMs ({spec.name}-lb-<i>); "
                "choose another node pool name.",
            )
        if pool.os_type != "Windows" or pool.count == 0:
            continue
        if not plugin.capabilities.windows_support:
            raise InvalidInput(
                "nodePoolName",
                pool.name,
                f"the {plugin.name} network plugin does not support Windows nodes.",
            )


def create_cluster(
    store: Store,
    spec: ClusterSpec,
    hosts: HostConnections,
    *,
    what_if: bool = False,
    options: CreateOptions | None = None,
) -> CreateResult:
    """Create (or converge, or resume) the cluster; with what_if, plan only and change nothing."""
    options = options or CreateOptions()
    check_supported(spec, store)
    if not hosts.endpoints:
        raise InvalidInput("hosts", [], "cluster creation needs at least one Hyper-V host.")
    keys = ClusterKeys.beside(store.path, spec.name)
    if what_if:
        with _scratch(store, keys) as (scratch_store, scratch_keys):
            return _run(scratch_store, spec, hosts, scratch_keys, options, lease=None)
    with HeldLease(store.path, spec.name) as lease:  # before the first decision is recorded
        return _run(store, spec, hosts, keys, options, lease=lease)


def _run(
    store: Store,
    spec: ClusterSpec,
    hosts: HostConnections,
    keys: ClusterKeys,
    options: CreateOptions,
    *,
    lease: HeldLease | None,
) -> CreateResult:
    """The create; lease None: a what-if (on scratch copies, nothing to hold)."""
    what_if = lease is None
    records.ensure_recorded(store, spec)
    vip = records.api_vip(store, spec)
    admin = keys.admin()
    network = store.get_network(spec.vnet)
    windows = _windows_access(spec, keys)
    vms = node_vms(
        spec,
        network,
        store,
        admin_user=options.admin_user,
        authorized_key=admin.public_line,
        host_key_for=keys.host_key,
        windows=windows,
        load_balancers=True,
    )
    credential = Credential(options.admin_user, windows.password) if windows else None
    settings = ProvisionSettings(
        switch_name=network.vswitch_name,
        vlan_id=network.vlan_id,
        admin_user=options.admin_user,
        admin_key=admin.to_paramiko(),
        known_hosts=keys.known_hosts,
        image_path=options.image_path,
        windows_image_path=options.windows_image_path,
        windows_credential=credential,
        root=options.root,
        delegation=options.delegation,
        ssh_timeout=options.ssh_timeout,
        winrm_timeout=options.winrm_timeout,
    )
    sessions = hosts.open()
    provision = ProvisionVMs(
        vms,
        sessions,
        settings,
        LearntAddresses(store.path, spec.name, network.name),
        hand_over_ssh=True,  # the session that waited for a node does its setup (nodes.close)
    )
    nodes = ClusterNodes(vms, provision, settings, credential)
    try:
        phases = _phases(store, spec, vip, keys, provision, nodes, options)
        run = _execute(store, spec, phases, options, lease)
    finally:
        nodes.close()
        close_all(sessions)
    if not what_if:
        records.set_state(store, spec.name, records.PROVISIONED)
    warnings = list(provision.warnings)
    if spec.load_balancer.sku == "none":
        warnings.append(NO_SERVICE_ADDRESSES.format(name=spec.name, vip=vip))
    placement = dict(provision.placement)
    return CreateResult(spec.name, run, vip, nodes.listed(), placement, warnings)


def _windows_access(spec: ClusterSpec, keys: ClusterKeys) -> WindowsAccess | None:
    """The Windows nodes' password and certificates, when the cluster has Windows VMs (a
    cluster without them gets no password file)."""
    if not any(p.os_type == "Windows" and p.count > 0 for p in spec.node_pools):
        return None
    return WindowsAccess(
        keys.windows_password(), keys.winrm_certificate, keys.winrm_certificate_path
    )


def _join_configs(spec: ClusterSpec, vip: str, token: JoinToken) -> JoinConfigs:
    def render(node: WindowsNode, ca_cert_hashes: Sequence[str]) -> KubeadmConfig:
        kubeadm_node = KubeadmNode(node.name, "worker", node.address, os_type="Windows")
        return render_kubeadm_config(spec, vip, kubeadm_node, token, ca_cert_hashes=ca_cert_hashes)

    return render


def _phases(
    store: Store,
    spec: ClusterSpec,
    vip: str,
    keys: ClusterKeys,
    provision: ProvisionVMs,
    nodes: ClusterNodes,
    options: CreateOptions,
) -> list[Phase]:
    """The create's phases; those after "Provision VMs" are built once it ran (Later), since
    in the DHCP model it learns the nodes' addresses."""
    token, certificate_key = keys.join_secrets()
    plugin = get_plugin(spec.primary_network_plugin)

    def linux_setup() -> Phase:
        configs = kubeadm_configs(spec, vip, token, certificate_key)
        return LinuxNodeSetup(nodes.linux(), plugin, configs, secrets=[token, certificate_key])

    def cni() -> Phase:
        return ApplyCni(nodes.first(), plugin.name, render_cni_text(spec))

    first = nodes.first_name
    phases: list[Phase] = [
        provision,
        *load_balancer_phases(spec, vip, nodes, partial(_saved_frontends, store, spec, keys)),
        AfterVmsExist(Later(LinuxNodeSetup.title, linux_setup), nodes.linux_names),
        AfterVmsExist(Later(ApplyCni.title, cni), [first]),
    ]
    last = api_vip_wait(spec, vip, nodes)
    if not nodes.windows_names:
        return [*phases, *last]

    def join() -> Phase:
        configs = _join_configs(spec, vip, token)
        return JoinWindowsNodes(nodes.windows(), nodes.first(), configs, token)

    def windows_setup() -> Phase:
        timeout = options.network_timeout
        windows, cidr = nodes.windows(), spec.pod_cidr
        return SetUpWindowsNodes(plugin, windows, nodes.first(), cidr, network_timeout=timeout)

    windows = nodes.windows_names
    return [
        *phases,
        AfterVmsExist(Later(JoinWindowsNodes.title, join), windows),
        AfterVmsExist(Later(SetUpWindowsNodes.title, windows_setup), windows),
        *last,
    ]


def _execute(
    store: Store,
    spec: ClusterSpec,
    phases: Sequence[Phase],
    options: CreateOptions,
    lease: HeldLease | None,
) -> RunResult:
    if lease is None:
        return dry_run(phases, listeners=options.listeners, per_host=options.per_host)
    with StoreJournal(store.path, kind="create", target=spec.name, lease=lease) as journal:
        return apply(
            phases, journal=journal, listeners=options.listeners, per_host=options.per_host
        )


@contextmanager
def _scratch(store: Store, keys: ClusterKeys) -> Iterator[tuple[Store, ClusterKeys]]:
    """A private copy of the store and of the cluster's key folder, deleted afterwards."""
    root = _scratch_root(store.path)
    with tempfile.TemporaryDirectory(prefix="aksnet-whatif-", dir=root) as folder:
        copy_path = Path(folder) / "aksnet.db"
        source, target = sqlite3.connect(store.path), sqlite3.connect(copy_path)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        scratch_keys = ClusterKeys(Path(folder) / "keys")
        if keys.folder.is_dir():
            shutil.copytree(keys.folder, scratch_keys.folder)
        with Store(copy_path) as scratch_store:
            yield scratch_store, scratch_keys


def _scratch_root(store_path: Path) -> str | None:
    """/dev/shm (memory) when it is there and has room for 4 times the store and 16 MiB (the
    key folder is some KiB); else None (the default temporary folder)."""
    try:
        free = os.statvfs(MEMORY_SCRATCH)
        needed = 4 * store_path.stat().st_size + 16 * 2**20
        usable = os.access(MEMORY_SCRATCH, os.W_OK | os.X_OK)
    except OSError:
        return None
    return MEMORY_SCRATCH if usable and free.f_bavail * free.f_frsize > needed else None


def _saved_frontends(store: Store, spec: ClusterSpec, keys: ClusterKeys) -> list[Frontend]:
    """The Services' frontends of the last load-balancer sync whose VIPs are still held."""
    return load_service_frontends(keys.folder, held_service_vips(store, spec))
