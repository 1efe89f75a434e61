"""Fixtures: the lab (emulated Hyper-V host behind WSManServer, one Linux lab node) and one
adapter per transport (psrp, winrm, ssh, and the same three against real hosts when configured).

The lab fixtures are module-scoped and torn down by their context managers, also on failure;
each adapter closes its sessions and removes its scratch directory at the end of its test.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aksnet.remote.base import Credential, Endpoint, PowerShellSession
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.psrp import PSRPSession
from aksnet.remote.retry import RetryPolicy
from aksnet.remote.ssh import SSHSession
from aksnet.remote.winrm import WinRMSession
from tests.conformance.adapters import Adapter, PowerShellAdapter, ShellAdapter
from tests.conformance.lab_linux import LinuxLab, running_node
from tests.conformance.lab_windows import WindowsLab, running_server
from tests.conformance.realhosts import real_linux, real_windows

FAST_RETRY = RetryPolicy(attempts=3, initial_delay=0.05, max_delay=0.2, jitter=0.05, deadline=10)
PS_SCRATCH = "C:\\ProgramData\\AksNet Lab"
# Sizes for put/get. WinRM carries 768 bytes of a file per script, so it gets a small file.
FILE_SIZES = {"psrp": 600_000, "winrm": 3_000}

TRANSPORTS = [
    "psrp",
    "winrm",
    pytest.param("ssh", marks=pytest.mark.lab),
    pytest.param("real-psrp", marks=pytest.mark.real_host),
    pytest.param("real-winrm", marks=pytest.mark.real_host),
    pytest.param("real-ssh", marks=pytest.mark.real_host),
]


@pytest.fixture(scope="module")
def windows_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WindowsLab]:
    with running_server(tmp_path_factory.mktemp("hyperv")) as lab:
        yield lab


@pytest.fixture(scope="module")
def linux_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LinuxLab]:
    with running_node(tmp_path_factory.mktemp("linuxlab")) as lab:
        yield lab


@pytest.fixture(params=TRANSPORTS)
def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Adapter]:
    """The transport under test, in the suite's terms."""
    made = _make_adapter(str(request.param), request, tmp_path)
    try:
        yield made
    finally:
        made.close()


def _make_adapter(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Adapter:
    transport = name.removeprefix("real-")
    if transport == "ssh":
        return _shell_adapter(name, request, tmp_path)
    session_class = PSRPSession if transport == "psrp" else WinRMSession
    if name.startswith("real-"):
        real = real_windows()
        factory = _ps_factory(session_class, real.endpoint, real.credential)
        return PowerShellAdapter(name, factory, PS_SCRATCH, None, FILE_SIZES[transport])
    lab: WindowsLab = request.getfixturevalue("windows_lab")
    factory = _ps_factory(session_class, lab.endpoint(), lab.credential())
    return PowerShellAdapter(name, factory, PS_SCRATCH, lab, FILE_SIZES[transport])


def _ps_factory(
    session_class: type[PSRPSession] | type[WinRMSession],
    endpoint: Endpoint,
    credential: Credential,
) -> Callable[..., PowerShellSession]:
    def make(
        *,
        password: str | None = None,
        port: int | None = None,
        retry: RetryPolicy = FAST_RETRY,
        operation_timeout: int = 5,
        read_timeout: int = 10,
    ) -> PowerShellSession:
        where = endpoint if port is None else dataclasses.replace(endpoint, host="127.0.0.1")
        where = dataclasses.replace(where, port=port or endpoint.port)
        secret = credential if password is None else Credential(credential.username, password)
        return session_class(
            where,
            secret,
            retry=retry,
            operation_timeout=operation_timeout,
            read_timeout=read_timeout,
        )

    return make


def _shell_adapter(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> ShellAdapter:
    scratch = f"/tmp/aksnet conf {uuid.uuid4().hex[:8]}"
    if name.startswith("real-"):
        real = real_linux()
        known = KnownHosts(tmp_path / "known_hosts")
        known.pin(real.host, 22, real.host_key_line)
        make = _ssh_factory(real.host, real.username, real.key_path, known)
        return ShellAdapter(make, scratch, None)
    lab: LinuxLab = request.getfixturevalue("linux_lab")
    make = _ssh_factory(lab.address, "clouduser", lab.user_key.to_paramiko(), lab.known_hosts)
    return ShellAdapter(make, scratch, lab)


def _ssh_factory(
    host: str, username: str, key: Any, known: KnownHosts
) -> Callable[..., SSHSession]:
    def make(
        *,
        host_override: str | None = None,
        port: int = 22,
        private_key: Any = None,
        retry: RetryPolicy = FAST_RETRY,
    ) -> SSHSession:
        return SSHSession(
            host_override or host,
            port=port,
            username=username,
            private_key=key if private_key is None else private_key,
            known_hosts=known,
            retry=retry,
            connect_timeout=5.0,
            command_timeout=30.0,
        )

    return make
