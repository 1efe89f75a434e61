"""Counters of what the lab WSMan server answered, for tests that assert round trips."""

from __future__ import annotations

import threading


class ServerStats:
    """Thread-safe counters: HTTP requests, round trips (pipelines + WinRS commands), actions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._round_trips = 0
        self._by_action: dict[str, int] = {}
        self._encrypted = 0
        self._faults: dict[int, int] = {}

    def count_request(self) -> None:
        with self._lock:
            self._requests += 1

    def count_action(self, verb: str) -> None:
        with self._lock:
            self._by_action[verb] = self._by_action.get(verb, 0) + 1

    def count_fault(self, code: int) -> None:
        with self._lock:
            self._faults[code] = self._faults.get(code, 0) + 1

    def count_encrypted(self) -> None:
        with self._lock:
            self._encrypted += 1

    def count_round_trip(self) -> None:
        with self._lock:
            self._round_trips += 1

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests

    @property
    def round_trips(self) -> int:
        with self._lock:
            return self._round_trips

    @property
    def encrypted_requests(self) -> int:
        """Requests that arrived with WinRM message encryption (an addition to the agreed API)."""
        with self._lock:
            return self._encrypted

    @property
    def faults(self) -> dict[int, int]:
        """WSMan faults answered, by code (an addition to the agreed API)."""
        with self._lock:
            return dict(self._faults)

    @property
    def by_action(self) -> dict[str, int]:
        with self._lock:
            return dict(self._by_action)

    def reset(self) -> None:
        with self._lock:
            self._requests = 0
            self._round_trips = 0
            self._by_action = {}
            self._encrypted = 0
            self._faults = {}

    def __repr__(self) -> str:
        return (
            f"ServerStats(requests={self.requests}, round_trips={self.round_trips}, "
            f"by_action={self.by_action})"
        )
