"""The EMULATED API server as a background process: on 127.0.0.1, and in a network namespace
on a 198.19.x.y address (root only), reached by the kubernetes client and kubectl."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from aksnet.lab.k8sapi import pki, process
from tests.k8sapi.fixtures import (
    ENDPOINT,
    SERVICE_SUBNET,
    client_for,
    create_service,
    kubectl_binary,
    register_nodes,
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def prepare(tmp_path: Path, address: str, port: int) -> tuple[Path, Path, Path]:
    """Registry, PKI dir and admin kubeconfig for a server on address:port."""
    lab_dir = tmp_path / "lab"
    register_nodes(lab_dir)
    ca = pki.make_ca()
    pki_dir = tmp_path / "pki"
    process.write_server_pki(pki_dir, ca, [address])
    kubeconfig = tmp_path / "admin.conf"
    text = pki.kubeconfig(f"https://{address}:{port}", ca, pki.make_client_cert(ca))
    pki.write_private(kubeconfig, text.encode())
    return lab_dir, pki_dir, kubeconfig


def test_the_background_server_serves_until_stopped_and_keeps_objects_in_its_state_file(
    tmp_path: Path,
) -> None:
    port = free_port()
    lab_dir, pki_dir, kubeconfig = prepare(tmp_path, "127.0.0.1", port)
    common: dict[str, Any] = dict(
        address="127.0.0.1", lab_dir=lab_dir, endpoint=ENDPOINT, service_subnet=SERVICE_SUBNET
    )
    pid = process.start_background(**common, pki_dir=pki_dir, port=port)
    try:
        client = client_for(kubeconfig)
        core = kubernetes.client.CoreV1Api(client)
        nodes: Any = core.list_node()
        assert len(nodes.items) == 3
        create_service(
            core, "default", {"metadata": {"name": "kept"}, "spec": {"ports": [{"port": 80}]}}
        )
        client.close()  # type: ignore[no-untyped-call]
    finally:
        process.stop_background(pid)
    assert not alive(pid)
    assert "kept" in process.state_file(lab_dir, ENDPOINT).read_text()

    pid = process.start_background(**common, pki_dir=pki_dir, port=port)  # a restart keeps it
    try:
        client = client_for(kubeconfig)
        service: Any = kubernetes.client.CoreV1Api(client).read_namespaced_service(
            "kept", "default"
        )
        assert service.spec.cluster_ip == "10.96.0.2"
        client.close()  # type: ignore[no-untyped-call]
    finally:
        process.stop_background(pid)


def test_a_server_that_cannot_listen_is_reported(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        lab_dir, pki_dir, _ = prepare(tmp_path, "127.0.0.1", port)
        with pytest.raises(RuntimeError, match="did not start"):
            process.start_background(
                address="127.0.0.1",
                lab_dir=lab_dir,
                endpoint=ENDPOINT,
                service_subnet=SERVICE_SUBNET,
                pki_dir=pki_dir,
                port=port,
                timeout=20,
            )


NETNS_ADDRESS = "198.19.77.10"


@pytest.fixture
def namespace() -> Iterator[str]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to make a network namespace")
    name = f"aksnet-k8sapi-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        subprocess.run(
            ["ip", "-n", name, "address", "add", f"{NETNS_ADDRESS}/32", "dev", "lo"], check=True
        )
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


CLIENT_SCRIPT = """
import sys, kubernetes
kubernetes.config.load_kube_config(sys.argv[1])
print(sorted(n.metadata.name for n in kubernetes.client.CoreV1Api().list_node().items))
"""


@pytest.mark.lab
def test_in_a_network_namespace_on_a_lab_address(namespace: str, tmp_path: Path) -> None:
    lab_dir, pki_dir, kubeconfig = prepare(tmp_path, NETNS_ADDRESS, 6443)
    pid = process.start_background(
        address=NETNS_ADDRESS,
        lab_dir=lab_dir,
        endpoint=ENDPOINT,
        service_subnet=SERVICE_SUBNET,
        pki_dir=pki_dir,
        netns=namespace,
    )
    try:
        inside = ["ip", "netns", "exec", namespace]
        done = subprocess.run(
            [*inside, sys.executable, "-c", CLIENT_SCRIPT, str(kubeconfig)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.stdout.strip() == "['c1-cp-1', 'c1-w-1', 'c1-w-2']", done.stderr
        kubectl = kubectl_binary()
        if kubectl is not None:
            got = subprocess.run(
                [*inside, kubectl, "--kubeconfig", str(kubeconfig), "get", "nodes", "-o", "name"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert got.stdout.split() == ["node/c1-cp-1", "node/c1-w-1", "node/c1-w-2"], got.stderr
    finally:
        process.stop_background(pid)
    assert not alive(pid)
