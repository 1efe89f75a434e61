"""The EMULATED API's discovery documents: /version, /api, /apis and /api/v1.

Only the legacy (unaggregated) discovery format is served; kubectl and the kubernetes client
fall back to it when a server does not answer with the aggregated one.
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
DOCUMENTS = frozenset({"/version", "/api", "/apis", "/api/v1"})


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
