"""The hosts' PSRP sessions of one remediation run, shared by its clusters.

Why: each cluster used to open its own session (a TLS connection and a runspace pool) to every
host twice, once for the checks and once for create's what-if; over 20 clusters that is 120
runspace pools for 3 hosts, most of the run's own cost. Here a cluster leases one set of
sessions (one per host) for its whole check or repair and gives it back; the next cluster
reuses it. The clusters that run at once hold different sets, so they still reach a host in
parallel (a session's invokes are serialised: it has one runspace). A session whose transport
failed drops its pool (PSRPSession) and reopens on its next use. At the end of the run the
sessions are closed at once, each in its own thread: closing one is a round trip to its host
(WSMan Delete), and 8 sets of 3 closed one after another cost 24 round trips of wall time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from aksnet.cluster.hosts import HostConnections, close_together
from aksnet.remote.psrp import PSRPSession


class KeptSession(PSRPSession):
    """A session its users cannot close (create closes the sessions it opened): only the pool
    releases it."""

    def close(self) -> None:
        """Kept open for the next cluster; HostSessionPool.close ends it."""

    def release(self) -> None:
        super().close()


@dataclass(frozen=True)
class LeasedHosts(HostConnections):
    """The hosts with the leased sessions: open() hands them out instead of new ones."""

    kept: Mapping[str, KeptSession] = field(default_factory=dict, repr=False, compare=False)

    def open(self) -> dict[str, PSRPSession]:
        return dict(self.kept)


class HostSessionPool:
    """Sets of sessions, one per host, lent to one cluster at a time."""

    def __init__(self, hosts: HostConnections) -> None:
        self._hosts = hosts
        self._lock = threading.Lock()
        self._free: list[dict[str, KeptSession]] = []
        self._closed = False

    @contextmanager
    def lease(self) -> Iterator[HostConnections]:
        with self._lock:
            kept = self._free.pop() if self._free else self._new_set()
        try:
            h = self._hosts
            yield LeasedHosts(h.endpoints, h.credential, h.switch_name, kept=kept)
        finally:
            with self._lock:
                closed = self._closed
                if not closed:
                    self._free.append(kept)
            if closed:  # returned after the run ended (a cluster past its deadline)
                _release(kept)

    def close(self) -> None:
        """End the sessions not lent; a set still lent is ended when it comes back."""
        with self._lock:
            self._closed, free, self._free = True, self._free, []
        _release(*free)

    def _new_set(self) -> dict[str, KeptSession]:
        h = self._hosts
        return {name: KeptSession(endpoint, h.credential) for name, endpoint in h.endpoints.items()}


def _release(*sets: Mapping[str, KeptSession]) -> None:
    """Close every session of the sets at once (hosts.close_together) and wait for all."""
    close_together((name, session.release) for kept in sets for name, session in kept.items())
