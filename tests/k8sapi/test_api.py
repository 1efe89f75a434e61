"""The EMULATED API server with the official kubernetes client over TLS with a client cert."""

from __future__ import annotations

import http.client
import json
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from aksnet.lab.k8sapi import discovery, pki
from tests.k8sapi.fixtures import RunningApi, create_service, kubectl_binary


def raw_get(api: RunningApi, path: str, *, cert: pki.CertPair | None, tmp: Path) -> Any:
    """GET over TLS with plain http.client, with or without a client certificate."""
    context = ssl.create_default_context(cafile=None)
    config = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
        str(api.kubeconfig), client_configuration=config
    )
    context.load_verify_locations(cafile=config.ssl_ca_cert)
    if cert is not None:
        cert_path, key_path = pki.write_pair(cert, tmp, "other")
        context.load_cert_chain(cert_path, key_path)
    connection = http.client.HTTPSConnection("127.0.0.1", api.server.port, context=context)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_nodes_come_from_the_registry_ready_with_addresses_and_pod_cidrs(
    running_api: RunningApi,
) -> None:
    nodes: Any = running_api.core.list_node()
    by_name = {n.metadata.name: n for n in nodes.items}
    assert sorted(by_name) == ["c1-cp-1", "c1-w-1", "c1-w-2"]
    worker = by_name["c1-w-2"]
    assert next((a.type, a.address) for a in worker.status.addresses) == (
        "InternalIP",
        "198.18.0.32",
    )
    assert worker.spec.pod_cidr == "10.244.2.0/24"
    assert [(c.type, c.status) for c in worker.status.conditions] == [("Ready", "True")]
    assert "node-role.kubernetes.io/control-plane" in by_name["c1-cp-1"].metadata.labels
    namespaces: Any = running_api.core.list_namespace()
    assert "default" in [n.metadata.name for n in namespaces.items]


def test_version_and_every_response_say_emulated(running_api: RunningApi, tmp_path: Path) -> None:
    version: Any = kubernetes.client.VersionApi(running_api.core.api_client).get_code()
    assert "EMULATED" in version.git_version
    _, headers, _ = raw_get(running_api, "/api/v1/nodes", cert=None, tmp=tmp_path)  # refused
    assert headers["X-Aksnet-Lab"] == "EMULATED kube-apiserver"


def test_a_request_without_a_client_certificate_is_unauthorized(
    running_api: RunningApi, tmp_path: Path
) -> None:
    status, _, body = raw_get(running_api, "/api/v1/nodes", cert=None, tmp=tmp_path)
    assert status == 401
    assert json.loads(body)["reason"] == "Unauthorized"
    assert raw_get(running_api, "/healthz", cert=None, tmp=tmp_path)[0] == 200


def test_a_client_certificate_of_another_ca_is_refused(
    running_api: RunningApi, tmp_path: Path
) -> None:
    stranger = pki.make_client_cert(pki.make_ca("another"))
    with pytest.raises((ssl.SSLError, ConnectionError)):
        raw_get(running_api, "/api/v1/nodes", cert=stranger, tmp=tmp_path)


def test_services_get_cluster_ips_and_node_ports_and_refuse_bad_ones(
    running_api: RunningApi,
) -> None:
    core = running_api.core
    ports = [{"name": "http", "port": 80}, {"name": "https", "port": 443}]
    lb: Any = create_service(
        core,
        "default",
        {"metadata": {"name": "web"}, "spec": {"type": "LoadBalancer", "ports": ports}},
    )
    plain: Any = create_service(
        core, "default", {"metadata": {"name": "plain"}, "spec": {"ports": [{"port": 80}]}}
    )
    assert lb.spec.cluster_ip == "10.96.0.2" and plain.spec.cluster_ip == "10.96.0.3"
    node_ports = [p.node_port for p in lb.spec.ports]
    assert all(30000 <= p <= 32767 for p in node_ports) and len(set(node_ports)) == 2
    assert plain.spec.type == "ClusterIP" and plain.spec.ports[0].node_port is None
    taken = {"type": "NodePort", "ports": [{"port": 81, "nodePort": node_ports[0]}]}
    with pytest.raises(ApiException) as refused:
        create_service(core, "default", {"metadata": {"name": "np"}, "spec": taken})
    assert refused.value.status == 422 and "already allocated" in str(refused.value.body)
    outside = {"type": "NodePort", "ports": [{"port": 81, "nodePort": 8080}]}
    with pytest.raises(ApiException) as refused:
        create_service(core, "default", {"metadata": {"name": "np"}, "spec": outside})
    assert "30000-32767" in str(refused.value.body)
    with pytest.raises(ApiException) as missing:
        create_service(core, "nowhere", {"metadata": {"name": "x"}, "spec": {}})
    assert missing.value.status == 404
    core.delete_namespaced_service("web", "default")
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_service("web", "default")
    assert gone.value.status == 404


