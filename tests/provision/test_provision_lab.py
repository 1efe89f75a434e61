"""Provisioning a 1 control-plane + 2 worker cluster's VMs over two lab hosts (needs root).

The hosts are emulated Hyper-V behind real PSRP; the VMs become namespaces running a real sshd,
so "reachable over SSH with the pinned key" is a real SSH connection.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import pytest

from aksnet.errors import (
    CapacityExceeded,
    HostFailures,
    HostKeyMismatch,
    RemoteCommandFailed,
    StateConflict,
)
from aksnet.infra.hostkeys import HostKeyPair, generate_host_key
from aksnet.infra.macpool import colon_form
from aksnet.infra.provision import DEFAULT_IMAGE, NodeVm, ProvisionVMs, node_vms
from aksnet.model.cluster import cluster_spec, node_pool_spec
from aksnet.plan import apply, dry_run, format_plan
from aksnet.plan.journal import StoreJournal
from aksnet.remote.base import Cmdlet
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.ssh import SSHSession
from tests.provision.conftest import VLAN, Fabric, node_image

GIB = 1024**3


def plan_nodes(fabric: Fabric, keys: dict[str, HostKeyPair]) -> list[NodeVm]:
    spec = cluster_spec(
        name="c1",
        vnet=fabric.network.name,
        control_plane_node_count=1,
        node_pools=(node_pool_spec(name="linux", count=2),),
    )

    def key_for(name: str) -> HostKeyPair:
        return keys.setdefault(name, generate_host_key("ed25519"))

    return node_vms(
        spec,
        fabric.network,
        fabric.store,
        admin_user="clouduser",
        authorized_key=fabric.admin.public_line,
        host_key_for=key_for,
    )


def vms_on(fabric: Fabric) -> dict[str, list[dict[str, Any]]]:
    return {h: s.invoke(Cmdlet.of("Get-VM")) for h, s in fabric.sessions.items()}


def test_dry_run_lists_the_vms_and_changes_nothing(fabric: Fabric) -> None:
    nodes = plan_nodes(fabric, {})
    phase = ProvisionVMs(nodes, fabric.sessions, fabric.settings())
    result = dry_run([phase])
    titles = [r.title for r in result.changes]
    assert sorted(t for t in titles if t.startswith("New-VM")) == [
        f"New-VM c1-cp-0 on host {phase.placement['c1-cp-0']}: 4 vCPU, 8 GiB",
        f"New-VM c1-linux-0 on host {phase.placement['c1-linux-0']}: 4 vCPU, 6 GiB",
        f"New-VM c1-linux-1 on host {phase.placement['c1-linux-1']}: 4 vCPU, 6 GiB",
    ]
    assert sum(t.startswith("Copy seed ISO") for t in titles) == 3
    plan = format_plan(result)
    assert f"New-VM c1-cp-0 on host {phase.placement['c1-cp-0']}: 4 vCPU, 8 GiB" in plan
    assert vms_on(fabric) == {"hci1": [], "hci2": []}
    for session in fabric.sessions.values():
        assert session.invoke(
            Cmdlet.of("Test-Path", LiteralPath=r"C:\ClusterStorage\Volume1\aksnet")
        ) == [False]


def test_a_cluster_s_vms_are_created_reachable_and_a_second_apply_does_nothing(
    fabric: Fabric,
) -> None:
    keys: dict[str, HostKeyPair] = {}
    nodes = plan_nodes(fabric, keys)
    phase = ProvisionVMs(nodes, fabric.sessions, fabric.settings())
    for server in fabric.lab.servers.values():
        server.stats.reset()
    result = apply([phase], per_host=2)

    per_host = Counter(phase.placement.values())
    assert set(per_host) == {"hci1", "hci2"}  # spread over both hosts
    trips = fabric.round_trips()
    for host, count in per_host.items():
        # 1 host fact (Get-VMHost + Get-VM + Get-Cluster), then at most 3 per VM.
        assert trips[host] <= 1 + 3 * count, (host, trips, count)
    assert len([r for r in result.changes if r.title.startswith("New-VM")]) == 3
    assert phase.warnings and all("delegation" in w for w in phase.warnings)  # clustered hosts

    pinned = KnownHosts(fabric.tmp / "known_hosts")  # what the phase pinned before connecting
    for node in nodes:
        _check_vm_on_host(fabric, node, phase.placement[node.name])
        _check_ssh(fabric, node, keys[node.name])
        assert node.address is not None
        assert pinned.fingerprint(node.address) == keys[node.name].fingerprint

    again = ProvisionVMs(plan_nodes(fabric, keys), fabric.sessions, fabric.settings())
    for server in fabric.lab.servers.values():
        server.stats.reset()
    second = apply([again])
    # Reading costs the 1 host-level round trip and 1 per VM: the other 2 per VM were the ISO
    # and the create step.
    assert fabric.round_trips() == {h: 1 + n for h, n in per_host.items()}
    assert second.changes == [] and second.records == []
    assert again.placement == phase.placement


def _check_vm_on_host(fabric: Fabric, node: NodeVm, host: str) -> None:
    session = fabric.sessions[host]
    name = node.name
    (vm,) = session.invoke(Cmdlet.of("Get-VM", Name=name))
    assert vm["State"] in ("Running", 2)
    assert vm["MemoryStartup"] == node.memory_bytes and vm["ProcessorCount"] == node.cpu
    assert vm["Generation"] == 2
    (adapter,) = session.invoke(Cmdlet.of("Get-VMNetworkAdapter", VMName=name))
    assert adapter["MacAddress"] == colon_form(node.mac).replace(":", "").upper()
    assert adapter["DynamicMacAddressEnabled"] is False
    (vlan,) = session.invoke(Cmdlet.of("Get-VMNetworkAdapterVlan", VMName=name))
    assert vlan["OperationMode"] in ("Access", 1) and vlan["AccessVlanId"] == VLAN
    (dvd,) = session.invoke(Cmdlet.of("Get-VMDvdDrive", VMName=name))
    iso = rf"C:\ClusterStorage\Volume1\aksnet\{name}\seed.iso"
    assert dvd["Path"].lower() == iso.lower()
    (firmware,) = session.invoke(Cmdlet.of("Get-VMFirmware", VMName=name))
    assert firmware["SecureBootTemplate"] == "MicrosoftUEFICertificateAuthority"
    (disk,) = session.invoke(
        Cmdlet.of("Get-VHD", Path=rf"C:\ClusterStorage\Volume1\aksnet\{name}\{name}.vhdx")
    )
    assert disk["VhdType"] in ("Differencing", 4)
    assert disk["ParentPath"].lower().endswith(r"\images\aksnet-linux.vhdx")
    for other in fabric.sessions.values():  # no duplicate on the other host
        if other is not session:
            assert all(v["Name"] != name for v in other.invoke(Cmdlet.of("Get-VM")))


def _check_ssh(fabric: Fabric, node: NodeVm, key: HostKeyPair) -> None:
    assert node.address is not None
    known = KnownHosts(fabric.tmp / "check_known_hosts")
    known.pin(node.address, 22, key.public_line)
    with SSHSession(
        node.address,
        username="clouduser",
        private_key=fabric.admin.to_paramiko(),
        known_hosts=known,
    ) as ssh:
        assert ssh.run(["hostname"]).text.strip() == node.name
        assert f"inet {node.address}/" in ssh.run(["ip", "-4", "-o", "addr", "show", "eth0"]).text


def test_delegation_refused_by_the_cluster_surfaces_the_second_hop(fabric: Fabric) -> None:
    nodes = plan_nodes(fabric, {})[:1]
    phase = ProvisionVMs(nodes, fabric.sessions, fabric.settings(delegation=True))
    with pytest.raises(HostFailures) as caught:
        apply([phase])
    (host,) = caught.value.by_host
    error = caught.value.by_host[host]
    assert host in ("hci1", "hci2") and isinstance(error, RemoteCommandFailed)
    assert "administrative privileges on the cluster" in str(error)
    assert any("second hop" in note for note in error.__notes__)


def test_a_cluster_that_does_not_fit_is_refused_before_anything_is_created(
    fabric: Fabric,
) -> None:
    nodes = plan_nodes(fabric, {})
    huge = [dataclasses.replace(n, memory_bytes=200 * GIB) for n in nodes]
    phase = ProvisionVMs(huge, fabric.sessions, fabric.settings())
    with pytest.raises(CapacityExceeded, match=r"memory on host hci\d") as caught:
        apply([phase])
    assert "c1-cp-0" in str(caught.value) and "Nothing was created" in str(caught.value)
    assert vms_on(fabric) == {"hci1": [], "hci2": []}


def test_a_run_that_failed_on_one_host_resumes_from_the_journal_and_converges(
    fabric: Fabric,
) -> None:
    keys: dict[str, HostKeyPair] = {}
    nodes = plan_nodes(fabric, keys)
    fabric.sessions["hci2"].invoke(Cmdlet.of("Remove-Item", LiteralPath=DEFAULT_IMAGE))
    journal_path = fabric.tmp / "journal.db"
    phase = ProvisionVMs(nodes, fabric.sessions, fabric.settings())
    with (
        pytest.raises(HostFailures) as caught,
        StoreJournal(journal_path, kind="create", target="c1") as journal,
    ):
        apply([phase], journal=journal)
    assert set(caught.value.by_host) == {"hci2"}  # hci1's VM was made; hci2 names its failure
    failure = caught.value.by_host["hci2"]  # both hci2 VMs failed, concurrently
    errors = failure.exceptions if isinstance(failure, ExceptionGroup) else (failure,)
    assert errors and all("aksnet-linux.vhdx" in str(e) for e in errors)
    assert [v["Name"] for v in vms_on(fabric)["hci2"]] == []  # -ErrorAction Stop: no half VM

    node_image(fabric.sessions["hci2"])
    resumed_phase = ProvisionVMs(plan_nodes(fabric, keys), fabric.sessions, fabric.settings())
    with StoreJournal(journal_path, kind="create", target="c1") as journal:
        resumed = apply([resumed_phase], journal=journal)
    assert resumed.resumed
    created = sorted(r.title.split()[1] for r in resumed.changes if r.title.startswith("New-VM"))
    assert created == ["c1-linux-0", "c1-linux-1"]
    names = sorted(v["Name"] for vs in vms_on(fabric).values() for v in vs)
    assert names == ["c1-cp-0", "c1-linux-0", "c1-linux-1"]
    for node in nodes:
        _check_vm_on_host(fabric, node, resumed_phase.placement[node.name])
        _check_ssh(fabric, node, keys[node.name])


def test_a_stopped_vm_is_started_and_a_foreign_vm_of_the_same_name_is_refused(
    fabric: Fabric,
) -> None:
    keys: dict[str, HostKeyPair] = {}
    nodes = plan_nodes(fabric, keys)[:1]
    phase = ProvisionVMs(nodes, fabric.sessions, fabric.settings())
    apply([phase])
    host = phase.placement["c1-cp-0"]
    fabric.sessions[host].invoke(Cmdlet.of("Stop-VM", Name="c1-cp-0", Force=True))
    again = apply([ProvisionVMs(nodes, fabric.sessions, fabric.settings())])
    assert [r.title for r in again.changes] == [f"Start-VM c1-cp-0 on host {host}"]
    _check_ssh(fabric, nodes[0], keys["c1-cp-0"])

    fabric.sessions[host].invoke(
        Cmdlet.of("Set-VMNetworkAdapter", VMName="c1-cp-0", StaticMacAddress="02A5FF000001")
    )
    with pytest.raises(HostFailures) as caught:
        apply([ProvisionVMs(nodes, fabric.sessions, fabric.settings())])
    refused = caught.value.by_host[host]
    assert isinstance(refused, StateConflict) and "not this cluster's VM" in str(refused)
    assert "02:a5:ff:00:00:01" in str(refused)

    other = "hci2" if host == "hci1" else "hci1"
    fabric.sessions[other].invoke(Cmdlet.of("New-VM", Name="c1-cp-0", NoVHD=True))
    with pytest.raises(StateConflict, match=r"exists on hosts hci1 and hci2"):
        apply([ProvisionVMs(nodes, fabric.sessions, fabric.settings())])


def test_a_vm_presenting_another_host_key_is_refused_not_trusted(fabric: Fabric) -> None:
    (node,) = plan_nodes(fabric, {})[:1]
    impostor = generate_host_key("ed25519")
    wrong = dataclasses.replace(node, host_key_line=impostor.public_line)
    with pytest.raises(HostFailures) as caught:
        apply([ProvisionVMs([wrong], fabric.sessions, fabric.settings())])
    (error,) = caught.value.by_host.values()
    assert isinstance(error, HostKeyMismatch) and impostor.fingerprint in str(error)
