"""One two-host lab for the package (in-process, prefix akx, slots 256-511), a fresh store per
test, and what a test needs to look at Windows nodes: a PSRP session pinned the way aksnet pins
it (the node's certificate from the cluster's keys, NTLM, the generated password).

The hosts are emulated Hyper-V behind real PSRP; a Linux VM they start is a namespace with a real
sshd and emulated kubeadm/kubectl; a Windows VM is a namespace with an emulated Windows node
served over HTTPS on port 5986 (aksnet.lab). Root only: skipped otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet.cluster.hosts import HostConnections
from aksnet.cluster.keys import ClusterKeys
from aksnet.cluster.remove import remove_cluster
from aksnet.infra.windowsseed import WINRM_PORT
from aksnet.lab.fabric import Lab, LabSpec
from aksnet.lab.linux import sweep
from aksnet.remote.base import Credential, Endpoint
from aksnet.remote.psrp import PSRPSession
from aksnet.state.store import Store
from tests.cluster.conftest import Fabric
from tests.linuxlab.conftest import _needs_root
from tests.provision.conftest import lab_network

SLOTS = range(256, 512)
ADMIN_USER = "clouduser"


@pytest.fixture(scope="package")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    _needs_root()
    lab_dir = tmp_path_factory.mktemp("windowscluster")
    the_lab = Lab(lab_dir, LabSpec(hosts=2), prefix="akx", slots=SLOTS)
    try:
        the_lab.start()  # it writes the Linux and Windows stand-in images on each host
        yield the_lab
    finally:
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


def windows_session(fabric: Fabric, cluster: str, vm: str, address: str) -> PSRPSession:
    """A session to the Windows node trusting only the certificate aksnet generated for it."""
    keys = ClusterKeys.beside(fabric.store.path, cluster)
    endpoint = Endpoint(
        address,
        port=WINRM_PORT,
        ssl=True,
        auth="ntlm",
        cert_validation=str(keys.winrm_certificate_path(vm)),
    )
    return PSRPSession(endpoint, Credential(ADMIN_USER, keys.windows_password()))
