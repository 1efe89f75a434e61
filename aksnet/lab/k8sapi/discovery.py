"""The EMULATED API's discovery documents: /version, /api, /apis, /api/v1 and OpenAPI v3.

Only the legacy (unaggregated) discovery format is served; kubectl and the kubernetes client
fall back to it when a server does not answer with the aggregated one. The OpenAPI v3 document
of api/v1 is a skeleton: no schemas, only each writable kind's PATCH path with the
fieldValidation parameter, which is what tells kubectl (1.27+) that the server validates fields
itself, so `kubectl create/apply -f` need no client-side schema (and no --validate=false).
kubectl versions that only read OpenAPI v2 still need --validate=false.
Lab only: product code never imports this module.
"""

from __future__ import annotations

from typing import Any

# resource -> (kind, namespaced, verbs, short names)
RESOURCES: dict[str, tuple[str, bool, list[str], list[str]]] = {
    "namespaces": ("Namespace", False, ["create", "delete", "get", "list", "watch"], ["ns"]),
    "nodes": ("Node", False, ["get", "list"], ["no"]),
    "services": (
        "Service",
        True,
        ["create", "delete", "get", "list", "patch", "update", "watch"],
        ["svc"],
    ),
    "endpoints": ("Endpoints", True, ["create", "delete", "get", "list", "watch"], ["ep"]),
    "events": ("Event", True, ["create", "delete", "get", "list", "watch"], ["ev"]),
}
OPENAPI_V3_ROOT, OPENAPI_V3_CORE = "/openapi/v3", "/openapi/v3/api/v1"
DOCUMENTS = frozenset({"/version", "/api", "/apis", "/api/v1", OPENAPI_V3_ROOT, OPENAPI_V3_CORE})


def document(path: str, version: str) -> dict[str, Any]:
    """The discovery document at `path` (one of DOCUMENTS)."""
    if path == "/version":
        major, minor = version.lstrip("v").split(".")[:2]
        return {
            "major": major,
            "minor": minor,
            "gitVersion": f"{version}+aksnet-EMULATED",
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "go-EMULATED",
            "compiler": "gc",
            "platform": "linux/amd64",
        }
    if path == "/api":
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
        }
    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}
    if path == OPENAPI_V3_ROOT:
        url = f"{OPENAPI_V3_CORE}?hash=EMULATED{version.replace('.', '')}"
        return {"paths": {"api/v1": {"serverRelativeURL": url}}}
    if path == OPENAPI_V3_CORE:
        return _openapi_v3(version)
    return {
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": _resource_list(),
    }


def _resource_list() -> list[dict[str, Any]]:
    resources = []
    for name, (kind, namespaced, verbs, short) in RESOURCES.items():
        entry = {"name": name, "singularName": kind.lower(), "namespaced": namespaced}
        resources.append(entry | {"kind": kind, "verbs": verbs, "shortNames": short})
        if name == "services":
            status = {"name": "services/status", "singularName": "", "namespaced": True}
            resources.append(status | {"kind": kind, "verbs": ["get", "patch", "update"]})
    return resources


def _openapi_v3(version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for name, (kind, namespaced, verbs, _short) in RESOURCES.items():
        if "create" not in verbs:
            continue
        prefix = "/api/v1/namespaces/{namespace}" if namespaced else "/api/v1"
        paths[f"{prefix}/{name}"] = _path_item(kind, "post", "create")
        if "patch" in verbs:
            paths[f"{prefix}/{name}/{{name}}"] = _path_item(kind, "patch", "patch")
    info = {"title": "Kubernetes (EMULATED by aksnet's lab)", "version": version}
    return {"openapi": "3.0.0", "info": info, "paths": paths, "components": {"schemas": {}}}


def _path_item(kind: str, method: str, action: str) -> dict[str, Any]:
    parameters = [
        {"name": p, "in": "query", "schema": {"type": "string"}}
        for p in ("fieldValidation", "fieldManager", "dryRun")
    ]
    operation = {
        "operationId": f"{action}CoreV1{kind}",
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": "", "kind": kind, "version": "v1"},
        "parameters": parameters,  # kubectl looks for fieldValidation here, on the operation
        "responses": {"200": {"description": "OK"}},
    }
    return {method: operation}
