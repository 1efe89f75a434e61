"""The lab's EMULATED kubeadm join secrets (run through aksnet.lab.linux.k8sstub in a lab node):

- ``kubeadm token list -o json``: one BootstrapToken object per live token, as kubeadm prints them;
- ``kubeadm token create TOKEN --ttl DURATION`` (a Go duration; 0 never expires): prints TOKEN;
- ``kubeadm token delete TOKEN_ID|TOKEN ...``;
- ``kubeadm init phase upload-certs --upload-certs --certificate-key KEY``: the upload expires 2
  hours later, with its proxy token (kubeadm's certsTTL).

They act on the cluster of the API server that /etc/kubernetes/admin.conf names (kubeadm's
default --kubeconfig), kept in aksnet.lab.k8sregistry with each token's expiry. Lab only.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from aksnet.lab import k8sregistry
from aksnet.lab.linux.k8sstub import Refused
from aksnet.lab.linux.kubectlstub import cluster_of

ADMIN_KUBECONFIG = "/etc/kubernetes/admin.conf"
OUTPUT_API = "output.kubeadm.k8s.io/v1alpha3"
_TOKEN = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")
_TOKEN_ID = re.compile(r"^[a-z0-9]{6}$")
_KEY = re.compile(r"^[0-9a-f]{64}$")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def kubeadm_secrets(args: list[str]) -> dict[str, Any]:
    """`kubeadm token ...` or `kubeadm init phase upload-certs ...`."""
    kubeconfig, rest = _kubeconfig_flag(args)
    if rest[:3] == ["init", "phase", "upload-certs"]:
        return _upload_certs(kubeconfig, rest[3:])
    verb, rest = (rest[1] if len(rest) > 1 else ""), rest[2:]
    if verb == "list":
        return _list(kubeconfig, rest)
    if verb == "create":
        return _create(kubeconfig, rest)
    if verb == "delete":
        return _delete(kubeconfig, rest)
    raise Refused(f"kubeadm token {verb!r}: give list -o json, create TOKEN --ttl D, delete ID")


def expiry_of(ttl: str) -> datetime | None:
    """When a token created now with this TTL expires (a Go duration; "0": never)."""
    if ttl == "0":
        return None
    match = _DURATION.match(ttl)
    if match is None or not any(match.groups()):
        raise Refused(f'invalid argument "{ttl}" for "--ttl" flag: a duration like 24h0m0s')
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    delta = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    return datetime.now(UTC).replace(microsecond=0) + delta if delta else None


def _kubeconfig_flag(args: list[str]) -> tuple[str, list[str]]:
    rest, kubeconfig = [], ADMIN_KUBECONFIG
    items = list(args)
    while items:
        item = items.pop(0)
        if item == "--kubeconfig" and items:
            kubeconfig = items.pop(0)
        elif item.startswith("--kubeconfig="):
            kubeconfig = item.split("=", 1)[1]
        else:
            rest.append(item)
    return kubeconfig, rest


def _flags(args: list[str], known: set[str]) -> tuple[list[str], dict[str, str | None]]:
    """Positional arguments and --flag[=value] / --flag value pairs (switches map to None)."""
    names: list[str] = []
    flags: dict[str, str | None] = {}
    items = list(args)
    while items:
        item = items.pop(0)
        flag, _, value = item.partition("=")
        if not item.startswith("-"):
            names.append(item)
        elif flag not in known:
            raise Refused(f"unknown flag: {flag}")
        elif value or "=" in item:
            flags[flag] = value
        elif flag in ("--upload-certs",):
            flags[flag] = None
        elif items:
            flags[flag] = items.pop(0)
        else:
            raise Refused(f"flag needs an argument: {flag}")
    return names, flags


def _list(kubeconfig: str, args: list[str]) -> dict[str, Any]:
    names, flags = _flags(args, {"-o", "--output"})
    output = flags.get("-o") or flags.get("--output")
    if names or output != "json":
        raise Refused("kubeadm token list: the emulation prints -o json only")
    lab_dir, endpoint = cluster_of(kubeconfig)
    tokens = _registry(k8sregistry.list_tokens, lab_dir, endpoint)
    for token in tokens:
        item = {"kind": "BootstrapToken", "apiVersion": OUTPUT_API, **token}
        if item["expires"] is None:
            del item["expires"]
        print(json.dumps(item, indent=4))
    return {"verb": "token list", "tokens": len(tokens)}


def _create(kubeconfig: str, args: list[str]) -> dict[str, Any]:
    names, flags = _flags(args, {"--ttl", "--description"})
    if len(names) != 1 or not _TOKEN.match(names[0]):
        raise Refused("kubeadm token create: give one token of the form [a-z0-9]{6}.[a-z0-9]{16}")
    ttl = flags.get("--ttl") or "24h0m0s"
    expires = expiry_of(ttl)
    lab_dir, endpoint = cluster_of(kubeconfig)
    description = flags.get("--description") or ""
    _registry(
        k8sregistry.add_token, lab_dir, endpoint, names[0], expires=expires, description=description
    )
    print(names[0])  # kubeadm prints the token it created
    return {"verb": "token create", "ttl": ttl}


def _delete(kubeconfig: str, args: list[str]) -> dict[str, Any]:
    names, _ = _flags(args, set())
    ids = [n.split(".", 1)[0] for n in names]
    if not ids or not all(_TOKEN_ID.match(i) for i in ids):
        raise Refused("kubeadm token delete: give token ids ([a-z0-9]{6}) or tokens")
    lab_dir, endpoint = cluster_of(kubeconfig)
    for token_id in ids:
        if not _registry(k8sregistry.delete_token, lab_dir, endpoint, token_id):
            raise Refused(
                f'failed to delete bootstrap token with name "bootstrap-token-{token_id}": '
                f'secrets "bootstrap-token-{token_id}" not found'
            )
        print(f'bootstrap token "{token_id}" deleted')
    return {"verb": "token delete", "ids": ids}


def _upload_certs(kubeconfig: str, args: list[str]) -> dict[str, Any]:
    names, flags = _flags(args, {"--upload-certs", "--certificate-key", "--config"})
    key = flags.get("--certificate-key") or ""
    if names or "--upload-certs" not in flags or not _KEY.match(key):
        raise Refused(
            "kubeadm init phase upload-certs: give --upload-certs and --certificate-key "
            "(64 hex digits)"
        )
    lab_dir, endpoint = cluster_of(kubeconfig)
    expires = _registry(k8sregistry.upload_certificates, lab_dir, endpoint, key)
    print(
        '[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" '
        f"Namespace (EMULATED, aksnet lab; it expires at {expires:%Y-%m-%dT%H:%M:%SZ})"
    )
    return {"verb": "upload-certs", "expires": f"{expires:%Y-%m-%dT%H:%M:%SZ}"}


def _registry(action: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return action(*args, **kwargs)
    except k8sregistry.RegistryError as error:
        raise Refused(str(error)) from None
