"""Facts: read-only typed queries of a host, and the forecast a dry run predicts them with.

A fact answers one question about one host (is this VM there, what does this file hold) with a
typed value, or None when the thing is absent. Facts are never cached: the runner reads them
again before every decision, because pyinfra v2 showed that planning from facts read up front
breaks as soon as one step depends on another's effect. In a dry run nothing changes on the host,
so each recorded action's `simulate` writes its predicted effect into a Forecast, and reading a
fact returns the forecast value where there is one.
"""

from __future__ import annotations

import threading
from typing import Generic, Protocol, TypeVar, cast

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Fact(Protocol[T_co]):
    """A read-only query. `key` identifies the question (same key, same answer) per host."""

    @property
    def key(self) -> str: ...

    def read(self, host: str) -> T_co | None:
        """Ask the host; None when the thing asked about is absent."""
        ...


class _Predicted(Generic[T]):
    """A forecast value; a wrapper so that a predicted None (absent) differs from no forecast."""

    __slots__ = ("value",)

    def __init__(self, value: T | None) -> None:
        self.value = value


class Forecast:
    """Predicted fact values per host, filled by the simulate callables of a dry run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, str], _Predicted[object]] = {}

    def set(self, host: str, fact: Fact[T], value: T | None) -> None:
        """Predict that `fact` on `host` will read `value` (None: absent) once the action ran."""
        with self._lock:
            self._values[(host, fact.key)] = _Predicted(value)

    def lookup(self, host: str, fact: Fact[T]) -> tuple[bool, T | None]:
        """(True, value) when a value was predicted, else (False, None)."""
        with self._lock:
            found = self._values.get((host, fact.key))
        if found is None:
            return False, None
        # The value was stored through set() with a fact of the same key, hence of type T.
        return True, cast("T | None", found.value)

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)
