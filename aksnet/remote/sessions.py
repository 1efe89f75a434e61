"""A per-host session cache: one session per host, created on first use, reused, closed together.

Thread-safe: two threads asking for the same host get the same session, created once (a lock per
host, so connecting to a slow host does not hold up the others).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Generic, Protocol, TypeVar

from aksnet.errors import HostFailures

log = logging.getLogger(__name__)

S = TypeVar("S", bound="_Closable")


class _Closable(Protocol):
    host: str

    def close(self) -> None: ...


class SessionCache(Generic[S]):
    """Sessions by host, made by factory(host) on first use."""

    def __init__(self, factory: Callable[[str], S]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._sessions: dict[str, S] = {}

    def get(self, host: str) -> S:
        """The session for host, created by the factory the first time."""
        with self._lock:
            host_lock = self._host_locks.setdefault(host, threading.Lock())
        with host_lock:
            session = self._sessions.get(host)
            if session is None:
                log.debug("creating a session for %s", host)
                session = self._factory(host)
                self._sessions[host] = session
            return session

    def discard(self, host: str) -> None:
        """Close and forget host's session (it is broken); the next get() makes a new one."""
        with self._lock:
            session = self._sessions.pop(host, None)
        if session is not None:
            session.close()

    def __len__(self) -> int:
        return len(self._sessions)

    def close(self) -> None:
        """Close every session; failures are collected per host and raised together."""
        with self._lock:
            sessions, self._sessions = dict(self._sessions), {}
        failures: dict[str, Exception] = {}
        for host, session in sessions.items():
            try:
                session.close()
            except Exception as error:  # one host's failure must not leave others open
                failures[host] = error
        if failures:
            raise HostFailures("closing sessions failed", failures)

    def __enter__(self) -> SessionCache[S]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
