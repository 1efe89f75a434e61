"""Issue 7's acceptance on the lab (needs root): a flannel cluster with a Windows worker; each
drift the lab can express injected; Test finds each and nothing else; Repair -WhatIf changes
nothing; Repair fixes each and leaves the foreign objects alone; Test is then clean; two Repairs
at once: one acts, the other is refused.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import closing
from dataclasses import replace
from typing import Any

import kubernetes

from aksnet import cli, remediation
from aksnet.cluster.hosts import HostConnections
from aksnet.infra.linuxconf import NFT_TABLE, SYSCTL_FILE
from aksnet.infra.windowsnode import HELPER_PATH, network_document
from aksnet.loadbalancer.haproxy import CONFIG_PATH as HAPROXY_CONFIG
from aksnet.remediation import Report, repair_cluster_network
from aksnet.remediation.report import DRIFT, ERROR, FOREIGN, NOT_CHECKED, OK
from aksnet.remote.base import Cmdlet, Pipeline
from aksnet.state.macs import macs_of
from aksnet.state.store import Store
from tests.remediation.conftest import CP, LB, LINUX, NAME, OPTIONS, WINDOWS, Cluster

DEADLINE = 240.0


def check(cluster: Cluster) -> Report:
    return remediation.test_cluster_network(
        cluster.store, cluster.hosts, NAME, deadline=DEADLINE, options=OPTIONS
    )


def drifts(report: Report) -> set[tuple[str, str]]:
    """(node, what) of each drift row: the check, or for create's rows the action's first word."""
    return {
        (r.node, r.desired.split()[0] if r.check.startswith(("Set up", "Configure")) else r.check)
        for r in report.having(DRIFT)
    }


def test_a_created_cluster_is_clean(cluster: Cluster) -> None:
    report = check(cluster)
    assert report.having(DRIFT) == [] and report.having(ERROR) == [], report.rows
    assert report.exit_code == 0
    ok = {(r.node, r.check) for r in report.having(OK)}
    for vm in (CP, LINUX, WINDOWS):
        assert (vm, "VM placement") in ok and (vm, "VM adapter switch") in ok
        assert (vm, "VM adapter VLAN") in ok
    assert (LINUX, "Set up Linux nodes") in ok and (WINDOWS, "Set up Windows nodes") in ok
    assert (CP, "Apply the CNI") in ok and (LB, "Configure the load balancer") in ok
    assert (LB, "VM placement") in ok
    (api_vip,) = [a.address for a in cluster.store.allocations() if a.owner_kind == "apiserver"]
    assert (LB, f"VIP {api_vip}") in ok  # keepalived on the LB VM holds it


def with_host(cluster: Cluster, name: str, address: str, port: int) -> HostConnections:
    """The lab's hosts and one more at address:port."""
    endpoint = replace(next(iter(cluster.hosts.endpoints.values())), host=address, port=port)
    endpoints = {**cluster.hosts.endpoints, name: endpoint}
    return replace(cluster.hosts, endpoints=endpoints)


def test_an_unreachable_host_is_an_error_row_and_the_others_are_checked(cluster: Cluster) -> None:
    with socket.socket() as probe:  # a port nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hosts = with_host(cluster, "hci9", "127.0.0.1", port)
    report = remediation.test_cluster_network(
        cluster.store, hosts, NAME, deadline=DEADLINE, options=OPTIONS
    )
    errors = {(r.node, r.check) for r in report.having(ERROR)}
    assert ("hci9", "host reachable") in errors
    assert {node for node, _check in errors} == {"hci9"}  # create's checks name it too
    ok = {(r.node, r.check) for r in report.having(OK)}
    assert {(vm, "VM adapter switch") for vm in (CP, LINUX, WINDOWS, LB)} <= ok
    assert report.exit_code == 2


