"""WSMan fault codes a real WinRM service answers, and the FaultPlan that injects failures."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

OPERATION_TIMEOUT = 2150858793  # 0x80338029 ERROR_WSMAN_OPERATION_TIMEDOUT
SHELL_NOT_FOUND = 2150858843  # 0x8033805B
ENVELOPE_TOO_LARGE = 2150859025  # 0x80338111 ERROR_WSMAN_QUOTA_MAX_ENVELOPE_SIZE
ACTION_NOT_SUPPORTED = 2150858812  # 0x8033803C
INVALID_REQUEST = 2150858817  # 0x80338041 ERROR_WSMAN_INVALID_SELECTORS / bad request

# code -> (SOAP subcode, message), the texts WinRM sends for the faults the lab answers
KNOWN_FAULTS: dict[int, tuple[str, str]] = {
    OPERATION_TIMEOUT: (
        "w:TimedOut",
        "The WS-Management service cannot complete the operation within the time specified "
        "in OperationTimeout.",
    ),
    SHELL_NOT_FOUND: (
        "w:InvalidSelectors",
        "The request for the Windows Remote Shell with ShellId {detail} failed because the shell "
        "was not found on the server.",
    ),
    ENVELOPE_TOO_LARGE: (
        "w:EncodingLimit",
        "The WS-Management service cannot process the request because the request size exceeded "
        "the configured MaxEnvelopeSize quota.",
    ),
    ACTION_NOT_SUPPORTED: (
        "a:ActionNotSupported",
        "The WS-Management service cannot process the request: the action {detail} is not "
        "supported.",
    ),
    INVALID_REQUEST: ("w:SchemaValidationError", "The SOAP request is invalid: {detail}"),
}

FAULT_KINDS = ("drop", "http401", "wsman_fault")

# The latency every FaultPlan starts with: benchmarks set it before the lab starts, so that the
# servers the lab starts later (a Windows VM's WinRM listener at its boot) delay requests too.
_default_latency = 0.0
_default_lock = threading.Lock()


def set_default_latency(seconds: float) -> None:
    """Latency (s) per WSMan request for every FaultPlan made from now on (0 turns it off)."""
    global _default_latency
    _check_latency(seconds)
    with _default_lock:
        _default_latency = float(seconds)


def default_latency() -> float:
    with _default_lock:
        return _default_latency


def _check_latency(seconds: float) -> None:
    if not isinstance(seconds, int | float) or not 0 <= seconds < float("inf"):
        raise ValueError(f"latency seconds must be a finite number >= 0, got {seconds!r}")


def fault_text(code: int, detail: str = "") -> tuple[str, str]:
    """(subcode, message) for a fault code; unknown codes get a generic internal error."""
    subcode, message = KNOWN_FAULTS.get(
        code, ("w:InternalError", f"The WS-Management service failed with error {code:#x}.")
    )
    return subcode, message.format(detail=detail)


@dataclass(frozen=True)
class InjectedFault:
    """What the server does instead of answering one request."""

    kind: str
    code: int | None = None


class FaultPlan:
    """Failures to inject, changeable from any thread while the server serves."""

    def __init__(self, on_down: Callable[[bool], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._on_down = on_down  # the server closes or reopens its listener
        self._latency = default_latency()
        self._down = False
        self._pending: list[
            tuple[int, InjectedFault, str | None]
        ] = []  # [remaining, fault, action]

    def set_latency(self, seconds: float) -> None:
        _check_latency(seconds)
        with self._lock:
            self._latency = float(seconds)

    def fail_next(
        self, n: int, kind: str, *, code: int | None = None, action: str | None = None
    ) -> None:
        """Make the next n matching requests fail the given way (queued after earlier plans)."""
        if n < 1:
            raise ValueError(f"fail_next n must be >= 1, got {n!r}")
        if kind not in FAULT_KINDS:
            raise ValueError(f"fail_next kind {kind!r} is not one of {', '.join(FAULT_KINDS)}")
        if kind == "wsman_fault" and code is None:
            raise ValueError("fail_next kind 'wsman_fault' needs code=<WSMan fault code>")
        with self._lock:
            self._pending.append((n, InjectedFault(kind, code), action))

    def set_down(self, down: bool) -> None:
        """Host down: connections are refused (listener closed) until set_down(False)."""
        with self._lock:
            self._down = bool(down)
        if self._on_down is not None:
            self._on_down(bool(down))

    @property
    def latency(self) -> float:
        with self._lock:
            return self._latency

    @property
    def down(self) -> bool:
        with self._lock:
            return self._down

    def take(self, action: str | None) -> InjectedFault | None:
        """The fault for this request, if one is planned (counts it down); action None = unknown."""
        with self._lock:
            for index, (remaining, fault, wanted) in enumerate(self._pending):
                if wanted is not None and (action is None or not action.endswith(wanted)):
                    continue
                if remaining <= 1:
                    del self._pending[index]
                else:
                    self._pending[index] = (remaining - 1, fault, wanted)
                return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self._latency = 0.0
