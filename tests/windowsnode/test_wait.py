"""Waiting for the plugin's network: polling with a deadline, a clear error when it never comes."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from aksnet.errors import HostFailures, OperationTimedOut
from aksnet.infra.windowsnode import WindowsNodeSetup, WindowsNodeSpec
from aksnet.lab.hyperv.hns import HnsNetwork
from aksnet.network.plugins import FLANNEL
from aksnet.plan import apply
from aksnet.remote.base import Cmdlet, PowerShellSession, PSValue, Statement
from tests.windowsnode.conftest import LabWindowsNode


class NetworkSwallowingSession:
    """Forwards to a real session but drops New-HnsNetwork for one name: the network never
    appears, as when flanneld fails to create it."""

    def __init__(self, inner: PowerShellSession, swallowed: str) -> None:
        self.inner = inner
        self.host = inner.host
        self.swallowed = swallowed

    def invoke(self, *statements: Statement, input: Sequence[PSValue] = ()) -> list[PSValue]:
        kept = [s for s in statements if not self._swallows(s)]
        return self.inner.invoke(*kept, input=input) if kept else []

    def _swallows(self, statement: Statement) -> bool:
        return (
            isinstance(statement, Cmdlet)
            and statement.name == "New-HnsNetwork"
            and f'"Name": "{self.swallowed}"' in str(statement.get("JsonString"))
        )

    def close(self) -> None:
        self.inner.close()


def test_a_network_that_never_appears_times_out_naming_node_and_network(
    win_node: LabWindowsNode,
) -> None:
    session = NetworkSwallowingSession(win_node.session, "flannel.4096")
    node = WindowsNodeSpec("win1", session, "10.244.3.0/24", "10.244.0.0/16")
    setup = WindowsNodeSetup(FLANNEL, [node], network_timeout=0.3, poll_interval=0.05)

    with pytest.raises(HostFailures) as raised:
        apply([setup])

    error = raised.value.by_host["win1"]
    assert isinstance(error, OperationTimedOut)
    assert "HNS network flannel.4096 did not appear" in str(error)
    assert [n.name for n in win_node.node.networks] == ["External"]


def _network_made_by_the_service(lab: LabWindowsNode) -> None:
    """What flanneld does on a real node, done by hand: the lab's emulated flanneld does not."""
    lab.node.networks.append(
        HnsNetwork(
            "flannel.4096",
            "Overlay",
            [
                {
                    "AddressPrefix": "10.244.3.0/24",
                    "GatewayAddress": "10.244.3.1",
                    "Policies": [{"Type": "VSID", "VSID": 4096}],
                }
            ],
        )
    )


def test_without_creating_it_aksnet_starts_the_service_and_waits(
    win_node: LabWindowsNode,
) -> None:
    node = WindowsNodeSpec("win1", win_node.session, "10.244.3.0/24", "10.244.0.0/16")
    setup = WindowsNodeSetup(
        FLANNEL, [node], network_timeout=0.3, poll_interval=0.05, create_pod_network=False
    )

    with pytest.raises(HostFailures) as raised:
        apply([setup])  # the emulated flanneld runs but creates no network
    assert isinstance(raised.value.by_host["win1"], OperationTimedOut)
    assert win_node.node.services["flanneld"].status == "Running"

    _network_made_by_the_service(win_node)
    result = apply([setup])

    titles = [r.title for r in result.changes]
    assert not any("New-HnsNetwork flannel.4096" in t for t in titles)
    assert any(t.startswith("Write C:\\ProgramData\\AksNet\\kube-proxy.conf") for t in titles)
    assert apply([setup]).changes == []