def test_status_patches_merge_and_strategic_and_json_patch(running_api: RunningApi) -> None:
    core = running_api.core
    body = {"metadata": {"name": "web"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}
    create_service(core, "default", body)
    ingress = {"status": {"loadBalancer": {"ingress": [{"ip": "198.18.5.9"}]}}}
    patched: Any = core.patch_namespaced_service_status("web", "default", ingress)
    assert patched.status.load_balancer.ingress[0].ip == "198.18.5.9"
    assert patched.spec.type == "LoadBalancer"
    merge: Any = core.patch_namespaced_service_status(
        "web",
        "default",
        {"status": {"loadBalancer": {"ingress": [{"ip": "198.18.5.10"}]}}},
        _content_type="application/merge-patch+json",
    )
    assert [i.ip for i in merge.status.load_balancer.ingress] == ["198.18.5.10"]
    operations = [
        {"op": "replace", "path": "/status/loadBalancer/ingress/0/ip", "value": "198.18.5.11"}
    ]
    replaced: Any = core.patch_namespaced_service_status("web", "default", operations)
    assert replaced.status.load_balancer.ingress[0].ip == "198.18.5.11"
    spec_through_status: Any = core.patch_namespaced_service_status(
        "web", "default", {"spec": {"type": "ClusterIP"}}
    )
    assert spec_through_status.spec.type == "LoadBalancer"  # the status endpoint writes status only


def test_events_are_created_and_listed_by_field_selector(running_api: RunningApi) -> None:
    core = running_api.core
    for name in ("web", "db"):
        event = {
            "metadata": {"generateName": f"{name}."},
            "involvedObject": {"kind": "Service", "name": name, "namespace": "default"},
            "reason": "Test",
            "message": f"about {name}",
            "type": "Warning",
        }
        created = kubernetes.client.CoreV1Event.from_dict(event)
        assert created is not None
        core.create_namespaced_event("default", created)
    listed: Any = core.list_namespaced_event("default", field_selector="involvedObject.name=db")
    assert [e.message for e in listed.items] == ["about db"]
    assert listed.items[0].metadata.name.startswith("db.")


def test_a_watch_from_a_list_version_streams_the_later_changes(running_api: RunningApi) -> None:
    core = running_api.core
    listing: Any = core.list_service_for_all_namespaces()
    version = listing.metadata.resource_version
    body = {"metadata": {"name": "late"}, "spec": {"ports": [{"port": 80}]}}
    creator = threading.Thread(target=core.create_namespaced_service, args=("default", body))
    creator.start()
    seen = []
    watcher = kubernetes.watch.Watch()  # type: ignore[no-untyped-call]
    for event in watcher.stream(  # type: ignore[no-untyped-call]
        core.list_service_for_all_namespaces, resource_version=version, timeout_seconds=10
    ):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 1:
            core.delete_namespaced_service("late", "default")
        else:
            watcher.stop()  # type: ignore[no-untyped-call]
    creator.join()
    assert seen == [("ADDED", "late"), ("DELETED", "late")]


def test_kubectl_gets_nodes_and_services(running_api: RunningApi) -> None:
    kubectl = kubectl_binary()
    if kubectl is None:
        pytest.skip("no kubectl binary on this machine (AKSNET_TEST_KUBECTL names one)")
    manifest = running_api.kubeconfig.with_name("web.json")
    body = {"metadata": {"name": "web"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "Service", **body}))
    # --validate=false: kubectl before 1.27 validates with OpenAPI v2, which is not served.
    kubeconfig = str(running_api.kubeconfig)
    created = subprocess.run(
        [kubectl, "--kubeconfig", kubeconfig, "create", "--validate=false", "-f", str(manifest)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    done = subprocess.run(
        [kubectl, "--kubeconfig", str(running_api.kubeconfig), "get", "nodes,services"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.split()[:3] == ["node/c1-w-1", "Ready", "<none>"] for line in lines if line)
    assert any("service/web" in line and "<pending>" in line for line in lines)


def test_a_protobuf_body_is_refused_as_an_unsupported_media_type(running_api: RunningApi) -> None:
    """`kubectl create service` sends protobuf, which the lab does not decode: it says so with
    the status a real API server gives a media type it cannot read (415), not a parse error."""
    kubectl = kubectl_binary()
    if kubectl is None:
        pytest.skip("no kubectl binary on this machine (AKSNET_TEST_KUBECTL names one)")
    create = ["create", "service", "loadbalancer", "proto", "--tcp=80:8080"]
    done = subprocess.run(
        [kubectl, "--kubeconfig", str(running_api.kubeconfig), *create],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "decodes JSON request bodies only" in done.stderr


def test_a_namespace_is_created_and_deleted_with_its_services(running_api: RunningApi) -> None:
    core = running_api.core
    namespace = kubernetes.client.V1Namespace.from_dict(
        {"metadata": {"name": "shop", "labels": {"team": "a"}}}
    )
    assert namespace is not None
    created: Any = core.create_namespace(namespace)
    assert created.metadata.labels == {"team": "a", "kubernetes.io/metadata.name": "shop"}
    create_service(core, "shop", {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}})
    core.delete_namespace("shop")
    services: Any = core.list_service_for_all_namespaces()
    assert [s.metadata.name for s in services.items] == ["kubernetes"]


def test_openapi_v3_tells_kubectl_that_the_server_validates_service_fields() -> None:
    document = discovery.document(discovery.OPENAPI_V3_CORE, "v1.28.3")
    patch = document["paths"]["/api/v1/namespaces/{namespace}/services/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "",
        "kind": "Service",
        "version": "v1",
    }
    assert {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}} in patch[
        "parameters"
    ]
