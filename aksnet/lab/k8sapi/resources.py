"""The EMULATED API's resources: what is stored, defaulted, validated and allocated on write.

Namespaces, services, endpoints and events live in the object store; nodes are read from the
lab's control-plane registry (every registered node is Ready, as a kubelet would report it).
Services get a ClusterIP from the serviceSubnet and, for NodePort and LoadBalancer types, a
NodePort per port from 30000-32767, as kube-apiserver allocates them (lowest free here, where the
real allocator picks at random). Errors are ApiError, which the handler turns into a Status.
Lab only: product code never imports this module.
"""

from __future__ import annotations

import copy
import datetime
import ipaddress
import re
import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aksnet.lab import k8sregistry
from aksnet.lab.k8sapi.objects import Document, ObjectStore, key, objects_of, record_change

NODE_PORT_RANGE = range(30000, 32768)
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
STORED = {"namespaces": "Namespace", "services": "Service", "endpoints": "Endpoints"}
STORED |= {"events": "Event"}
NAMESPACED = frozenset({"services", "endpoints", "events"})
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
Obj = dict[str, Any]


class ApiError(Exception):
    """A request the EMULATED API refuses: HTTP code, Kubernetes reason and message."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def status(self) -> Obj:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }


def not_found(resource: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{resource} "{name}" not found')


def invalid(kind: str, name: str, message: str) -> ApiError:
    return ApiError(422, "Invalid", f'{kind} "{name}" is invalid: {message}')


class EmulatedCluster:
    """The API's view of one EMULATED cluster: its stored objects and its registry's nodes."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        service_subnet: str,
        lab_dir: Path | None = None,
        endpoint: str | None = None,
        version: str = "v1.28.3",
    ) -> None:
        self.store = store
        self.service_subnet = ipaddress.ip_network(service_subnet, strict=True)
        self.lab_dir, self.endpoint, self.version = lab_dir, endpoint, version
        self.started = _timestamp()
        with store.transaction() as document:
            self._bootstrap(document)

    def _bootstrap(self, document: Document) -> None:
        namespaces = objects_of(document, "namespaces")
        for name in INITIAL_NAMESPACES:
            if key(None, name) not in namespaces:
                self._insert(document, "namespaces", None, _namespace(name))
        services = objects_of(document, "services")
        if key("default", "kubernetes") not in services:
            spec: Obj = {"ports": [{"name": "https", "port": 443, "targetPort": 6443}]}
            spec["clusterIP"] = str(self.service_subnet.network_address + 1)
            labels = {"component": "apiserver", "provider": "kubernetes"}
            body: Obj = {"metadata": {"name": "kubernetes", "labels": labels}, "spec": spec}
            self._insert(document, "services", "default", self._service_defaults(document, body))

    # Reads

    def list_objects(self, resource: str, namespace: str | None) -> tuple[list[Obj], int]:
        document = self.store.snapshot()
        version = int(document["resourceVersion"])
        if resource == "nodes":
            return self.nodes(version), version
        items = [
            obj
            for obj in objects_of(document, resource).values()
            if namespace is None or obj["metadata"].get("namespace") == namespace
        ]
        return sorted(items, key=lambda o: (o["metadata"].get("namespace", ""), _name(o))), version

    def get(self, resource: str, namespace: str | None, name: str) -> Obj:
        if resource == "nodes":
            for node in self.nodes(int(self.store.snapshot()["resourceVersion"])):
                if node["metadata"]["name"] == name:
                    return node
            raise not_found(resource, name)
        obj = objects_of(self.store.snapshot(), resource).get(key(namespace, name))
        if obj is None:
            raise not_found(resource, name)
        return obj

    def nodes(self, version: int) -> list[Obj]:
        registry = None
        if self.lab_dir is not None and self.endpoint is not None:
            registry = k8sregistry.read_cluster(self.lab_dir, self.endpoint)
        records: dict[str, Obj] = (registry or {}).get("nodes", {})
        return [self._node(records[n], version) for n in sorted(records)]

    # Writes

    def create(self, resource: str, namespace: str | None, body: Obj) -> Obj:
        self._require_writable(resource)
        body = copy.deepcopy(body)
        metadata = body.setdefault("metadata", {})
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = metadata["generateName"] + secrets.token_hex(3)[:5]
        name = str(metadata.get("name") or "")
        if not _DNS_SUBDOMAIN.match(name):
            raise invalid(STORED[resource], name, "metadata.name: must be a DNS subdomain")
        with self.store.transaction() as document:
            if resource in NAMESPACED:
                self._require_namespace(document, namespace or "")
            if key(namespace, name) in objects_of(document, resource):
                raise ApiError(409, "AlreadyExists", f'{resource} "{name}" already exists')
            if resource == "services":
                body = self._service_defaults(document, body)
            elif resource == "namespaces":
                labels = {**metadata.get("labels", {}), "kubernetes.io/metadata.name": name}
                body = _namespace(name) | {"metadata": {**metadata, "labels": labels}}
            return self._insert(document, resource, namespace, body)

    def delete(self, resource: str, namespace: str | None, name: str) -> Obj:
        self._require_writable(resource)
        with self.store.transaction() as document:
            obj = objects_of(document, resource).pop(key(namespace, name), None)
            if obj is None:
                raise not_found(resource, name)
            record_change(document, resource, "DELETED", obj)
            if resource == "namespaces":  # its objects go with it (at once, not gracefully)
                for kind in NAMESPACED:
                    objects = objects_of(document, kind)
                    for inner in [k for k in objects if k.startswith(f"{name}/")]:
                        record_change(document, kind, "DELETED", objects.pop(inner))
            return copy.deepcopy(obj)

    def update(
        self,
        resource: str,
        namespace: str | None,
        name: str,
        change: Callable[[Obj], Obj],
        subresource: str | None,
    ) -> Obj:
        """Replace the object by change(copy of it); a status write keeps the rest, a main
        write keeps the status, as the two endpoints of a real resource do."""
        self._require_writable(resource)
        with self.store.transaction() as document:
            objects = objects_of(document, resource)
            old = objects.get(key(namespace, name))
            if old is None:
                raise not_found(resource, name)
            new = change(copy.deepcopy(old))
            new["metadata"] = {**old["metadata"], **_mutable_metadata(new, subresource)}
            if subresource == "status":
                new = {**old, "status": new.get("status", {})}
            else:
                new["status"] = old.get("status", {})
                if resource == "services":
                    new = self._service_defaults(document, new, old)
            if new == old:
                return copy.deepcopy(old)
            objects[key(namespace, name)] = new
            record_change(document, resource, "MODIFIED", new)
            return copy.deepcopy(new)

    # Helpers

    def _insert(self, document: Document, resource: str, namespace: str | None, body: Obj) -> Obj:
        metadata = body.setdefault("metadata", {})
        metadata.update(uid=str(uuid.uuid4()), creationTimestamp=_timestamp())
        if resource in NAMESPACED:
            metadata["namespace"] = namespace
        body.update(kind=STORED[resource], apiVersion="v1")
        objects_of(document, resource)[key(namespace, metadata["name"])] = body
        record_change(document, resource, "ADDED", body)
        return copy.deepcopy(body)

    def _require_writable(self, resource: str) -> None:
        if resource not in STORED:
            raise ApiError(405, "MethodNotAllowed", f"{resource}: the EMULATED API only reads it")

    def _require_namespace(self, document: Document, namespace: str) -> None:
        if key(None, namespace) not in objects_of(document, "namespaces"):
            raise not_found("namespaces", namespace)

    def _service_defaults(self, document: Document, body: Obj, old: Obj | None = None) -> Obj:
        others = [
            s for k, s in objects_of(document, "services").items() if old is None or s is not old
        ]
        return service_defaults(body, others, self.service_subnet, old)

    def _node(self, record: Obj, version: int) -> Obj:
        labels = {
            "kubernetes.io/hostname": record["name"],
            "kubernetes.io/os": record["os"],
            "kubernetes.io/arch": "amd64",
        }
        if record["role"] == "control-plane":
            labels["node-role.kubernetes.io/control-plane"] = ""
        info = {
            "architecture": "amd64",
            "bootID": "emulated",
            "containerRuntimeVersion": "containerd://emulated",
            "kernelVersion": "emulated",
            "kubeProxyVersion": self.version,
            "kubeletVersion": self.version,
            "machineID": record["name"],
            "operatingSystem": record["os"],
            "osImage": f"EMULATED {record['os']} lab node",
            "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_DNS, record["name"])),
        }
        ready = {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "EMULATED kubelet is posting ready status",
            "lastHeartbeatTime": _timestamp(),
            "lastTransitionTime": self.started,
        }
        return {
            "kind": "Node",
            "apiVersion": "v1",
            "metadata": {
                "name": record["name"],
                "uid": info["systemUUID"],
                "labels": labels,
                "creationTimestamp": self.started,
                "resourceVersion": str(version),
            },
            "spec": {"podCIDR": record["podCIDR"], "podCIDRs": [record["podCIDR"]]},
            "status": {
                "addresses": [
                    {"type": "InternalIP", "address": record["address"]},
                    {"type": "Hostname", "address": record["name"]},
                ],
                "conditions": [ready],
                "nodeInfo": info,
            },
        }


