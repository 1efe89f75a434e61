"""One two-host lab for the module (in-process, prefix "akb", slots in 198.19.0.0/16) and a fresh
store per test, for clusters created with their load balancer.

The hosts are emulated Hyper-V behind real PSRP; the Linux VMs they start are namespaces with a
real sshd, the lab's emulated kubeadm/kubectl (kubeadm init starts the lab's small API server)
and its emulated systemctl, which runs the machine's real HAProxy and keepalived on a
load-balancer VM. Root only: skipped otherwise. Everything is torn down when the module ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet.cluster.hosts import HostConnections, close_all
from aksnet.cluster.remove import remove_cluster
from aksnet.lab.fabric import Lab, LabSpec
from aksnet.lab.linux import sweep
from aksnet.remote.psrp import PSRPSession
from aksnet.state.store import Store
from tests.cluster.conftest import Fabric
from tests.linuxlab.conftest import _needs_root
from tests.provision.conftest import lab_network, node_image

SLOTS = range(256, 512)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    _needs_root()
    lab_dir = tmp_path_factory.mktemp("lbclusterlab")
    the_lab = Lab(lab_dir, LabSpec(hosts=2), prefix="akb", slots=SLOTS)
    sessions: dict[str, PSRPSession] = {}
    try:
        the_lab.start()
        sessions = HostConnections.from_lab(lab_dir).open()
        for session in sessions.values():
            node_image(session)
        yield the_lab
    finally:
        close_all(sessions)
        the_lab.stop()
        sweep(lab_dir)


@pytest.fixture
def fabric(lab: Lab, tmp_path: Path) -> Iterator[Fabric]:
    store = Store(tmp_path / "home" / "aksnet.db")
    try:
        store.add_network(lab_network(lab))
        yield Fabric(lab, HostConnections.from_lab(lab.lab_dir), store, tmp_path)
    finally:
        try:  # a test that failed halfway must not leave its VMs to the next test
            for spec in store.list_clusters():
                remove_cluster(store, spec.name, HostConnections.from_lab(lab.lab_dir))
        finally:
            store.close()
