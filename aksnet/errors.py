"""The errors aksnet raises on purpose, one hierarchy for the library, the CLI and the bridge.

Every class carries what its three consumers need: an exit code for the `aksnet` command, and a
PowerShell ErrorCategory name plus an error id for the bridge, which turns an error into an
ErrorRecord. Messages never contain secrets: values of secret parameters are shown only as
``<N characters>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


def mask(value: str) -> str:
    """How a secret is shown anywhere a person could read it."""
    return f"<{len(value)} characters>"


class AksNetError(Exception):
    """Base of every error aksnet raises on purpose."""

    exit_code = 1
    category = "NotSpecified"  # System.Management.Automation.ErrorCategory member name
    error_id = "AksNetError"

    @property
    def target(self) -> str | None:
        """The object the error is about, for ErrorRecord.TargetObject."""
        return None


class InvalidInput(AksNetError, ValueError):
    """A parameter value that is not allowed; raised before anything is changed."""

    exit_code = 2
    category = "InvalidArgument"
    error_id = "InvalidParameterValue"

    def __init__(self, parameter: str, value: Any, allowed: str, *, secret: bool = False) -> None:
        self.parameter = parameter
        self.value = mask(str(value)) if secret else value
        self.allowed = allowed
        shown = self.value if secret else repr(value)
        super().__init__(
            f"Cannot validate argument on parameter '{parameter}'. "
            f"The value {shown} is not allowed: {allowed}"
        )

    @property
    def target(self) -> str | None:
        return self.parameter


class NotFound(AksNetError, LookupError):
    """The named object does not exist."""

    exit_code = 3
    category = "ObjectNotFound"
    error_id = "ObjectNotFound"

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"{kind} '{name}' was not found.")

    @property
    def target(self) -> str | None:
        return self.name


class StateConflict(AksNetError):
    """The request contradicts what was decided before (exists already, in use, immutable)."""

    exit_code = 4
    category = "ResourceExists"
    error_id = "StateConflict"

    def __init__(self, message: str, *, target: str | None = None) -> None:
        self._target = target
        super().__init__(message)

    @property
    def target(self) -> str | None:
        return self._target


class CapacityExceeded(AksNetError):
    """Not enough of something (addresses in a pool, memory on hosts) for the request."""

    exit_code = 5
    category = "LimitsExceeded"
    error_id = "CapacityExceeded"

    def __init__(self, resource: str, needed: int, free: int, detail: str = "") -> None:
        self.resource = resource
        self.needed = needed
        self.free = free
        more = f" {detail}" if detail else ""
        super().__init__(f"{resource}: {needed} needed, {free} free.{more}")

    @property
    def target(self) -> str | None:
        return self.resource


# Remote errors: classified once, at the transport boundary (DESIGN principle 5).


@dataclass(frozen=True)
class ErrorRecord:
    """One PowerShell error record as the remote host reported it."""

    message: str
    category: str = "NotSpecified"
    fully_qualified_error_id: str = ""
    target: str | None = None
    terminating: bool = False

    def __str__(self) -> str:
        where = f" (target: {self.target})" if self.target else ""
        return f"{self.message} [{self.category}, {self.fully_qualified_error_id}]{where}"


class RemoteError(AksNetError):
    """Something went wrong talking to, or on, a remote host."""

    category = "ConnectionError"
    error_id = "RemoteError"
    retryable = False

    def __init__(self, host: str, message: str) -> None:
        self.host = host
        super().__init__(f"{host}: {message}")

    @property
    def target(self) -> str | None:
        return self.host


class HostUnreachable(RemoteError):
    """No connection could be made (refused, no route, name not resolved, TLS failure)."""

    category = "ConnectionError"
    error_id = "HostUnreachable"
    retryable = True


class AuthenticationFailed(RemoteError):
    """Credentials were refused. Never retried: a retry can lock the account out."""

    category = "AuthenticationError"
    error_id = "AuthenticationFailed"


class HostKeyMismatch(AuthenticationFailed):
    """An SSH host presented a key other than the pinned one."""

    category = "SecurityError"
    error_id = "HostKeyMismatch"

    def __init__(self, host: str, expected: str, presented: str) -> None:
        self.expected = expected
        self.presented = presented
        super().__init__(
            host,
            f"host key mismatch: expected {expected}, host presented {presented}; "
            "refusing to connect",
        )


class OperationTimedOut(RemoteError):
    """The host did not answer within the deadline."""

    category = "OperationTimeout"
    error_id = "OperationTimedOut"
    retryable = True


class ProtocolError(RemoteError):
    """The peer answered something the protocol does not allow (or a WSMan fault)."""

    category = "ProtocolError"
    error_id = "ProtocolError"

    def __init__(self, host: str, message: str, *, code: int | None = None) -> None:
        self.code = code
        super().__init__(host, message)


class RemoteCommandFailed(RemoteError):
    """The command ran and failed: PowerShell error records, or a non-zero exit status."""

    category = "InvalidOperation"
    error_id = "RemoteCommandFailed"

    def __init__(
        self,
        host: str,
        command: str,
        *,
        records: Sequence[ErrorRecord] = (),
        exit_status: int | None = None,
        stdout: str = "",
        stderr: str = "",
    ) -> None:
        self.command = command
        self.records = tuple(records)
        self.exit_status = exit_status
        self.stdout = stdout
        self.stderr = stderr
        if self.records:
            detail = "; ".join(str(r) for r in self.records)
        else:
            tail = stderr.strip().splitlines()[-1:] if stderr.strip() else []
            detail = f"exit status {exit_status}" + (f": {tail[0]}" if tail else "")
        super().__init__(host, f"{command} failed: {detail}")


class HostFailures(AksNetError, ExceptionGroup[Exception]):
    """Per-host failures of one step, kept apart and keyed by host (never one flat string)."""

    category = "NotSpecified"
    error_id = "HostFailures"
    by_host: dict[str, Exception]

    def __new__(cls, message: str, by_host: Mapping[str, Exception]) -> HostFailures:
        self = super().__new__(cls, message, list(by_host.values()))
        self.by_host = dict(by_host)
        return self

    def __init__(self, message: str, by_host: Mapping[str, Exception]) -> None:
        super().__init__(message, list(by_host.values()))

    def __str__(self) -> str:
        lines = [f"{self.message} ({len(self.by_host)} hosts)"]
        lines += [f"  {host}: {err}" for host, err in sorted(self.by_host.items())]
        return "\n".join(lines)
