"""The transport contract: what every PowerShell session and every shell session offers.

A PowerShell command is data (a cmdlet name and its parameters), never script text: over PSRP it
is sent with add_cmdlet/add_parameter, over WinRM one renderer turns it into a fixed script whose
values travel as an encoded document. A shell command is an argv list; the SSH transport quotes it
once, in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

# What a PowerShell command returns, made plain: objects become dicts of their properties.
PSValue = Any


@dataclass(frozen=True)
class Cmdlet:
    """One typed cmdlet call. A switch parameter is given the value True."""

    name: str
    parameters: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, name: str, params: Mapping[str, Any] | None = None, /, **kw: Any) -> Cmdlet:
        merged = {**(params or {}), **kw}
        return cls(name, tuple((k, v) for k, v in merged.items() if v is not None))

    def get(self, parameter: str, default: Any = None) -> Any:
        for key, value in self.parameters:
            if key.lower() == parameter.lower():
                return value
        return default


@dataclass(frozen=True)
class Pipeline:
    """Cmdlets piped into each other: `Get-VM -Name x | Start-VM`."""

    commands: tuple[Cmdlet, ...]

    @classmethod
    def of(cls, *commands: Cmdlet) -> Pipeline:
        return cls(tuple(commands))


# A step sends several statements in one round trip; a bare Cmdlet is a one-command pipeline.
Statement = Cmdlet | Pipeline


def as_pipeline(statement: Statement) -> Pipeline:
    return statement if isinstance(statement, Pipeline) else Pipeline((statement,))


@runtime_checkable
class PowerShellSession(Protocol):
    """A reusable PowerShell session on one host (PSRP runspace pool or WinRM shell)."""

    host: str

    def invoke(self, *statements: Statement, input: Sequence[PSValue] = ()) -> list[PSValue]:
        """Run the statements in one round trip and return their output, in order.

        Raises RemoteCommandFailed when any statement reports an error record, terminating or
        not; the transport errors of aksnet.errors for everything else.
        """
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Completed:
    """A finished shell command."""

    argv: tuple[str, ...]
    exit_status: int
    stdout: bytes = b""
    stderr: bytes = b""

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")


@runtime_checkable
class ShellSession(Protocol):
    """A reusable shell connection to one host (SSH)."""

    host: str

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> Completed:
        """Run argv (quoted by the transport, never joined by the caller) and wait for it.

        With check=True a non-zero exit status raises RemoteCommandFailed.
        """
        ...

    def put(self, data: bytes, remote_path: str, *, mode: int = 0o644) -> None:
        """Write a file atomically (temporary file, checksum verified, then renamed)."""
        ...

    def get(self, remote_path: str) -> bytes:
        """Read a file, verifying its checksum against the host's."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach a Windows host over WSMan (PSRP or WinRM)."""

    host: str
    port: int | None = None  # None: 5986 with TLS, 5985 without
    ssl: bool = True
    auth: str = "negotiate"  # negotiate | ntlm | kerberos | basic | credssp
    cert_validation: bool | str = True  # True, False, or a CA bundle path
    configuration_name: str = "Microsoft.PowerShell"
    lab: bool = False  # the embedded lab: Basic over HTTP is allowed only here
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else (5986 if self.ssl else 5985)


@dataclass(frozen=True)
class Credential:
    """A user name and a secret. The secret never appears in repr, str, logs or errors."""

    username: str
    password: str = field(repr=False)

    def __str__(self) -> str:
        return f"{self.username} (password: <{len(self.password)} characters>)"


def session_repr(kind: str, endpoint: Endpoint, credential: Credential) -> str:
    """How a PowerShell session shows itself: where, how, and who, never the password."""
    e = endpoint
    return (
        f"{kind}(host={e.host!r}, port={e.effective_port}, ssl={e.ssl}, "
        f"auth={e.auth!r}, user={credential.username!r})"
    )