def service_defaults(
    body: Obj,
    others: list[Obj],
    subnet: ipaddress.IPv4Network | ipaddress.IPv6Network,
    old: Obj | None = None,
) -> Obj:
    """Validate a Service and fill in what the API server decides: type, ports, ClusterIP,
    NodePorts (kept from `old` on an update)."""
    name = _name(body)
    if not _DNS_LABEL.match(name):
        raise invalid("Service", name, "metadata.name: must be a DNS-1035 label")
    spec = body.setdefault("spec", {})
    kind = spec.setdefault("type", "ClusterIP")
    if kind not in SERVICE_TYPES:
        raise invalid("Service", name, f'spec.type: Unsupported value: "{kind}"')
    body.setdefault("status", {"loadBalancer": {}})
    if kind == "ExternalName":
        if not spec.get("externalName"):
            raise invalid("Service", name, "spec.externalName: Required value")
        spec.pop("clusterIP", None)
        return body
    ports = _check_ports(name, spec.get("ports") or [])
    spec.setdefault("sessionAffinity", "None")
    old_spec = (old or {}).get("spec", {})
    spec["clusterIP"] = (
        spec.get("clusterIP") or old_spec.get("clusterIP") or _free_cluster_ip(others, subnet)
    )
    spec["clusterIPs"] = [spec["clusterIP"]]
    if kind in ("NodePort", "LoadBalancer"):
        _assign_node_ports(name, ports, old_spec.get("ports") or [], others)
    else:
        for port in ports:
            port.pop("nodePort", None)
    return body


