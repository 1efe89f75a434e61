"""Fixtures for the lab WSMan server tests: a small fake machine and running servers.

FakeMachine stands in for aksnet.lab.hyperv (written elsewhere): it records every call and
answers a few cmdlets whose behaviour the tests steer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pypsrp.powershell import RunspacePool
from pypsrp.wsman import WSMan

from aksnet.lab.backend import CommandCall, PSError
from aksnet.lab.wsman import WSManServer
from aksnet.lab.wsman.auth import live_user_files

USER, PASSWORD = "labadmin", "s3cret-P@ss"
USERS = {USER: PASSWORD}


class FakeMachine:
    """Answers: Get-Item (echo parameters), Emit (N objects), Warn (non-terminating error),
    Fail (terminating error), Block (waits for release), Echo-Input (returns pipeline input)."""

    name = "fake-host"

    def __init__(self) -> None:
        self.calls: list[tuple[list[list[CommandCall]], list[Any]]] = []
        self.release = threading.Event()
        self.lock = threading.Lock()

    def invoke(
        self, pipelines: Sequence[Sequence[CommandCall]], input: Sequence[Any] = ()
    ) -> list[Any]:
        with self.lock:
            self.calls.append(([list(p) for p in pipelines], list(input)))
        outputs: list[Any] = []
        for pipeline in pipelines:
            outputs.extend(self._statement(pipeline, input))
        return outputs

    def _statement(self, pipeline: Sequence[CommandCall], input: Sequence[Any]) -> list[Any]:
        first = pipeline[0]
        params = {k: v for k, v in first.parameters if k is not None}
        if first.name == "Fail":
            raise PSError(
                "VM 'vm9' cannot be started.",
                category="InvalidOperation",
                error_id="InvalidState,Start-VM",
                target="vm9",
                terminating=True,
            )
        if first.name == "Warn":
            return [
                PSError(
                    "A VM named 'dup' already exists.",
                    category="ResourceExists",
                    error_id="VMAlreadyExists,New-VM",
                    target="dup",
                ),
                {"Name": "after-warning"},
            ]
        if first.name == "Emit":
            size = int(params.get("Size", 10))
            return [{"Index": i, "Data": "x" * size} for i in range(int(params["Count"]))]
        if first.name == "Block":
            self.release.wait(30)
            return ["released"]
        if first.name == "Echo-Input":
            return [{"Got": v} for v in input]
        if first.name == "Get-Bytes":
            return [bytes(range(256))]
        return [{"Command": first.name, "Parameters": params, "Commands": len(pipeline)}]

    def all_parameters(self) -> list[dict[str | None, Any]]:
        with self.lock:
            return [dict(c.parameters) for stmts, _ in self.calls for s in stmts for c in s]


def _server_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith(("wsman-", "psrp-", "winrs-"))}


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    """Every test leaves no server thread and no NTLM user file behind."""
    threads, files = _server_threads(), live_user_files()
    yield
    assert _server_threads() - threads == set()
    assert live_user_files() - files == set()


@pytest.fixture
def machine() -> Iterator[FakeMachine]:
    fake = FakeMachine()
    yield fake
    fake.release.set()


@pytest.fixture
def basic_server(machine: FakeMachine) -> Iterator[WSManServer]:
    with WSManServer(machine, users=USERS, auth="basic") as server:
        yield server


@pytest.fixture
def ntlm_server(machine: FakeMachine) -> Iterator[WSManServer]:
    with WSManServer(machine, users=USERS, auth="ntlm") as server:
        yield server


@pytest.fixture
def tls_server(machine: FakeMachine, tmp_path: Path) -> Iterator[WSManServer]:
    with WSManServer(machine, users=USERS, auth="basic", tls_dir=tmp_path / "tls") as server:
        yield server


def basic_wsman(server: WSManServer, password: str = PASSWORD, **kw: Any) -> WSMan:
    options: dict[str, Any] = {"operation_timeout": 5, "read_timeout": 10, "connection_timeout": 5}
    options.update(kw)
    return WSMan(
        "127.0.0.1",
        port=server.port,
        username=USER,
        password=password,
        ssl=False,
        auth="basic",
        encryption="never",
        **options,
    )


def ntlm_wsman(server: WSManServer, password: str = PASSWORD) -> WSMan:
    return WSMan(
        "127.0.0.1",
        port=server.port,
        username=USER,
        password=password,
        ssl=False,
        auth="ntlm",
        encryption="always",
        operation_timeout=5,
        read_timeout=10,
        connection_timeout=5,
    )


@pytest.fixture
def pool(basic_server: WSManServer) -> Iterator[RunspacePool]:
    with basic_wsman(basic_server) as wsman, RunspacePool(wsman) as opened:
        yield opened
