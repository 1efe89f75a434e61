"""Remediation of a Calico cluster with a Windows worker (needs root): its HNS network
("Calico") deleted, a Linux node's firewall table flushed (Calico's rules include TCP 5473) and
the Windows VM's adapter disconnected; Test finds each and nothing else; Repair fixes each;
Test is then clean."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing

import pytest

from aksnet import remediation
from aksnet.infra.linuxconf import NFT_TABLE
from aksnet.remediation.report import DRIFT, ERROR
from aksnet.remote.base import Cmdlet, Pipeline
from tests.remediation.conftest import OPTIONS, Cluster, lab_cluster

NAME = "rc"
DEADLINE = 240.0


@pytest.fixture(scope="module")
def calico(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    yield from lab_cluster(tmp_path_factory, NAME, "calico")


def check(cluster: Cluster) -> remediation.Report:
    return remediation.test_cluster_network(
        cluster.store, cluster.hosts, NAME, deadline=DEADLINE, options=OPTIONS
    )


def test_calico_drift_found_and_repaired(calico: Cluster) -> None:
    clean = check(calico)
    assert clean.exit_code == 0, clean.rows
    windows, linux = calico.vm("windows"), calico.vm("linux")
    with closing(calico.windows()) as session:
        networks = session.invoke(Cmdlet.of("Get-HnsNetwork"))
        (network,) = [n["ID"] for n in networks if n["Name"] == "Calico"]
        session.invoke(
            Pipeline.of(Cmdlet.of("Get-HnsNetwork", Id=network), Cmdlet.of("Remove-HnsNetwork"))
        )
    with calico.ssh(linux) as ssh:
        ssh.run(["sudo", "-n", "nft", "flush", "table", *NFT_TABLE])
    calico.on_host(windows, Cmdlet.of("Disconnect-VMNetworkAdapter", VMName=windows))

    report = check(calico)
    assert report.having(ERROR) == [], report.rows
    found = {(r.node, r.desired.split()[0]) for r in report.having(DRIFT)}
    assert found == {
        (windows, "New-HnsNetwork"),
        (windows, "Restart-Service"),
        (linux, "load"),
        (windows, "LabSwitch"),
    }, report.rows

    repaired = remediation.repair_cluster_network(
        calico.store, calico.hosts, NAME, deadline=DEADLINE, options=OPTIONS
    )
    assert repaired.having(ERROR) == [] and repaired.refused == [], repaired.rows
    titles = " | ".join(t for _h, t in repaired.actions)
    assert "New-HnsNetwork Calico" in titles and f"Connect-VMNetworkAdapter {windows}" in titles

    after = check(calico)
    assert after.exit_code == 0, after.rows
