"""PSRP round trips of "Provision VMs", counted by the lab servers (needs root): per host, one
host fact (its failover cluster included) and one read of its new VMs' files; per new VM, two
(stage its seed ISO, create it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet.infra.provision import ProvisionVMs
from aksnet.infra.vms import HostFact
from aksnet.lab.fabric import Lab, LabSpec
from aksnet.lab.linux import sweep
from aksnet.plan import apply
from aksnet.remote.psrp import PSRPSession
from tests.lab import vms
from tests.linuxlab.conftest import _needs_root
from tests.provision.conftest import SLOTS, Fabric
from tests.provision.test_provision_lab import plan_nodes


def test_two_round_trips_per_host_and_two_per_new_vm(fabric: Fabric) -> None:
    phase = ProvisionVMs(plan_nodes(fabric, {}), fabric.sessions, fabric.settings())
    for server in fabric.lab.servers.values():
        server.stats.reset()
    apply([phase], per_host=2)
    per_host = Counter(phase.placement.values())
    assert fabric.round_trips() == {h: 2 + 2 * n for h, n in per_host.items()}


def test_the_host_fact_names_the_failover_cluster_in_its_one_round_trip(fabric: Fabric) -> None:
    fabric.lab.servers["hci1"].stats.reset()
    facts = HostFact(fabric.sessions).read("hci1")
    assert facts.cluster == "hcicluster"
    assert fabric.round_trips()["hci1"] == 1


@pytest.fixture
def unclustered(tmp_path: Path) -> Iterator[tuple[Lab, PSRPSession]]:
    _needs_root()
    lab_dir = tmp_path / "lab"
    lab = Lab(lab_dir, LabSpec(hosts=1, failover_cluster=False), prefix="akr", slots=SLOTS)
    session: PSRPSession | None = None
    try:
        lab.start()
        session = vms.psrp_session(lab.endpoints()["hci1"], *lab.credentials())
        yield lab, session
    finally:
        if session is not None:
            session.close()
        lab.stop()
        sweep(lab_dir)


def test_a_host_in_no_cluster_reads_as_none_in_a_second_round_trip(
    unclustered: tuple[Lab, PSRPSession],
) -> None:
    lab, session = unclustered
    lab.servers["hci1"].stats.reset()
    facts = HostFact({"hci1": session}).read("hci1")
    assert facts.cluster is None and facts.capacity.host == "hci1"
    assert lab.servers["hci1"].stats.round_trips == 2
