"""Fixtures: an emulated Windows node (aksnet.lab WindowsNode) behind the lab WSMan server on
127.0.0.1, and a PSRP session to it, torn down after each test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aksnet.lab.hyperv import WindowsNode
from aksnet.lab.wsman import WSManServer
from aksnet.remote.base import Credential, Endpoint
from aksnet.remote.psrp import PSRPSession

USER = "labadmin"
PASSWORD = "W1ndows-n0de-pa55!"


@dataclass
class LabWindowsNode:
    """A served emulated Windows node and an open PSRP session to it."""

    node: WindowsNode
    server: WSManServer
    session: PSRPSession


def _serve(name: str, root: Path) -> Iterator[LabWindowsNode]:
    node = WindowsNode(name, root / name, ip_address="198.18.0.10")
    server = WSManServer(node, users={USER: PASSWORD}, auth="basic")
    server.start()
    endpoint = Endpoint(host="127.0.0.1", port=server.port, ssl=False, auth="basic", lab=True)
    session = PSRPSession(endpoint, Credential(USER, PASSWORD))
    try:
        yield LabWindowsNode(node, server, session)
    finally:
        session.close()
        server.stop()


@pytest.fixture
def win_node(tmp_path: Path) -> Iterator[LabWindowsNode]:
    yield from _serve("win1", tmp_path)


@pytest.fixture
def win_node2(tmp_path: Path) -> Iterator[LabWindowsNode]:
    yield from _serve("win2", tmp_path)
