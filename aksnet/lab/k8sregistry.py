"""The lab's EMULATED Kubernetes control-plane state: which nodes joined which cluster.

A lab has no Kubernetes. What the emulated tools on its nodes need to agree on (the emulated
`kubeadm init` / `kubeadm join` on Linux and Windows nodes, the emulated `kubectl get node`, the
lab's small API server) lives in one JSON document per cluster under ``<lab_dir>/k8s/``, keyed by
the cluster's controlPlaneEndpoint (host:port), the one value every node of a cluster is given.

Pod CIDRs are assigned the way kube-controller-manager's range allocator does with
--allocate-node-cidrs: the lowest free /24 (node-cidr-mask-size) of the cluster's podSubnet, in
join order, kept for the node's life.

Writers take an exclusive flock on the document's lock file and replace the document atomically,
so emulated tools running in different nodes (processes) at once never lose a registration.
Lab only: product code never imports this module.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

NODE_CIDR_PREFIX = 24  # kube-controller-manager's default --node-cidr-mask-size for IPv4
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")


class RegistryError(Exception):
    """The emulated control plane refuses the request, as the real one would."""


def registry_dir(lab_dir: Path | str) -> Path:
    return Path(lab_dir) / "k8s"


def document_path(lab_dir: Path | str, endpoint: str) -> Path:
    """The document of the cluster whose controlPlaneEndpoint is `endpoint` (host:port)."""
    return registry_dir(lab_dir) / (_UNSAFE.sub("_", endpoint) + ".json")


def read_cluster(lab_dir: Path | str, endpoint: str) -> dict[str, Any] | None:
    """The cluster's document, or None when no node ran `kubeadm init` for that endpoint."""
    try:
        data: dict[str, Any] = json.loads(document_path(lab_dir, endpoint).read_text())
    except FileNotFoundError:
        return None
    return data


def init_cluster(
    lab_dir: Path | str, endpoint: str, pod_subnet: str, service_subnet: str
) -> dict[str, Any]:
    """Record `kubeadm init`: the cluster and its networks. Init of a known endpoint keeps it."""
    ipaddress.ip_network(pod_subnet, strict=True)
    ipaddress.ip_network(service_subnet, strict=True)
    with _locked(lab_dir, endpoint) as document:
        document.setdefault("endpoint", endpoint)
        document.setdefault("podSubnet", pod_subnet)
        document.setdefault("serviceSubnet", service_subnet)
        document.setdefault("nodes", {})
        return dict(document)


def register_node(
    lab_dir: Path | str, endpoint: str, name: str, *, os_name: str, address: str, role: str
) -> dict[str, Any]:
    """Record a node that ran `kubeadm init` or `kubeadm join`; returns its record with podCIDR.

    A node that joins again keeps its record (and its podCIDR), as a re-registered Node does.
    """
    if os_name not in ("linux", "windows"):
        raise RegistryError(f"os {os_name!r}: expected 'linux' or 'windows'")
    if role not in ("control-plane", "worker"):
        raise RegistryError(f"role {role!r}: expected 'control-plane' or 'worker'")
    with _locked(lab_dir, endpoint) as document:
        if "podSubnet" not in document:
            raise RegistryError(f"no control plane at {endpoint}: kubeadm init has not run there")
        nodes: dict[str, Any] = document["nodes"]
        if name not in nodes:
            nodes[name] = {
                "name": name,
                "os": os_name,
                "address": address,
                "role": role,
                "podCIDR": _next_pod_cidr(document["podSubnet"], nodes.values()),
            }
        return dict(nodes[name])


def remove_node(lab_dir: Path | str, endpoint: str, name: str) -> bool:
    """Forget a node (`kubectl delete node`); its podCIDR becomes free. False when unknown."""
    with _locked(lab_dir, endpoint) as document:
        return document.get("nodes", {}).pop(name, None) is not None


def _next_pod_cidr(pod_subnet: str, nodes: Any) -> str:
    taken = {n["podCIDR"] for n in nodes}
    network = ipaddress.ip_network(pod_subnet)
    prefix = max(NODE_CIDR_PREFIX, network.prefixlen)
    for candidate in network.subnets(new_prefix=prefix):
        if str(candidate) not in taken:
            return str(candidate)
    raise RegistryError(f"podSubnet {pod_subnet} has no free /{prefix} for another node")


@contextmanager
def _locked(lab_dir: Path | str, endpoint: str) -> Iterator[dict[str, Any]]:
    """The document under an exclusive lock; written back atomically when the block succeeds."""
    path = document_path(lab_dir, endpoint)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        document = read_cluster(lab_dir, endpoint) or {}
        yield document
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(document, indent=2, sort_keys=True))
        os.replace(tmp, path)
