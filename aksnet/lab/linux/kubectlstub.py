"""The lab's EMULATED kubectl (run through aksnet.lab.linux.k8sstub inside a lab Linux node).

It answers from the lab's emulated control plane (aksnet.lab.k8sregistry, in the lab directory
the wrapper names in AKSNET_LAB_DIR), for the cluster whose API server its kubeconfig names
(--kubeconfig, else $KUBECONFIG, else ~/.kube/config; when the registry knows no cluster by that
address, the cluster this node initialised or joined), and knows these commands only, each checked
the way kubectl checks it:

- ``apply -f FILE``: well-formed objects are accepted; nothing is created;
- ``get node NAME -o jsonpath={.a.b}``, ``get nodes -o json`` (a v1 List of Nodes, as kubectl
  prints it): Nodes built from the registry, each Ready;
- ``drain NAME --ignore-daemonsets --delete-emptydir-data``: the node becomes unschedulable;
- ``delete node NAME``: the node leaves the registry (its podCIDR is free again);
- ``-n kube-system exec etcd-NODE -- etcdctl --endpoints=https://127.0.0.1:2379 --cacert=...
  --cert=... --key=... member list -w json | member remove HEXID``: the stacked etcd's members
  (etcdctl's JSON, IDs as numbers) or one member's removal, from the registry. etcdctl without
  the three certificate flags fails as the real one does against a TLS-only etcd.

An unknown node is kubectl's ``Error from server (NotFound): nodes "NAME" not found`` (exit 1,
nothing on standard output). Lab only: product code never imports this module.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from aksnet.lab import k8sregistry
from aksnet.lab.linux.k8sstub import (
    LAB_DIR_VARIABLE,
    NODE_CLUSTER,
    Refused,
    ServerError,
    load_yaml,
)

_JSONPATH = re.compile(r"^\{((?:\.[A-Za-z][A-Za-z0-9]*)+)\}$")
_DRAIN_FLAGS = {"--ignore-daemonsets", "--delete-emptydir-data", "--force"}
NODE_KINDS = ("node", "nodes", "no")


def kubectl(args: Sequence[str]) -> dict[str, Any]:
    kubeconfig, rest = _global_flags(list(args))
    if rest[:2] == ["apply", "-f"] and len(rest) == 3:
        return _apply(rest[2])
    if rest[:1] == ["get"]:
        return _get(kubeconfig, rest[1:])
    if rest[:1] == ["drain"]:
        return _drain(kubeconfig, rest[1:])
    if rest[:2] in (["delete", kind] for kind in NODE_KINDS) and len(rest) == 3:
        return _delete_node(kubeconfig, rest[2])
    if rest[:3] == ["-n", "kube-system", "exec"] and "--" in rest:
        return _exec_etcdctl(kubeconfig, rest[3:])
    raise Refused(
        f"unsupported arguments {list(args)}; usage: kubectl apply -f FILE | get node NAME -o "
        "jsonpath=... | get nodes -o json | drain NAME --ignore-daemonsets "
        "--delete-emptydir-data | delete node NAME | -n kube-system exec etcd-NODE -- etcdctl "
        "... member list -w json|member remove ID"
    )


def _global_flags(args: list[str]) -> tuple[str | None, list[str]]:
    kubeconfig: str | None = None
    if args[:1] == ["--kubeconfig"] and len(args) >= 2:
        kubeconfig, args = args[1], args[2:]
    elif args[:1] and args[0].startswith("--kubeconfig="):
        kubeconfig, args = args[0].split("=", 1)[1], args[1:]
    return kubeconfig, args


def _apply(path: str) -> dict[str, Any]:
    objects = []
    for document in load_yaml(path):
        for field in ("apiVersion", "kind"):
            if not isinstance(document.get(field), str):
                raise Refused(f"missing or invalid {field} of every document")
        name = (document.get("metadata") or {}).get("name")
        if not name:
            raise Refused(f"missing or invalid metadata.name of a {document['kind']}")
        objects.append(f"{document['kind']}/{name}")
    print(f"EMULATED kubectl apply (aksnet lab): {len(objects)} object(s) accepted, none created")
    return {"verb": "apply", "file": path, "objects": objects}


def _get(kubeconfig: str | None, args: list[str]) -> dict[str, Any]:
    if not args or args[0] not in NODE_KINDS:
        raise Refused(f"get: only nodes are served by the emulated API server, not {args[:1]}")
    names, output = _output_flag(args[1:])
    lab_dir, endpoint = cluster_of(kubeconfig)
    if not names:
        if output != "json":
            raise Refused("get nodes: give -o json")
        nodes = [node_object(n) for _, n in sorted(_nodes(lab_dir, endpoint).items())]
        listing: dict[str, Any] = {"apiVersion": "v1", "items": nodes, "kind": "List"}
        listing["metadata"] = {"resourceVersion": ""}  # kubectl's own List has no version
        print(json.dumps(listing, indent=4))
        return {"verb": "get", "nodes": [n["metadata"]["name"] for n in nodes]}
    if len(names) != 1:
        raise Refused(f"get node: give one node name, not {names}")
    record = _nodes(lab_dir, endpoint).get(names[0])
    if record is None:
        raise ServerError(f'Error from server (NotFound): nodes "{names[0]}" not found')
    print(_render(node_object(record), output), end="")
    return {"verb": "get", "node": names[0], "output": output}


def _output_flag(args: list[str]) -> tuple[list[str], str]:
    names: list[str] = []
    output: str | None = None
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg in ("-o", "--output") and rest:
            output = rest.pop(0)
        elif arg.startswith(("-o=", "--output=")):
            output = arg.split("=", 1)[1]
        elif arg.startswith("-"):
            raise Refused(f"unknown flag: {arg}")
        else:
            names.append(arg)
    if output is None or not (output == "json" or output.startswith("jsonpath=")):
        raise Refused(f"output format {output!r}: the emulation prints json or jsonpath=...")
    return names, output


def _render(node: dict[str, Any], output: str) -> str:
    if output == "json":
        return json.dumps(node, indent=4) + "\n"
    match = _JSONPATH.match(output.split("=", 1)[1])
    if match is None:
        raise Refused(f"jsonpath {output!r}: the emulation evaluates {{.field.field}} only")
    value: Any = node
    for field in match.group(1).split(".")[1:]:
        value = value.get(field) if isinstance(value, dict) else None
    if value is None:
        return ""  # kubectl prints nothing for a field that is not set
    return value if isinstance(value, str) else json.dumps(value)


def _drain(kubeconfig: str | None, args: list[str]) -> dict[str, Any]:
    names = [a for a in args if not a.startswith("-")]
    flags = {a for a in args if a.startswith("-")}
    if len(names) != 1 or not flags <= _DRAIN_FLAGS:
        raise Refused(f"drain: give NAME and only the flags {sorted(_DRAIN_FLAGS)}, not {args}")
    lab_dir, endpoint = cluster_of(kubeconfig)
    if not k8sregistry.mark_unschedulable(lab_dir, endpoint, names[0]):
        raise ServerError(f'Error from server (NotFound): nodes "{names[0]}" not found')
    if "--ignore-daemonsets" not in flags:
        # kubectl refuses when DaemonSet pods are on the node (every node runs the CNI's).
        raise Refused("cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)")
    print(f"node/{names[0]} cordoned\nnode/{names[0]} drained (EMULATED: no pods were evicted)")
    return {"verb": "drain", "node": names[0], "flags": sorted(flags)}


def _delete_node(kubeconfig: str | None, name: str) -> dict[str, Any]:
    lab_dir, endpoint = cluster_of(kubeconfig)
    if not k8sregistry.remove_node(lab_dir, endpoint, name):
        raise ServerError(f'Error from server (NotFound): nodes "{name}" not found')
    print(f'node "{name}" deleted')
    return {"verb": "delete", "node": name}


def cluster_of(kubeconfig: str | None) -> tuple[Path, str]:
    """The lab directory and the endpoint (host:port) of the API server the kubeconfig names."""
    lab_dir = os.environ.get(LAB_DIR_VARIABLE)
    if not lab_dir:
        raise Refused(f"{LAB_DIR_VARIABLE} is not set: these tools belong to a lab node")
    path = kubeconfig or os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    try:
        config = yaml.safe_load(Path(path).read_text())
        server = str(config["clusters"][0]["cluster"]["server"])
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError):
        raise ServerError(
            "The connection to the server localhost:8080 was refused - did you specify the "
            "right host or port?"
        ) from None
    endpoint = server.removeprefix("https://").rstrip("/")
    if k8sregistry.read_cluster(lab_dir, endpoint) is None and NODE_CLUSTER.is_file():
        endpoint = NODE_CLUSTER.read_text().strip()  # the cluster this node is part of
    return Path(lab_dir), endpoint


def _nodes(lab_dir: Path, endpoint: str) -> dict[str, Any]:
    document = k8sregistry.read_cluster(lab_dir, endpoint)
    if document is None:
        raise ServerError(
            f"Unable to connect to the server: dial tcp {endpoint}: connect: connection refused"
        )
    nodes: dict[str, Any] = document.get("nodes", {})
    return nodes


def node_object(record: dict[str, Any]) -> dict[str, Any]:
    """A v1 Node as the API server shows a registered node (Ready; EMULATED in an annotation)."""
    os_name, name = record["os"], record["name"]
    labels = {
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": os_name,
    }
    if record["role"] == "control-plane":
        labels["node-role.kubernetes.io/control-plane"] = ""
    spec: dict[str, Any] = {"podCIDR": record["podCIDR"], "podCIDRs": [record["podCIDR"]]}
    if record.get("unschedulable"):
        spec["unschedulable"] = True
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"aksnet.lab/emulated": "true"},
        },
        "spec": spec,
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": record["address"]},
                {"type": "Hostname", "address": name},
            ],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "nodeInfo": {"operatingSystem": os_name, "architecture": "amd64"},
        },
    }


ETCD_CERT_FLAGS = ("--cacert", "--cert", "--key")


def _exec_etcdctl(kubeconfig: str | None, args: list[str]) -> dict[str, Any]:
    """`exec etcd-NODE -- etcdctl ...` in the node's etcd static pod."""
    split = args.index("--")
    pods, command = args[:split], args[split + 1 :]
    if len(pods) != 1 or command[:1] != ["etcdctl"]:
        raise Refused(f"exec: give one pod and `-- etcdctl ...`, not {args}")
    lab_dir, endpoint = cluster_of(kubeconfig)
    members = k8sregistry.etcd_members(lab_dir, endpoint)
    pod = pods[0]
    if pod.removeprefix("etcd-") not in members:
        raise ServerError(f'Error from server (NotFound): pods "{pod}" not found')
    flags = {a.split("=", 1)[0] for a in command[1:] if a.startswith("--")}
    if not set(ETCD_CERT_FLAGS) <= flags:
        print("Error: context deadline exceeded", file=sys.stderr)
        raise ServerError("command terminated with exit code 1")
    verb = [a for a in command[1:] if not a.startswith("-")]
    if verb == ["member", "list", "json"] and "-w" in command:
        return _member_list(members, pod)
    if verb[:2] == ["member", "remove"] and len(verb) == 3:
        return _member_remove(lab_dir, endpoint, verb[2])
    raise Refused(
        f"etcdctl: the emulation knows `member list -w json` and `member remove ID`: {verb}"
    )


def _member_list(members: dict[str, Any], pod: str) -> dict[str, Any]:
    listed = [
        {
            "ID": m["id"],
            "name": name,
            "peerURLs": [m["peerURL"]],
            "clientURLs": [m["peerURL"].replace(":2380", ":2379")],
        }
        for name, m in sorted(members.items())
    ]
    own = members[pod.removeprefix("etcd-")]["id"]
    print(json.dumps({"header": {"member_id": own, "raft_term": 2}, "members": listed}))
    return {"verb": "etcdctl member list", "members": sorted(members)}


def _member_remove(lab_dir: Path, endpoint: str, hex_id: str) -> dict[str, Any]:
    try:
        member_id = int(hex_id, 16)
        name = k8sregistry.remove_etcd_member(lab_dir, endpoint, member_id, how="member remove")
    except ValueError:
        print(f'Error: bad member ID arg (strconv.ParseUint: parsing "{hex_id}": invalid syntax)')
        raise ServerError("command terminated with exit code 1") from None
    except k8sregistry.RegistryError as error:
        print(f"Error: {error}", file=sys.stderr)
        raise ServerError("command terminated with exit code 1") from None
    print(f"Member {member_id:x} removed from cluster 0")
    return {"verb": "etcdctl member remove", "member": name}
