"""A VM's boot wait holds none of its host's lanes: with one lane per host, the host creates its
next VM while the first one boots (needs root).

Each VM's SSH wait is held until every VM of the run has been created: that can only happen
when the waits run outside the hosts' lanes (before, hci2's second VM waited for its first VM's
wait, which waited for it: the hold ran out and the test failed).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence

import pytest

from aksnet.errors import HostFailures, HostKeyMismatch
from aksnet.infra import provision
from aksnet.infra.hostkeys import generate_host_key
from aksnet.infra.provision import NodeVm, ProvisionSettings, ProvisionVMs
from aksnet.plan import apply
from aksnet.remote.base import Cmdlet, PSValue, Statement
from aksnet.remote.psrp import PSRPSession
from aksnet.remote.ssh import SSHSession
from tests.provision.conftest import Fabric
from tests.provision.test_provision_lab import plan_nodes

DEADLINE = 60.0  # seconds a hold waits; never reached when the waits are outside the lanes


class CreateRecorder:
    """A host session that notes each VM whose New-VM pipeline returned, and sets `all_made`
    once `expected` VMs were made on all hosts together."""

    def __init__(
        self, inner: PSRPSession, made: set[str], expected: int, all_made: threading.Event
    ) -> None:
        self.host, self._inner = inner.host, inner
        self._made, self._expected, self._all_made = made, expected, all_made
        self._lock = threading.Lock()

    def invoke(self, *statements: Statement, input: Sequence[PSValue] = ()) -> list[PSValue]:
        result = self._inner.invoke(*statements, input=input)
        names = [s.get("Name") for s in statements if isinstance(s, Cmdlet) and s.name == "New-VM"]
        with self._lock:
            self._made.update(names)
            if len(self._made) >= self._expected:
                self._all_made.set()
        return result

    def close(self) -> None:
        self._inner.close()


def test_a_host_creates_its_next_vm_while_the_first_one_boots(
    fabric: Fabric, monkeypatch: pytest.MonkeyPatch
) -> None:
    nodes = plan_nodes(fabric, {})
    made: set[str] = set()
    all_made = threading.Event()
    sessions = {
        h: CreateRecorder(s, made, len(nodes), all_made) for h, s in fabric.sessions.items()
    }
    held: list[bool] = []
    real_wait = provision.wait_for_ssh

    def wait_once_all_are_made(
        node: NodeVm, address: str, settings: ProvisionSettings, *, keep: bool = False
    ) -> SSHSession | None:
        held.append(all_made.wait(timeout=DEADLINE))
        return real_wait(node, address, settings, keep=keep)

    monkeypatch.setattr(provision, "wait_for_ssh", wait_once_all_are_made)
    phase = ProvisionVMs(nodes, sessions, fabric.settings(), hand_over_ssh=True)
    try:
        apply([phase], per_host=1)
        assert Counter(phase.placement.values()) == {"hci1": 1, "hci2": 2}
        assert held == [True, True, True]
        assert made == {n.name for n in nodes}
        for node in nodes:  # each wait still hands over the session that answered
            session = phase.take_ssh(node.name, str(node.address))
            assert session is not None
            session.run(["true"])
            session.close()
    finally:
        phase.close()


def test_a_failed_boot_wait_names_its_host_and_vm(fabric: Fabric) -> None:
    (node,) = plan_nodes(fabric, {})[:1]
    impostor = generate_host_key("ed25519")
    wrong = NodeVm(**{**node.__dict__, "host_key_line": impostor.public_line})
    phase = ProvisionVMs([wrong], fabric.sessions, fabric.settings())
    with pytest.raises(HostFailures) as caught:
        apply([phase])
    host = phase.placement[node.name]
    error = caught.value.by_host[host]
    assert isinstance(error, HostKeyMismatch)
    notes = error.__notes__
    assert f"while waiting for VM '{node.name}' (host {host}) to boot" in notes
    assert f"host: {host}" in notes