def test_a_host_that_never_answers_is_reported_at_the_deadline(cluster: Cluster) -> None:
    accepted: list[socket.socket] = []
    with socket.socket() as silent:  # accepts connections and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(0.2)
        stop = threading.Event()

        def accept() -> None:
            while not stop.is_set():
                try:
                    accepted.append(silent.accept()[0])
                except TimeoutError:
                    continue

        acceptor = threading.Thread(target=accept)
        acceptor.start()
        try:
            hosts = with_host(cluster, "hci9", "127.0.0.1", silent.getsockname()[1])
            report = remediation.test_cluster_network(
                cluster.store, hosts, NAME, deadline=3.0, options=OPTIONS
            )
        finally:
            stop.set()
            acceptor.join()
            for connection in accepted:
                connection.close()
    (row,) = report.rows
    assert (row.check, row.status) == ("deadline", ERROR)
    assert "3 s" in row.observed and report.exit_code == 2
    wait_for_no_remediation_threads()


def wait_for_no_remediation_threads(timeout: float = 120.0) -> None:
    """The abandoned check ends once its host's connection is closed: wait for it."""
    end = time.monotonic() + timeout
    while any(t.name.startswith("aksnet-remediation-") for t in threading.enumerate()):
        assert time.monotonic() < end, "a remediation thread is still running"
        time.sleep(0.2)


def snapshot(cluster: Cluster) -> tuple[Any, ...]:
    """The store's decisions and every VM's state and adapters on the hosts."""
    sessions = cluster.hosts.open()
    try:
        on_hosts = {
            host: sorted(
                str(o)
                for o in s.invoke(
                    Cmdlet.of("Get-VM"),
                    Cmdlet.of("Get-VMNetworkAdapter", VMName="*"),
                    Cmdlet.of("Get-VMNetworkAdapterVlan", VMName="*"),
                )
            )
            for host, s in sessions.items()
        }
    finally:
        for session in sessions.values():
            session.close()
    store = cluster.store
    return on_hosts, store.allocations(), macs_of(store), hns_networks(cluster)


def hns_networks(cluster: Cluster) -> list[str]:
    with closing(cluster.windows()) as session:
        return sorted(str(n["Name"]) for n in session.invoke(Cmdlet.of("Get-HnsNetwork")))


def stray_vip(cluster: Cluster) -> str:
    """An address of the VIP pool no cluster was given (lab_network: .200 to .210)."""
    return str(cluster.lab.network.subnet.network_address + 209)


def inject_node_and_store_drift(cluster: Cluster) -> None:
    """The HNS network deleted, a firewall table flushed, a sysctl file deleted, a VLAN changed,
    haproxy.cfg edited, a VIP served that the store does not know, an orphan VIP allocation
    left, and a VM and an HNS network aksnet did not create."""
    with closing(cluster.windows()) as session:
        (flannel,) = [
            n["ID"]
            for n in session.invoke(Cmdlet.of("Get-HnsNetwork"))
            if n["Name"] == "flannel.4096"
        ]
        session.invoke(
            Pipeline.of(Cmdlet.of("Get-HnsNetwork", Id=flannel), Cmdlet.of("Remove-HnsNetwork"))
        )
        document = network_document("intruder", "198.19.250.0/30", "198.19.250.1", 7777)
        session.invoke(
            Cmdlet.of("Import-Module", Name=[HELPER_PATH]),
            Cmdlet.of("New-HnsNetwork", JsonString=document),
        )
    with cluster.ssh(LINUX) as ssh:
        ssh.run(["sudo", "-n", "nft", "flush", "table", *NFT_TABLE])
    with cluster.ssh(CP) as ssh:
        ssh.run(["sudo", "-n", "rm", "-f", SYSCTL_FILE])
    with cluster.ssh(LB) as ssh:
        edit = f"echo '# edited by hand' >> {HAPROXY_CONFIG}"
        ssh.run(["sudo", "-n", "sh", "-c", edit])
        ssh.run(["sudo", "-n", "ip", "address", "add", f"{stray_vip(cluster)}/32", "dev", "eth0"])
    cluster.on_host(CP, Cmdlet.of("Set-VMNetworkAdapterVlan", VMName=CP, Access=True, VlanId=99))
    cluster.on_host(
        CP, Cmdlet.of("New-VM", Name=f"{NAME}-intruder", MemoryStartupBytes=2**30, NoVHD=True)
    )
    vnet = cluster.store.list_networks()[0].name
    cluster.store.allocate(vnet, "vip", owner_kind="vm", owner=f"{NAME}-gone-0", cluster=NAME)


