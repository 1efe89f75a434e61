"""The lab's EMULATED kubeadm, kubectl and modprobe, installed into a lab Linux node.

A lab node has no Kubernetes binaries and shares the machine's kernel. install() puts small
wrappers into the node's private /opt/aksnet-lab/bin and puts that directory first on sudo's
secure_path (the node's private /etc/sudoers.d) and on login shells' PATH (/etc/profile.d), so
`sudo kubeadm ...` on the node runs this module. The emulations check their inputs the way the
real tools would refuse them (kubeadm: `init|join --config FILE` with kubeadm.k8s.io/v1beta3
documents and their required fields; kubectl: `apply -f FILE` with well-formed objects), write
the files a real run leaves behind (CA certificate, kubeconfigs) so facts see the effect, record
every call in /var/lib/aksnet-lab/k8s-calls.jsonl with secrets masked, and say they are EMULATED.
modprobe never loads a module (that would change the machine's kernel): a module that is loaded
or built in is reported present, any other is skipped with a note.

Lab only: product code never imports this module.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

BIN_DIR = Path("/opt/aksnet-lab/bin")
CALLS = Path("/var/lib/aksnet-lab/k8s-calls.jsonl")
SUDOERS = Path("/etc/sudoers.d/aksnet-lab-path")
PROFILE = Path("/etc/profile.d/aksnet-lab.sh")
NODE_MARKER = Path("/etc/aksnet-lab-node")  # written by the lab's cloud-init into every node
TOOLS = ("kubeadm", "kubectl", "modprobe")
KUBEADM_API = "kubeadm.k8s.io/v1beta3"
SECURE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_TOKEN = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")
_CA_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
_ENDPOINT = re.compile(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")


class Refused(Exception):
    """The emulated tool refuses its input, as the real one would (exit status 1)."""


# Installation (run on the machine as root; enters the node's mount namespace)


def install(lab_dir: Path | str, node: str) -> None:
    """Install the emulated tools into the running lab node `node` of the lab in lab_dir."""
    from aksnet.lab.linux import state

    record = state.read(Path(lab_dir).resolve())["nodes"].get(node)
    if record is None or record.get("pid") is None:
        raise ValueError(f"lab node {node!r} is not running in {lab_dir}")
    package_root = Path(__file__).resolve().parents[3]
    argv = ["nsenter", "--target", str(record["pid"]), "--mount", "--"]
    argv += [sys.executable, "-m", "aksnet.lab.linux.k8sstub", "install-here"]
    env = dict(os.environ, PYTHONPATH=str(package_root))
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"installing the emulated tools into {node!r} failed: {done.stderr}")


def install_here() -> None:
    """Inside a node's mount namespace: write the wrappers, sudoers and profile entries."""
    _require_lab_node()
    BIN_DIR.mkdir(parents=True, exist_ok=True)
    package_root = str(Path(__file__).resolve().parents[3])
    for tool in TOOLS:
        wrapper = BIN_DIR / tool
        wrapper.write_text(
            "#!/bin/sh\n"
            f"# aksnet lab: EMULATED {tool}; this node is a network namespace, not a VM.\n"
            f"PYTHONPATH={shlex.quote(package_root)} exec {shlex.quote(sys.executable)} "
            f'-m aksnet.lab.linux.k8sstub {tool} "$@"\n'
        )
        wrapper.chmod(0o755)
    sudoers = f'Defaults secure_path="{BIN_DIR}:{SECURE_PATH}"\n'
    SUDOERS.write_text(f"# aksnet lab: emulated kubeadm/kubectl first\n{sudoers}")
    SUDOERS.chmod(0o440)
    subprocess.run(["visudo", "-c", "-q", "-f", str(SUDOERS)], check=True)
    PROFILE.write_text(f'PATH="{BIN_DIR}:$PATH"\nexport PATH\n')
    CALLS.parent.mkdir(parents=True, exist_ok=True)


def _require_lab_node() -> None:
    # Never touch the machine's own /etc, /opt or /var: only a lab node has the marker.
    if not NODE_MARKER.exists():
        raise SystemExit(f"aksnet lab: {NODE_MARKER} is missing: this is not a lab node")


# kubeadm


