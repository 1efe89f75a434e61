"""The lab's EMULATED Kubernetes control-plane state: which nodes joined which cluster.

A lab has no Kubernetes. What the emulated tools on its nodes need to agree on (the emulated
`kubeadm init` / `kubeadm join` on Linux and Windows nodes, the emulated `kubectl get node`, the
lab's small API server) lives in one JSON document per cluster under ``<lab_dir>/k8s/``, keyed by
the cluster's controlPlaneEndpoint (host:port), the one value every node of a cluster is given.

Pod CIDRs are assigned the way kube-controller-manager's range allocator does with
--allocate-node-cidrs: the lowest free /24 (node-cidr-mask-size) of the cluster's podSubnet, in
join order, kept for the node's life.

Bootstrap tokens (`kubeadm token create|delete|list`, the tokens of `kubeadm init`) and the
upload of the control-plane certificates (`kubeadm init phase upload-certs`) live in the same
document, with their expiry: expired tokens vanish from listings as kube-controller-manager's
token cleaner deletes them, and an upload expires 2 hours after it was made together with its
proxy token, as kubeadm's kubeadm-certs Secret does. Joins check both (check_join_secrets).

The stacked etcd's members: `kubeadm init` and each control-plane join add the node's member
(a random uint64 ID, peer URL https://ADDRESS:2380); `kubeadm reset` on the node or `etcdctl
member remove ID` takes it out. etcd refuses to remove its last member, and so does the registry.
Each removal is kept in a log (member, how, members left) so tests can check that every member
left exactly once and in which order.

Writers take an exclusive flock on the document's lock file and replace the document atomically
(readable by root only: it holds the emulated cluster's tokens), so emulated tools running in
different nodes (processes) at once never lose a registration.
Lab only: product code never imports this module.
"""

from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

NODE_CIDR_PREFIX = 24  # kube-controller-manager's default --node-cidr-mask-size for IPv4
DEFAULT_GROUPS = ("system:bootstrappers:kubeadm:default-node-token",)
DEFAULT_USAGES = ("signing", "authentication")
CERTS_PROXY_DESCRIPTION = "Proxy for managing TTL for the kubeadm-certs secret"
CERTS_TTL = timedelta(hours=2)  # kubeadm's certsphase.certsTTL
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


def forget_cluster(lab_dir: Path | str, endpoint: str) -> None:
    """Forget what an earlier cluster at this endpoint left: a new `kubeadm init` there starts a
    new control plane (a new etcd), as removing and creating a cluster with the same API VIP
    does."""
    with _locked(lab_dir, endpoint) as document:
        document.clear()


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
        if role == "control-plane":
            members = document.setdefault("etcd", {}).setdefault("members", {})
            members.setdefault(
                name, {"id": secrets.randbits(63) | 1, "peerURL": f"https://{address}:2380"}
            )
        return dict(nodes[name])


# The stacked etcd


def etcd_members(lab_dir: Path | str, endpoint: str) -> dict[str, dict[str, Any]]:
    """The etcd members by name: {"id": uint64, "peerURL": "https://ADDRESS:2380"}."""
    document = read_cluster(lab_dir, endpoint) or {}
    members: dict[str, dict[str, Any]] = document.get("etcd", {}).get("members", {})
    return {name: dict(member) for name, member in members.items()}


def remove_etcd_member(lab_dir: Path | str, endpoint: str, member_id: int, *, how: str) -> str:
    """Remove the member with that ID (how: 'reset' or 'member remove', for the log); returns
    its name. Refused for an unknown ID and for the last member, as etcd refuses them."""
    with _locked(lab_dir, endpoint) as document:
        etcd = document.setdefault("etcd", {})
        members: dict[str, Any] = etcd.setdefault("members", {})
        named = [name for name, member in members.items() if member["id"] == member_id]
        if not named:
            raise RegistryError(f"etcdserver: member not found (ID {member_id:x})")
        if len(members) == 1:
            raise RegistryError("etcdserver: re-configuration failed: the last member cannot go")
        del members[named[0]]
        etcd.setdefault("removed", []).append(
            {"name": named[0], "how": how, "membersLeft": len(members)}
        )
        return named[0]


def etcd_removals(lab_dir: Path | str, endpoint: str) -> list[dict[str, Any]]:
    """The log of member removals, in order: {"name", "how", "membersLeft"}."""
    document = read_cluster(lab_dir, endpoint) or {}
    removed: list[dict[str, Any]] = document.get("etcd", {}).get("removed", [])
    return [dict(entry) for entry in removed]


def remove_node(lab_dir: Path | str, endpoint: str, name: str) -> bool:
    """Forget a node (`kubectl delete node`); its podCIDR becomes free. False when unknown."""
    with _locked(lab_dir, endpoint) as document:
        return document.get("nodes", {}).pop(name, None) is not None


def mark_unschedulable(lab_dir: Path | str, endpoint: str, name: str) -> bool:
    """Record `kubectl drain` (cordon, then evict): the node is unschedulable. False: unknown."""
    with _locked(lab_dir, endpoint) as document:
        node = document.get("nodes", {}).get(name)
        if node is None:
            return False
        node["unschedulable"] = True
        return True


