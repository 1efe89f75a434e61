"""The lab's EMULATED kube-proxy (aksnet.lab.linux.proxystub) on the machine's loopback: which
ports it serves, and that it answers with the node's name. No root needed."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aksnet.lab.linux import proxystub
from tests.loadbalancer.conftest import get


def service(kind: str, *ports: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"type": kind, "ports": list(ports)}}


def write_state(path: Path, services: dict[str, Any]) -> None:
    path.write_text(json.dumps({"resourceVersion": 2, "objects": {"services": services}}))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def servers() -> Iterator[proxystub.NodePortServers]:
    running = proxystub.NodePortServers("c1-linux-0", "127.0.0.1")
    try:
        yield running
    finally:
        running.converge(set())


def test_node_ports_are_the_tcp_ports_of_node_port_and_load_balancer_services(
    tmp_path: Path,
) -> None:
    state = tmp_path / "api.json"
    assert proxystub.node_ports(state) == set()  # no API server state yet
    write_state(
        state,
        {
            "default/lb": service("LoadBalancer", {"port": 80, "nodePort": 30080}),
            "default/np": service("NodePort", {"port": 81, "protocol": "TCP", "nodePort": 30081}),
            "default/udp": service("NodePort", {"port": 53, "protocol": "UDP", "nodePort": 30053}),
            "default/ip": service("ClusterIP", {"port": 82}),
        },
    )
    assert proxystub.node_ports(state) == {30080, 30081}


def test_service_ports_are_parsed_again_only_when_the_file_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "api.json"
    ports = proxystub.ServicePorts(state)
    assert ports.current() == set()
    write_state(state, {"default/a": service("NodePort", {"port": 80, "nodePort": 30080})})
    parsed: list[Path] = []
    original = proxystub.node_ports

    def counting(path: Path) -> set[int]:
        parsed.append(path)
        return original(path)

    monkeypatch.setattr(proxystub, "node_ports", counting)
    assert ports.current() == {30080} and ports.current() == {30080}
    assert len(parsed) == 1  # the second poll found the same file
    replacement = tmp_path / "api.json.new"  # as the emulated API server writes it: a rename
    write_state(replacement, {"default/b": service("NodePort", {"port": 81, "nodePort": 30081})})
    replacement.replace(state)
    assert ports.current() == {30081}
    assert len(parsed) == 2
    state.unlink()
    assert ports.current() == set()


def test_servers_follow_the_wanted_ports_and_answer_with_the_node_name(
    servers: proxystub.NodePortServers,
) -> None:
    first, second = free_port(), free_port()
    servers.converge({first, second})
    assert get("127.0.0.1", first) == get("127.0.0.1", second) == "c1-linux-0"
    servers.converge({second})
    with pytest.raises(ConnectionRefusedError):
        get("127.0.0.1", first)
    assert get("127.0.0.1", second) == "c1-linux-0"


def test_pause_and_resume_write_and_remove_the_flag(tmp_path: Path) -> None:
    flag = proxystub.pause_flag(tmp_path, "c1-linux-1")
    proxystub.pause(tmp_path, "c1-linux-1")
    assert flag.exists()
    proxystub.resume(tmp_path, "c1-linux-1")
    assert not flag.exists()