def kubeadm(args: Sequence[str]) -> dict[str, Any]:
    verb, path = kubeadm_args(args)
    documents = load_yaml(path)
    by_kind = kubeadm_kinds(documents, verb)
    if verb == "init":
        _check_init(by_kind)
        _write_init_outputs(by_kind["ClusterConfiguration"])
    else:
        check_join(by_kind["JoinConfiguration"])
        write_kubeconfig(Path("/etc/kubernetes/kubelet.conf"), "system:node")
    print(f"EMULATED kubeadm {verb} (aksnet lab): configuration accepted; nothing was started")
    return {"verb": verb, "config_path": path, "config": [masked(d) for d in documents]}


def kubeadm_args(args: Sequence[str]) -> tuple[str, str]:
    usage = "usage: kubeadm init|join --config FILE"
    if not args or args[0] not in ("init", "join"):
        raise Refused(f"unknown or missing command {list(args[:1])}; {usage}")
    rest = list(args[1:])
    if len(rest) == 1 and rest[0].startswith("--config="):
        return args[0], rest[0].split("=", 1)[1]
    if len(rest) == 2 and rest[0] == "--config":
        return args[0], rest[1]
    raise Refused(f"unsupported flags {rest}; {usage} (flags other than --config are refused)")


def kubeadm_kinds(documents: list[dict[str, Any]], verb: str) -> dict[str, dict[str, Any]]:
    allowed = {
        "init": {"InitConfiguration", "ClusterConfiguration", "KubeletConfiguration"},
        "join": {"JoinConfiguration", "KubeletConfiguration"},
    }[verb]
    by_kind: dict[str, dict[str, Any]] = {}
    for document in documents:
        kind = document.get("kind")
        if kind != "KubeletConfiguration" and document.get("apiVersion") != KUBEADM_API:
            raise Refused(f"{kind}: apiVersion {document.get('apiVersion')!r} is not {KUBEADM_API}")
        if kind not in allowed or kind in by_kind:
            raise Refused(f"kind {kind!r} is not allowed (once) for kubeadm {verb}: {allowed}")
        by_kind[kind] = document
    required = {
        "init": ("InitConfiguration", "ClusterConfiguration"),
        "join": ("JoinConfiguration",),
    }
    for kind in required[verb]:
        if kind not in by_kind:
            raise Refused(f"kubeadm {verb} needs a {kind} document")
    return by_kind


def _check_init(by_kind: dict[str, dict[str, Any]]) -> None:
    init, cluster = by_kind["InitConfiguration"], by_kind["ClusterConfiguration"]
    for token in init.get("bootstrapTokens") or []:
        _require(_TOKEN.match(str(token.get("token", ""))), "bootstrapTokens[].token format")
    _require(_field(init, "nodeRegistration", "name"), "nodeRegistration.name")
    _require(_ENDPOINT.match(str(cluster.get("controlPlaneEndpoint", ""))), "controlPlaneEndpoint")
    _require(_field(cluster, "networking", "podSubnet"), "networking.podSubnet")
    _require(_field(cluster, "networking", "serviceSubnet"), "networking.serviceSubnet")
    _require(str(cluster.get("kubernetesVersion", "")).startswith("v"), "kubernetesVersion")


def check_join(join: dict[str, Any]) -> None:
    discovery = _field(join, "discovery", "bootstrapToken") or {}
    _require(_TOKEN.match(str(discovery.get("token", ""))), "discovery.bootstrapToken.token")
    _require(_ENDPOINT.match(str(discovery.get("apiServerEndpoint", ""))), "apiServerEndpoint")
    hashes = discovery.get("caCertHashes") or []
    _require(
        bool(hashes) and all(_CA_HASH.match(str(h)) for h in hashes),
        "discovery.bootstrapToken.caCertHashes (sha256:<64 hex>)",
    )
    _require(_field(join, "nodeRegistration", "name"), "nodeRegistration.name")
    if "controlPlane" in join:
        key = str(_field(join, "controlPlane", "certificateKey") or "")
        _require(re.fullmatch(r"[0-9a-f]{64}", key), "controlPlane.certificateKey (64 hex digits)")


def _field(document: dict[str, Any], *names: str) -> Any:
    value: Any = document
    for name in names:
        value = value.get(name) if isinstance(value, dict) else None
    return value


def _require(ok: object, what: str) -> None:
    if not ok:
        raise Refused(f"missing or invalid {what}")