# Bootstrap tokens and the certificate upload


def add_token(
    lab_dir: Path | str,
    endpoint: str,
    token: str,
    *,
    expires: datetime | None,
    description: str = "",
) -> None:
    """Record a bootstrap token ("abcdef.0123456789abcdef"); expires None: never expires."""
    token_id = token.split(".", 1)[0]
    with _locked(lab_dir, endpoint) as document:
        _require_control_plane(document, endpoint)
        tokens = _live_tokens(document, _now())
        if token_id in tokens:
            raise RegistryError(
                f"failed to create or update bootstrap token with name bootstrap-token-{token_id}: "
                f'secrets "bootstrap-token-{token_id}" already exists'
            )
        tokens[token_id] = {
            "token": token,
            "expires": _iso(expires),
            "description": description,
            "usages": list(DEFAULT_USAGES),
            "groups": list(DEFAULT_GROUPS),
        }


def delete_token(lab_dir: Path | str, endpoint: str, token_id: str) -> bool:
    """`kubeadm token delete`: False when no such token is there."""
    with _locked(lab_dir, endpoint) as document:
        return _live_tokens(document, _now()).pop(token_id, None) is not None


def list_tokens(lab_dir: Path | str, endpoint: str) -> list[dict[str, Any]]:
    """The live tokens (expired ones are cleaned away), each with its whole token."""
    with _locked(lab_dir, endpoint) as document:
        _require_control_plane(document, endpoint)
        return [dict(t) for _, t in sorted(_live_tokens(document, _now()).items())]


def upload_certificates(lab_dir: Path | str, endpoint: str, certificate_key: str) -> datetime:
    """`kubeadm init phase upload-certs`: the upload, encrypted with the key, kept 2 hours
    (with a proxy token whose expiry is the upload's). Returns when it expires."""
    now = _now()
    expires = now + CERTS_TTL
    with _locked(lab_dir, endpoint) as document:
        _require_control_plane(document, endpoint)
        tokens = _live_tokens(document, now)
        for token_id in [
            i for i, t in tokens.items() if t["description"] == CERTS_PROXY_DESCRIPTION
        ]:
            del tokens[token_id]
        proxy = f"{secrets.token_hex(3)}.{secrets.token_hex(8)}"
        tokens[proxy.split(".")[0]] = {
            "token": proxy,
            "expires": _iso(expires),
            "description": CERTS_PROXY_DESCRIPTION,
            "usages": [],
            "groups": [],
        }
        document["certificates"] = {
            "uploaded": _iso(now),
            "expires": _iso(expires),
            "keySha256": _sha256(certificate_key),
        }
    return expires


def check_join_secrets(
    lab_dir: Path | str, endpoint: str, token: str, certificate_key: str | None
) -> None:
    """Refuse a join whose token is unknown or expired, or, for a control-plane join (with a
    certificate key), when the certificate upload is gone or the key does not open it. Clusters
    whose tokens were never recorded (init_cluster alone) accept any token."""
    with _locked(lab_dir, endpoint) as document:
        _require_control_plane(document, endpoint)
        if "tokens" not in document:
            return
        now = _now()
        token_id = token.split(".", 1)[0]
        if _live_tokens(document, now).get(token_id, {}).get("token") != token:
            raise RegistryError(
                "couldn't validate the identity of the API Server: could not find a JWS "
                f'signature in the cluster-info ConfigMap for token ID "{token_id}"'
            )
        if certificate_key is None:
            return
        upload = document.get("certificates")
        if upload is None:
            raise RegistryError(
                'error downloading certs: error downloading the secret: Secret "kubeadm-certs" '
                'was not found in the "kube-system" Namespace. This Secret might have expired. '
                "Please, run `kubeadm init phase upload-certs --upload-certs` on a control plane "
                "to generate a new one"
            )
        if upload["keySha256"] != _sha256(certificate_key):
            raise RegistryError(
                "error downloading certs: error decoding certificate key: the certificate key "
                "does not decrypt the kubeadm-certs Secret"
            )


def _live_tokens(document: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The document's tokens after the token cleaner ran: expired tokens (and an expired
    certificate upload, which its proxy token owns) are gone."""
    tokens: dict[str, Any] = document.setdefault("tokens", {})
    for token_id in [i for i, t in tokens.items() if _expired(t.get("expires"), now)]:
        del tokens[token_id]
    upload = document.get("certificates")
    if upload is not None and _expired(upload["expires"], now):
        del document["certificates"]
    return tokens


def _require_control_plane(document: dict[str, Any], endpoint: str) -> None:
    if "podSubnet" not in document:
        raise RegistryError(f"no control plane at {endpoint}: kubeadm init has not run there")


def _expired(expires: str | None, now: datetime) -> bool:
    return expires is not None and datetime.fromisoformat(expires.replace("Z", "+00:00")) <= now


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


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
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(json.dumps(document, indent=2, sort_keys=True))
        os.replace(tmp, path)
