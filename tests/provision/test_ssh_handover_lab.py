"""One SSH connection per Linux node per run: the session that waited for the VM does its work
(needs root).

Every SSHSession made during the run is recorded (provision's wait and ClusterNodes' sessions
alike), and their connections are summed per node address.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from aksnet.cluster.nodes import ClusterNodes
from aksnet.infra.hostkeys import HostKeyPair
from aksnet.infra.provision import ProvisionVMs
from aksnet.plan import apply
from aksnet.remote.ssh import DEFAULT_RETRY, SSHSession
from tests.provision.conftest import Fabric
from tests.provision.test_provision_lab import plan_nodes


@pytest.fixture
def made_sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[SSHSession]]:
    """Every SSHSession constructed while the test runs."""
    made: list[SSHSession] = []
    original = SSHSession.__init__

    def recording_init(self: SSHSession, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        made.append(self)

    monkeypatch.setattr(SSHSession, "__init__", recording_init)
    yield made


def _connections_by_host(sessions: list[SSHSession]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for session in sessions:
        counts[session.host] += session.connections_opened
    return counts


def test_each_linux_node_gets_exactly_one_ssh_connection(
    fabric: Fabric, made_sessions: list[SSHSession]
) -> None:
    keys: dict[str, HostKeyPair] = {}
    vms = plan_nodes(fabric, keys)
    settings = fabric.settings()
    provision = ProvisionVMs(vms, fabric.sessions, settings, hand_over_ssh=True)
    nodes = ClusterNodes(vms, provision, settings, None)
    try:
        apply([provision], per_host=2)
        for node in nodes.linux():  # the node phases' sessions
            shell = node.shell
            assert isinstance(shell, SSHSession)
            shell.run(["true"])  # raises unless it ran
            assert shell.retry is DEFAULT_RETRY  # not the poll's one attempt
    finally:
        nodes.close()
    addresses = {vm.address for vm in vms}
    assert _connections_by_host(made_sessions) == {a: 1 for a in addresses}


def test_without_hand_over_the_wait_closes_its_session(
    fabric: Fabric, made_sessions: list[SSHSession]
) -> None:
    vms = plan_nodes(fabric, {})
    provision = ProvisionVMs(vms, fabric.sessions, fabric.settings())
    apply([provision], per_host=2)
    assert all(provision.take_ssh(vm.name, str(vm.address)) is None for vm in vms)
    assert made_sessions and all(not _is_connected(s) for s in made_sessions)


def _is_connected(session: SSHSession) -> bool:
    transport = session._transport  # what close() ends
    return transport is not None and transport.is_active()