def _write_init_outputs(cluster: dict[str, Any]) -> None:
    """A self-signed cluster CA and kubeconfigs, as real kubeadm init leaves them."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pki = Path("/etc/kubernetes/pki")
    pki.mkdir(parents=True, exist_ok=True)
    (pki / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private(pki / "ca.key", key_pem)
    server = f"https://{cluster['controlPlaneEndpoint']}"
    write_kubeconfig(Path("/etc/kubernetes/admin.conf"), "kubernetes-admin", server)
    write_kubeconfig(Path("/etc/kubernetes/kubelet.conf"), "system:node", server)


def write_kubeconfig(path: Path, user: str, server: str = "https://emulated:6443") -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kubernetes", "cluster": {"server": server}}],
        "users": [{"name": user, "user": {}}],
        "contexts": [{"name": "emulated", "context": {"cluster": "kubernetes", "user": user}}],
        "current-context": "emulated",
        "preferences": {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(path, ("# EMULATED by the aksnet lab\n" + yaml.safe_dump(config)).encode())


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


# kubectl


def kubectl(args: Sequence[str]) -> dict[str, Any]:
    rest = list(args)
    if len(rest) >= 2 and rest[0].startswith("--kubeconfig"):
        rest = rest[2:] if rest[0] == "--kubeconfig" else rest[1:]
    if len(rest) != 3 or rest[:2] != ["apply", "-f"]:
        raise Refused(f"unsupported arguments {list(args)}; usage: kubectl apply -f FILE")
    objects = []
    for document in load_yaml(rest[2]):
        for field in ("apiVersion", "kind"):
            _require(isinstance(document.get(field), str), f"{field} of every document")
        _require(_field(document, "metadata", "name"), f"metadata.name of a {document['kind']}")
        objects.append(f"{document['kind']}/{document['metadata']['name']}")
    print(f"EMULATED kubectl apply (aksnet lab): {len(objects)} object(s) accepted, none created")
    return {"verb": "apply", "file": rest[2], "objects": objects}


# modprobe


def modprobe(args: Sequence[str]) -> dict[str, Any]:
    names = [a for a in args if not a.startswith("-")]
    if len(names) != 1:
        raise Refused(f"usage: modprobe MODULE (got {list(args)})")
    module, state = names[0], _module_state(names[0])
    if state is None:
        note = "not loading it: the node shares the machine's kernel, loading would change it"
    elif state == "static-kernel":
        note = "the kernel has no loadable module support; nothing loaded"
    else:
        note = f"already {state}; nothing to load"
    print(f"EMULATED modprobe (aksnet lab): {module}: {note}")
    return {"module": module, "state": state or "absent, not loaded"}


def _module_state(module: str) -> str | None:
    if not Path("/proc/modules").exists():
        return "static-kernel"
    if any(
        line.split(" ", 1)[0] == module for line in Path("/proc/modules").read_text().splitlines()
    ):
        return "loaded"
    return "built-in" if Path("/sys/module", module).is_dir() else None


# Common


def load_yaml(path: str) -> list[dict[str, Any]]:
    try:
        documents = [d for d in yaml.safe_load_all(Path(path).read_text()) if d is not None]
    except (OSError, yaml.YAMLError) as error:
        raise Refused(f"cannot read {path}: {type(error).__name__}: {error}") from None
    if not documents or not all(isinstance(d, dict) for d in documents):
        raise Refused(f"{path} holds no YAML mappings")
    return documents


_SECRET_KEYS = ("token", "certificateKey")


def masked(value: Any) -> Any:
    """value with every token and certificate key shown as <N characters>."""
    if isinstance(value, dict):
        return {
            k: f"<{len(str(v))} characters>" if k in _SECRET_KEYS else masked(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def _record(tool: str, args: Sequence[str], outcome: str, details: dict[str, Any]) -> None:
    CALLS.parent.mkdir(parents=True, exist_ok=True)
    entry = {"tool": tool, "args": list(args), "outcome": outcome, **details}
    with CALLS.open("a") as out:
        out.write(json.dumps(entry) + "\n")


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["install-here"]:
        install_here()
        return 0
    _require_lab_node()
    tools = {"kubeadm": kubeadm, "kubectl": kubectl, "modprobe": modprobe}
    if not argv or argv[0] not in tools:
        print(f"aksnet lab k8sstub: give one of {', '.join(tools)}", file=sys.stderr)
        return 2
    tool, args = argv[0], list(argv[1:])
    try:
        details = tools[tool](args)
    except Refused as error:
        _record(tool, args, "refused", {"reason": str(error)})
        print(f"EMULATED {tool} (aksnet lab) refused: {error}", file=sys.stderr)
        return 1
    _record(tool, args, "accepted", details)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
