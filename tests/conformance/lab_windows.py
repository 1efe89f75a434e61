"""The emulated Hyper-V host behind the lab WSMan server, for the PowerShell transports.

The machine is a real HyperVMachine(HyperVHost(...)) (real cmdlet contracts and error texts, a
file system under a temporary root). TamperingMachine wraps it the way tests/remote's
FakeMachine tampers: while ``tamper_hash`` is set, Get-FileHash reports a wrong digest, which
stands in for a file corrupted on its way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aksnet.lab.backend import CommandCall
from aksnet.lab.hyperv import HyperVHost, HyperVMachine
from aksnet.lab.wsman import WSManServer
from aksnet.remote.base import Credential, Endpoint

USER = "labadmin"
PASSWORD = "C0nformance-pa55word!"  # distinctive, so a leak would be easy to find
GB = 1024**3
WRONG_DIGEST = "0" * 64


class TamperingMachine:
    """An EmulatedMachine that forwards to a HyperVMachine and can lie about file hashes."""

    def __init__(self, inner: HyperVMachine) -> None:
        self.inner = inner
        self.name = inner.name
        self.tamper_hash = False

    def invoke(
        self, pipelines: Sequence[Sequence[CommandCall]], input: Sequence[Any] = ()
    ) -> list[Any]:
        output = self.inner.invoke(pipelines, input)
        if self.tamper_hash:
            for item in output:
                if isinstance(item, dict) and "Hash" in item:
                    item["Hash"] = WRONG_DIGEST
        return output


@dataclass
class WindowsLab:
    """A running lab WSMan server and the emulated host behind it."""

    server: WSManServer
    host: HyperVHost
    machine: TamperingMachine

    def endpoint(self, port: int | None = None) -> Endpoint:
        port = self.server.port if port is None else port
        return Endpoint(host="127.0.0.1", port=port, ssl=False, auth="basic", lab=True)

    def credential(self, password: str = PASSWORD) -> Credential:
        return Credential(USER, password)

    def requests(self) -> int:
        """HTTP requests the server received (a refused login costs one)."""
        return self.server.stats.requests

    def shells_created(self) -> int:
        """WSMan Create actions: one per runspace pool (PSRP) or cmd shell (WinRM)."""
        return self.server.stats.by_action.get("Create", 0)

    @contextmanager
    def tampered_hashes(self) -> Iterator[None]:
        self.machine.tamper_hash = True
        try:
            yield
        finally:
            self.machine.tamper_hash = False

    @contextmanager
    def latency(self, seconds: float) -> Iterator[None]:
        self.server.faults.set_latency(seconds)
        try:
            yield
        finally:
            self.server.faults.set_latency(0)


@contextmanager
def running_server(root: Path) -> Iterator[WindowsLab]:
    """Serve a fresh emulated Hyper-V host on 127.0.0.1; stop the server on exit."""
    host = HyperVHost(
        "hv-conf",
        root / "hv-conf",
        memory_bytes=8 * GB,
        logical_processors=8,
        storage_bytes=100 * GB,
    )
    machine = TamperingMachine(HyperVMachine(host))
    server = WSManServer(machine, users={USER: PASSWORD}, auth="basic")
    server.start()
    try:
        yield WindowsLab(server, host, machine)
    finally:
        server.faults.clear()
        server.stop()