def _check_ports(name: str, ports: list[Obj]) -> list[Obj]:
    if not ports:
        raise invalid("Service", name, "spec.ports: Required value")
    seen = set()
    for i, port in enumerate(ports):
        number = port.get("port")
        if not isinstance(number, int) or not 1 <= number <= 65535:
            raise invalid("Service", name, f"spec.ports[{i}].port: must be 1-65535")
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", number)
        if len(ports) > 1 and not port.get("name"):
            raise invalid("Service", name, f"spec.ports[{i}].name: Required value")
        if (number, port["protocol"]) in seen:
            raise invalid("Service", name, f"spec.ports[{i}]: Duplicate value")
        seen.add((number, port["protocol"]))
    return ports


def _free_cluster_ip(
    others: list[Obj], subnet: ipaddress.IPv4Network | ipaddress.IPv6Network
) -> str:
    taken = {s.get("spec", {}).get("clusterIP") for s in others}
    for address in subnet.hosts():
        if str(address) not in taken:
            return str(address)
    raise ApiError(500, "InternalError", f"serviceSubnet {subnet} has no free ClusterIP")


def _assign_node_ports(
    name: str, ports: list[Obj], old_ports: list[Obj], others: list[Obj]
) -> None:
    taken = {p.get("nodePort") for s in others for p in s.get("spec", {}).get("ports") or []} - {
        None
    }
    kept = {(p.get("port"), p.get("protocol")): p.get("nodePort") for p in old_ports}
    for i, port in enumerate(ports):
        wanted = port.get("nodePort") or kept.get((port["port"], port["protocol"]))
        if wanted is not None:
            if wanted not in NODE_PORT_RANGE:
                message = f"spec.ports[{i}].nodePort: Invalid value: {wanted}: provided port is "
                raise invalid("Service", name, message + "not in the valid range 30000-32767")
            if wanted in taken:
                message = f"spec.ports[{i}].nodePort: Invalid value: {wanted}: already allocated"
                raise invalid("Service", name, message)
        else:
            wanted = next((p for p in NODE_PORT_RANGE if p not in taken), None)
            if wanted is None:
                raise ApiError(500, "InternalError", "no free NodePort in 30000-32767")
        port["nodePort"] = wanted
        taken.add(wanted)


def _mutable_metadata(obj: Obj, subresource: str | None) -> Obj:
    if subresource == "status":
        return {}
    metadata = obj.get("metadata", {})
    return {k: metadata[k] for k in ("labels", "annotations") if k in metadata}


def _namespace(name: str) -> Obj:
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def _name(obj: Obj) -> str:
    return str(obj.get("metadata", {}).get("name") or "")


def _timestamp() -> str:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")
