"""VMs on different hosts are created at the same time; one host never exceeds its limit."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence

from aksnet.infra.provision import ProvisionVMs
from aksnet.plan import apply
from aksnet.remote.base import Cmdlet, PSValue, Statement
from aksnet.remote.psrp import PSRPSession
from tests.provision.conftest import Fabric
from tests.provision.test_provision_lab import plan_nodes


class MeetingSession:
    """Counts create steps in flight per host; the first create step of every host waits for
    the others at a barrier, which breaks (fails the run) unless they run at the same time."""

    def __init__(
        self,
        name: str,
        inner: PSRPSession,
        meeting: threading.Barrier,
        flights: Counter[str],
        peaks: Counter[str],
        lock: threading.Lock,
    ) -> None:
        self.host, self._name, self._inner = inner.host, name, inner
        self._meeting, self._flights, self._peaks, self._lock = meeting, flights, peaks, lock
        self._met = False

    def invoke(self, *statements: Statement, input: Sequence[PSValue] = ()) -> list[PSValue]:
        if not any(isinstance(s, Cmdlet) and s.name == "New-VM" for s in statements):
            return self._inner.invoke(*statements, input=input)
        with self._lock:
            self._flights[self._name] += 1
            self._peaks[self._name] = max(self._peaks[self._name], self._flights[self._name])
        try:
            if not self._met:
                self._met = True
                self._meeting.wait(timeout=30)
            return self._inner.invoke(*statements, input=input)
        finally:
            with self._lock:
                self._flights[self._name] -= 1

    def close(self) -> None:
        self._inner.close()


def test_hosts_work_in_parallel_within_the_per_host_limit(fabric: Fabric) -> None:
    nodes = plan_nodes(fabric, {})
    meeting = threading.Barrier(2)
    flights, peaks, lock = Counter[str](), Counter[str](), threading.Lock()
    sessions = {h: MeetingSession(h, s, meeting, flights, peaks, lock)
                for h, s in fabric.sessions.items()}  # fmt: skip
    phase = ProvisionVMs(nodes, sessions, fabric.settings())
    result = apply([phase], per_host=1)
    assert not meeting.broken  # both hosts were inside a create step at once
    assert Counter(phase.placement.values()) == {"hci1": 1, "hci2": 2}
    assert peaks == {"hci1": 1, "hci2": 1}  # hci2's two VMs one after the other
    assert len([r for r in result.changes if r.title.startswith("New-VM")]) == 3
