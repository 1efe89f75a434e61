"""Each behaviour of the conformance suite in the terms of one transport.

PowerShellAdapter speaks typed cmdlets to a PowerShellSession (PSRP or WinRM); ShellAdapter runs
argv over an SSHSession. The suite calls the same methods on both and asserts the same outcomes.
Sessions an adapter makes besides its main one are closed by close(), which also removes the
adapter's scratch directory on the host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import pytest

from aksnet.remote import psfiles
from aksnet.remote.base import Cmdlet, Pipeline, PowerShellSession, Statement
from aksnet.remote.retry import NO_RETRY, RetryPolicy
from aksnet.remote.ssh import SSHSession
from tests.conformance.expected import Expected, ExpectedExit, ExpectedRecord

Call = Callable[[], object]
LAB_ONLY = "needs the lab's fault injection ({what}); runs against the lab only"


class Adapter(Protocol):
    """What the suite needs of a transport."""

    name: str
    scratch_dir: str  # a directory on the host the adapter writes into and removes at close
    carries_nul: bool  # whether a NUL character can travel inside a value
    file_size: int  # bytes for the put/get round trip (WinRM moves 768 bytes per script)

    def scratch(self, name: str) -> str: ...
    def echo(self, value: str) -> str: ...
    def injections(self, canary: str) -> list[str]: ...
    def exists(self, path: str) -> bool: ...
    def make_dir(self, path: str) -> None: ...
    def write_text(self, path: str, text: str) -> None: ...
    def read_text(self, path: str) -> str: ...
    def name_of(self, path: str) -> str: ...
    def put(self, data: bytes, path: str) -> None: ...
    def get(self, path: str) -> bytes: ...
    def large_output(self) -> tuple[str, str]: ...
    def tampering(self) -> AbstractContextManager[None]: ...
    def timing_out(self) -> AbstractContextManager[Call]: ...
    def wrongly_authenticated(self, retry: RetryPolicy) -> Call: ...
    def server_login_attempts(self) -> int | None: ...
    def on_closed_port(self, port: int, retry: RetryPolicy) -> Call: ...
    def look_up_missing(self, name: str) -> tuple[Call, Expected]: ...
    def misuse(self) -> tuple[Call, Expected]: ...
    def connections(self) -> int | None: ...
    def close(self) -> None: ...


# -- PowerShell ------------------------------------------------------------------------------


class PowerShellLab(Protocol):
    """The lab hooks a PowerShell adapter uses; None on a real host."""

    def tampered_hashes(self) -> AbstractContextManager[None]: ...
    def latency(self, seconds: float) -> AbstractContextManager[None]: ...
    def requests(self) -> int: ...
    def shells_created(self) -> int: ...


SessionFactory = Callable[..., PowerShellSession]


class PowerShellAdapter:
    """Behaviours as cmdlets: a value echoes back through a file (Set-Content, Get-Content)."""

    carries_nul = True  # CLIXML escapes it as _x0000_, WinRM's JSON as \u0000

    def __init__(
        self,
        name: str,
        make: SessionFactory,
        scratch_dir: str,
        lab: PowerShellLab | None,
        file_size: int,
    ) -> None:
        self.name = name
        self._make = make
        self._lab = lab
        self.scratch_dir = scratch_dir
        self.file_size = file_size
        self._sessions: list[PowerShellSession] = []
        self.session = self.new_session()

    def new_session(self, **options: Any) -> PowerShellSession:
        session = self._make(**options)
        self._sessions.append(session)
        return session

    def invoke(self, *statements: Statement) -> list[Any]:
        return self.session.invoke(*statements)

    def scratch(self, name: str) -> str:
        return f"{self.scratch_dir}\\{name}"

    def echo(self, value: str) -> str:
        path = self.scratch("echo.txt")
        # One round trip: the directory (its DirectoryInfo comes first), the write, the read.
        [_, back] = self.invoke(_new_dir(self.scratch_dir), _set_text(path, value), _get_text(path))
        return str(back)

    def injections(self, canary: str) -> list[str]:
        made = f"New-Item -ItemType File -Path '{canary}'"
        return [f"$({made})", f"'; {made}; '", f'"; {made}; "', f"`n{made}", f"| {made}"]

    def exists(self, path: str) -> bool:
        return self.invoke(Cmdlet.of("Test-Path", LiteralPath=path)) == [True]

    def make_dir(self, path: str) -> None:
        self.invoke(_new_dir(path))

    def write_text(self, path: str, text: str) -> None:
        self.invoke(_set_text(path, text))

    def read_text(self, path: str) -> str:
        [text] = self.invoke(_get_text(path))
        return str(text)

    def name_of(self, path: str) -> str:
        [item] = self.invoke(Cmdlet.of("Get-Item", LiteralPath=path))
        return str(item["Name"])

    def put(self, data: bytes, path: str) -> None:
        # Small chunks and budget: several chunks per round trip and several round trips.
        psfiles.put(self.session, data, path, chunk_size=64 * 1024, step_budget=256 * 1024)

    def get(self, path: str) -> bytes:
        return psfiles.get(self.session, path)

    def large_output(self) -> tuple[str, str]:
        """A file that doubles on the host 12 times (about 3.4 MB), read back in one string."""
        unit = "".join(f"line {i:04d} 汉语 ['x y']\r\n" for i in range(32))
        grown, copy = self.scratch("large.txt"), self.scratch("large-copy.txt")
        self.make_dir(self.scratch_dir)
        doubling: list[Statement] = []
        for _ in range(12):
            doubling += [
                Cmdlet.of("Copy-Item", LiteralPath=grown, Destination=copy, Force=True),
                Pipeline.of(_get_text(copy), _add_text(grown)),
            ]
        self.invoke(_set_text(grown, unit), *doubling)
        return unit * 2**12, self.read_text(grown)

    def tampering(self) -> AbstractContextManager[None]:
        if self._lab is None:
            pytest.skip(LAB_ONLY.format(what="Get-FileHash reporting a wrong digest"))
        return self._lab.tampered_hashes()

    @contextmanager
    def timing_out(self) -> Iterator[Call]:
        if self._lab is None:
            pytest.skip(LAB_ONLY.format(what="FaultPlan.set_latency of the lab WSMan server"))
        # The server answers after 3 s; the client reads for 2 s and retries nothing.
        session = self.new_session(retry=NO_RETRY, operation_timeout=1, read_timeout=2)
        session.invoke(Cmdlet.of("Test-Path", LiteralPath="C:\\"))  # connected before the delay
        with self._lab.latency(3):
            yield lambda: session.invoke(Cmdlet.of("Test-Path", LiteralPath="C:\\"))

    def wrongly_authenticated(self, retry: RetryPolicy) -> Call:
        session = self.new_session(password="Wr0ng-conformance-pa55word?", retry=retry)
        return lambda: session.invoke(Cmdlet.of("Test-Path", LiteralPath="C:\\"))

    def server_login_attempts(self) -> int | None:
        # Every request of a client that is refused is one attempt (Basic sends one request).
        return None if self._lab is None else self._lab.requests()

    def on_closed_port(self, port: int, retry: RetryPolicy) -> Call:
        session = self.new_session(port=port, retry=retry)
        return lambda: session.invoke(Cmdlet.of("Test-Path", LiteralPath="C:\\"))

    def look_up_missing(self, name: str) -> tuple[Call, Expected]:
        expected = ExpectedRecord(
            message=f'Hyper-V was unable to find a virtual machine with name "{name}".',
            category="InvalidArgument",
            fully_qualified_error_id="InvalidParameter,Microsoft.HyperV.PowerShell.Commands.GetVM",
            target=name,
        )
        return (lambda: self.invoke(Cmdlet.of("Get-VM", Name=name))), expected

    def misuse(self) -> tuple[Call, Expected]:
        expected = ExpectedRecord(
            message="A parameter cannot be found that matches parameter name 'Nme'.",
            category="InvalidArgument",
            fully_qualified_error_id=(
                "NamedParameterNotFound,Microsoft.HyperV.PowerShell.Commands.GetVM"
            ),
            target=None,
        )
        return (lambda: self.invoke(Cmdlet.of("Get-VM", Nme="x"))), expected

    def connections(self) -> int | None:
        return None if self._lab is None else self._lab.shells_created()

    def close(self) -> None:
        try:
            self.invoke(
                Cmdlet.of(
                    "Remove-Item",
                    LiteralPath=self.scratch_dir,
                    Recurse=True,
                    Force=True,
                    ErrorAction="SilentlyContinue",  # the test may not have made it
                )
            )
        finally:
            for session in self._sessions:
                session.close()


def _new_dir(path: str) -> Cmdlet:
    return Cmdlet.of("New-Item", Path=path, ItemType="Directory", Force=True)


def _set_text(path: str, text: str) -> Cmdlet:
    return Cmdlet.of("Set-Content", LiteralPath=path, Value=text, Encoding="UTF8", NoNewline=True)


def _add_text(path: str) -> Cmdlet:
    return Cmdlet.of("Add-Content", LiteralPath=path, Encoding="UTF8", NoNewline=True)


def _get_text(path: str) -> Cmdlet:
    return Cmdlet.of("Get-Content", LiteralPath=path, Encoding="UTF8", Raw=True)


# -- SSH -------------------------------------------------------------------------------------


class ShellLab(Protocol):
    """The lab hooks a shell adapter uses; None on a real host."""

    def lying_sha256sum(self, session: SSHSession) -> AbstractContextManager[None]: ...
    def refused_logins(self) -> int: ...
    def accepted_logins(self) -> int: ...


ShellFactory = Callable[..., SSHSession]
SEQ_LAST = 500_000  # `seq 1 500000` writes about 3.4 MB


class ShellAdapter:
    """Behaviours as argv: a value echoes back through `printf %s`."""

    name = "ssh"
    carries_nul = False  # no argv word can hold NUL: SSHSession refuses it before sending
    file_size = 1_000_000

    def __init__(self, make: ShellFactory, scratch_dir: str, lab: ShellLab | None) -> None:
        self._make = make
        self._lab = lab
        self.scratch_dir = scratch_dir
        self._sessions: list[SSHSession] = []
        self.session = self.new_session()

    def new_session(self, **options: Any) -> SSHSession:
        session = self._make(**options)
        self._sessions.append(session)
        return session

    def scratch(self, name: str) -> str:
        return f"{self.scratch_dir}/{name}"

    def echo(self, value: str) -> str:
        return self.session.run(["printf", "%s", value]).stdout.decode("utf-8")

    def injections(self, canary: str) -> list[str]:
        made = f"touch '{canary}'"
        return [f"$({made})", f"`{made}`", f"; {made}", f"' ; {made} ; '", f"&& {made}"]

    def exists(self, path: str) -> bool:
        return self.session.run(["test", "-e", path], check=False).exit_status == 0

    def make_dir(self, path: str) -> None:
        self.session.run(["mkdir", "-p", "--", path])

    def write_text(self, path: str, text: str) -> None:
        self.session.run(["tee", "--", path], stdin=text.encode("utf-8"))

    def read_text(self, path: str) -> str:
        return self.session.run(["cat", "--", path]).stdout.decode("utf-8")

    def name_of(self, path: str) -> str:
        found = self.session.run(["find", path, "-maxdepth", "0", "-printf", "%f"])
        return found.stdout.decode("utf-8")

    def put(self, data: bytes, path: str) -> None:
        self.session.put(data, path)

    def get(self, path: str) -> bytes:
        return self.session.get(path)

    def large_output(self) -> tuple[str, str]:
        expected = "".join(f"{n}\n" for n in range(1, SEQ_LAST + 1))
        return expected, self.session.run(["seq", "1", str(SEQ_LAST)]).stdout.decode()

    def tampering(self) -> AbstractContextManager[None]:
        if self._lab is None:
            pytest.skip(LAB_ONLY.format(what="a lying sha256sum first on the node's PATH"))
        return self._lab.lying_sha256sum(self.session)

    @contextmanager
    def timing_out(self) -> Iterator[Call]:
        yield lambda: self.session.run(["sleep", "30"], timeout=1)

    def wrongly_authenticated(self, retry: RetryPolicy) -> Call:
        from aksnet.infra.hostkeys import generate_host_key

        stranger = generate_host_key(comment="aksnet-conformance-stranger")
        session = self.new_session(private_key=stranger.to_paramiko(), retry=retry)
        return lambda: session.run(["true"])

    def server_login_attempts(self) -> int | None:
        return None if self._lab is None else self._lab.refused_logins()

    def on_closed_port(self, port: int, retry: RetryPolicy) -> Call:
        session = self.new_session(host_override="127.0.0.1", port=port, retry=retry)
        return lambda: session.run(["true"])

    def look_up_missing(self, name: str) -> tuple[Call, Expected]:
        path = self.scratch(name)
        expected = ExpectedExit(1, (f"cat: '{path}': No such file or directory",))
        return (lambda: self.session.run(["cat", "--", path])), expected

    def misuse(self) -> tuple[Call, Expected]:
        expected = ExpectedExit(
            2,
            ("ls: unrecognized option '--no-such-option'", "Try 'ls --help' for more information."),
        )
        return (lambda: self.session.run(["ls", "--no-such-option"])), expected

    def connections(self) -> int | None:
        # The lab counts logins in sshd's log; on a real host the session's own count serves.
        if self._lab is None:
            return self.session.connections_opened
        return self._lab.accepted_logins()

    def close(self) -> None:
        try:
            self.session.run(["rm", "-rf", "--", self.scratch_dir])
        finally:
            for session in self._sessions:
                session.close()