def test_each_drift_found_what_if_changes_nothing_repair_fixes_it(cluster: Cluster) -> None:
    inject_node_and_store_drift(cluster)
    vnet = cluster.store.list_networks()[0].name
    orphan = [a for a in cluster.store.allocations(vnet) if a.owner == f"{NAME}-gone-0"]

    report = check(cluster)
    assert report.having(ERROR) == [], report.rows
    assert drifts(report) == {
        (WINDOWS, "New-HnsNetwork"),
        (WINDOWS, "Restart-Service"),
        (LINUX, "load"),  # the nftables table
        (CP, "write"),  # the sysctl file
        (CP, "VM adapter VLAN"),
        (LB, "write"),  # haproxy.cfg
        (LB, f"VIP {stray_vip(cluster)}"),  # served, unknown to the store
        (f"{NAME}-gone-0", f"vip address {orphan[0].address}"),
    }, report.rows
    assert {(r.node, r.check, r.observed) for r in report.having(FOREIGN)} == {
        (
            f"{NAME}-intruder",
            "foreign VM",
            f"Off on {cluster.host_of_name(f'{NAME}-intruder')}, not recorded by aksnet",
        ),
        (WINDOWS, "foreign HNS network", "intruder"),
    }
    assert report.exit_code == 1

    before = snapshot(cluster)
    what_if = repair_cluster_network(
        cluster.store, cluster.hosts, NAME, what_if=True, deadline=DEADLINE, options=OPTIONS
    )
    assert what_if.what_if and len(what_if.actions) == len(report.having(DRIFT)) == 8
    assert snapshot(cluster) == before

    repaired = repair_cluster_network(
        cluster.store, cluster.hosts, NAME, deadline=DEADLINE, options=OPTIONS
    )
    assert repaired.refused == [] and repaired.having(ERROR) == [], repaired.rows
    titles = " | ".join(t for _h, t in repaired.actions)
    for done in (
        "New-HnsNetwork flannel.4096",
        "nftables",
        SYSCTL_FILE,
        "Set-VMNetworkAdapterVlan",
        HAPROXY_CONFIG,
        f"ip address del {stray_vip(cluster)}/32",
        "release orphan",
    ):
        assert done in titles

    after = check(cluster)
    assert after.having(DRIFT) == [] and after.having(ERROR) == [], after.rows
    assert after.exit_code == 0
    # The foreign objects are still there, still reported, untouched.
    assert len(after.having(FOREIGN)) == 2
    assert "intruder" in hns_networks(cluster)
    assert cluster.on_host(f"{NAME}-intruder", Cmdlet.of("Get-VM", Name=f"{NAME}-intruder"))
    assert [a for a in cluster.store.allocations(vnet) if a.owner == f"{NAME}-gone-0"] == []


