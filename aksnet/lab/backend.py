"""The contract between the lab's WSMan server and the emulated Windows machines behind it.

The WSMan server (aksnet.lab.wsman) speaks the protocols: HTTP, WSMan, WinRS, PSRP (psrpcore).
An emulated machine (aksnet.lab.hyperv: a Hyper-V host or a Windows node) answers typed cmdlet
calls. Nothing here is real Windows: every object an emulated machine returns carries
``Lab = True`` so that no one mistakes the lab for a production host.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# The value of a positional argument has name None, as psrpcore reports it.
Parameters = tuple[tuple[str | None, Any], ...]


@dataclass(frozen=True)
class CommandCall:
    """One command of a pipeline as it arrived from a client."""

    name: str
    parameters: Parameters = ()


class PSError(Exception):
    """A PowerShell error the emulated machine reports, with the real message text.

    Raised: a terminating error (the pipeline fails). Returned among a command's outputs: a
    non-terminating error (written to the error stream; the pipeline goes on).
    """

    def __init__(
        self,
        message: str,
        *,
        category: str = "NotSpecified",
        error_id: str = "NotSpecified",
        target: str | None = None,
        terminating: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.category = category  # a System.Management.Automation.ErrorCategory member name
        self.error_id = error_id  # FullyQualifiedErrorId, e.g. "NamedParameterNotFound,New-VM"
        self.target = target
        self.terminating = terminating


class EmulatedMachine(Protocol):
    """One emulated Windows machine that answers cmdlet calls."""

    name: str

    def invoke(
        self, pipelines: Sequence[Sequence[CommandCall]], input: Sequence[Any] = ()
    ) -> list[Any]:
        """Run statements (each a pipeline of commands) in order; return their outputs.

        Outputs are plain values: dict (becomes a PSCustomObject), str, int, float, bool, None,
        list; a PSError among them is a non-terminating error. A terminating error is raised
        as PSError and stops the remaining statements.
        """
        ...
