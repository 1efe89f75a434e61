"""meta.k8s.io/v1 Tables of the EMULATED API, the form kubectl asks `get` answers in.

Columns follow kubectl's for nodes (NAME STATUS ROLES AGE VERSION) and services (NAME TYPE
CLUSTER-IP EXTERNAL-IP PORT(S) AGE); other resources get NAME and AGE.
Lab only: product code never imports this module.
"""

from __future__ import annotations

import datetime
from typing import Any

Obj = dict[str, Any]
COLUMNS = {
    "nodes": ("Name", "Status", "Roles", "Age", "Version"),
    "services": ("Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"),
}


def as_table(resource: str, items: list[Obj], version: int) -> Obj:
    columns = COLUMNS.get(resource, ("Name", "Age"))
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": str(version)},
        "columnDefinitions": [
            {
                "name": c,
                "type": "string",
                "format": "name" if c == "Name" else "",
                "description": c,
                "priority": 0,
            }
            for c in columns
        ],
        "rows": [{"cells": _cells(resource, item), "object": _partial(item)} for item in items],
    }


def _cells(resource: str, item: Obj) -> list[str]:
    metadata, spec, status = item["metadata"], item.get("spec", {}), item.get("status", {})
    age = _age(metadata.get("creationTimestamp"))
    if resource == "nodes":
        ready = any(
            c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", [])
        )
        prefix = "node-role.kubernetes.io/"
        roles = [k[len(prefix) :] for k in metadata.get("labels", {}) if k.startswith(prefix)]
        version = status.get("nodeInfo", {}).get("kubeletVersion", "")
        state = "Ready" if ready else "NotReady"
        return [metadata["name"], state, ",".join(roles) or "<none>", age, version]
    if resource == "services":
        ingress = status.get("loadBalancer", {}).get("ingress") or []
        external = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress)
        if spec.get("type") == "ExternalName":
            external = spec.get("externalName", "")
        elif spec.get("type") == "LoadBalancer" and not external:
            external = "<pending>"
        ports = ",".join(_port(p) for p in spec.get("ports") or []) or "<none>"
        cluster_ip = spec.get("clusterIP") or "<none>"
        return [
            metadata["name"],
            spec.get("type", ""),
            cluster_ip,
            external or "<none>",
            ports,
            age,
        ]
    return [metadata["name"], age]


def _port(port: Obj) -> str:
    node_port = f":{port['nodePort']}" if port.get("nodePort") else ""
    return f"{port['port']}{node_port}/{port.get('protocol', 'TCP')}"


def _partial(item: Obj) -> Obj:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": item["metadata"],
    }


def _age(timestamp: str | None) -> str:
    if not timestamp:
        return "<unknown>"
    created = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ")
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    seconds = max(0, int((now - created).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