def test_a_stopped_vm_and_a_disconnected_adapter_two_repairs_at_once(cluster: Cluster) -> None:
    cluster.on_host(LINUX, Cmdlet.of("Stop-VM", Name=LINUX, TurnOff=True))
    cluster.on_host(WINDOWS, Cmdlet.of("Disconnect-VMNetworkAdapter", VMName=WINDOWS))

    report = check(cluster)
    assert report.having(ERROR) == [], report.rows
    assert cli_test(cluster) == 1  # `aksnet remediation test`: drift
    found = {(r.node, r.check, r.desired.split()[0]) for r in report.having(DRIFT)}
    assert found == {
        (LINUX, "Provision VMs", "Start-VM"),
        (WINDOWS, "VM adapter switch", "LabSwitch"),
    }, report.rows
    # Create's node checks cannot run on a VM it must first start: said so, not hidden.
    assert {r.node for r in report.having(NOT_CHECKED)} >= {LINUX}

    reports: list[Report] = []
    start = threading.Barrier(2)

    def repair() -> None:
        with Store(cluster.store.path) as store:  # as two scheduled runs would: their own store
            start.wait()
            reports.append(
                repair_cluster_network(
                    store, cluster.hosts, NAME, deadline=DEADLINE, options=OPTIONS
                )
            )

    threads = [threading.Thread(target=repair) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [r for r in reports if r.refused]
    acted = [r for r in reports if not r.refused]
    assert len(refused) == 1 and len(acted) == 1, [r.rows for r in reports]
    assert refused[0].actions == [] and refused[0].exit_code == 2
    titles = " | ".join(t for _h, t in acted[0].actions)
    assert f"Start-VM {LINUX}" in titles and f"Connect-VMNetworkAdapter {WINDOWS}" in titles

    after = check(cluster)
    assert after.having(DRIFT) == [] and after.having(ERROR) == [], after.rows
    assert after.having(NOT_CHECKED) == []
    assert cli_test(cluster) == 0


def cli_test(cluster: Cluster) -> int:
    argv = ["remediation", "test", "--name", NAME, "--store", str(cluster.store.path)]
    return cli.main([*argv, "--lab-dir", str(cluster.lab.lab_dir), "--json", "--no-progress"])


def test_a_cluster_with_a_service_keeps_its_frontend_through_a_repair(cluster: Cluster) -> None:
    """The load balancer such a cluster requires is the sync's (API and Services' frontends)."""
    from aksnet import api
    from aksnet.loadbalancer.apply import connect

    connections = connect(cluster.store, NAME)
    try:
        core = kubernetes.client.CoreV1Api(connections.api_client)
        core.create_namespaced_service("default", LB_SERVICE)
    finally:
        connections.close()
    api.sync_load_balancer(cluster.store, NAME, cluster.hosts)
    (vip,) = [str(a.address) for a in cluster.store.allocations() if a.owner_kind == "service"]
    assert vip in lb_config(cluster)

    clean = check(cluster)
    assert clean.exit_code == 0, [r for r in clean.rows if r.status != OK]
    assert (LB, f"VIP {vip}", OK) in {(r.node, r.check, r.status) for r in clean.rows}

    with cluster.ssh(LB) as ssh:
        ssh.run(["sudo", "-n", "sh", "-c", f"echo '# edited by hand' >> {HAPROXY_CONFIG}"])
    report = check(cluster)
    assert drifts(report) == {(LB, "write")}, report.rows

    repaired = repair_cluster_network(
        cluster.store, cluster.hosts, NAME, deadline=DEADLINE, options=OPTIONS
    )
    assert repaired.having(ERROR) == [], repaired.rows
    # Only the sync wrote it: create (API frontend alone) did not run, so no moment without
    # the Service's frontend.
    writes = [t for _h, t in repaired.actions if t.startswith(f"write {HAPROXY_CONFIG}")]
    assert len(writes) == 1, repaired.actions
    assert vip in lb_config(cluster) and "edited by hand" not in lb_config(cluster)
    assert check(cluster).exit_code == 0


LB_SERVICE: Any = {  # the client takes a V1Service or its dict
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web"},
    "spec": {
        "type": "LoadBalancer",
        "selector": {"app": "web"},
        "ports": [{"name": "p80", "port": 80, "protocol": "TCP"}],
    },
}


def lb_config(cluster: Cluster) -> str:
    with cluster.ssh(LB) as ssh:
        return ssh.run(["sudo", "-n", "cat", HAPROXY_CONFIG]).text
