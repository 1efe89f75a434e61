"""The lab's EMULATED kubeadm, kubectl and modprobe, installed into a lab Linux node.

A lab node has no Kubernetes binaries and shares the machine's kernel. install() puts small
wrappers into the node's private /opt/aksnet-lab/bin and puts that directory first on sudo's
secure_path (the node's private /etc/sudoers.d) and on login shells' PATH (/etc/profile.d), so
`sudo kubeadm ...` on the node runs this module. The emulations check their inputs the way the
real tools would refuse them (kubeadm: `init|join --config FILE` with kubeadm.k8s.io/v1beta3
documents and their required fields; `token list|create|delete` and `init phase upload-certs`
in aksnet.lab.linux.tokenstub; kubectl in aksnet.lab.linux.kubectlstub), write the files a real
run leaves behind (CA certificate, kubeconfigs) so facts see the effect, keep the lab's emulated
control plane (aksnet.lab.k8sregistry, in the lab directory the wrappers name in AKSNET_LAB_DIR:
init records the cluster, its tokens and the node; a join is checked against the tokens and the
certificate upload, then registered), record every call in /var/lib/aksnet-lab/k8s-calls.jsonl
with secrets masked, and say they are EMULATED.
`kubeadm reset --force` does what kubeadm's phases do: remove-etcd-member (this node's member
leaves the stacked etcd, unless it is the only one, which kubeadm skips) and cleanup-node (the
emulated API server stops; /etc/kubernetes's kubeconfigs, PKI and manifests go). Like kubeadm it
leaves the Node object to `kubectl delete node`. Without --force it refuses: kubeadm would wait
for an answer to its prompt, and no one answers over a non-interactive SSH command.
modprobe never loads a module (that would change the machine's kernel): a module that is loaded
or built in is reported present, any other is skipped with a note.

Lab only: product code never imports this module.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BIN_DIR = Path("/opt/aksnet-lab/bin")
CALLS = Path("/var/lib/aksnet-lab/k8s-calls.jsonl")
# The controlPlaneEndpoint this node initialised or joined (kubectl's fallback when its
# kubeconfig names the API server by another address than the registry's key).
NODE_CLUSTER = Path("/var/lib/aksnet-lab/cluster-endpoint")
NODE_NAME = Path("/var/lib/aksnet-lab/node-name")  # its nodeRegistration.name (kubeadm reset)
SUDOERS = Path("/etc/sudoers.d/aksnet-lab-path")
PROFILE = Path("/etc/profile.d/aksnet-lab.sh")
NODE_MARKER = Path("/etc/aksnet-lab-node")  # written by the lab's cloud-init into every node
TOOLS = ("kubeadm", "kubectl", "modprobe")
KUBEADM_API = "kubeadm.k8s.io/v1beta3"
SECURE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_TOKEN = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")
_CA_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
_ENDPOINT = re.compile(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")


KUBEADM_USAGE = (
    "usage: kubeadm init|join --config FILE | token list|create|delete | "
    "init phase upload-certs | reset --force"
)
LAB_DIR_VARIABLE = "AKSNET_LAB_DIR"  # set by the wrappers: where the emulated control plane is
ADDRESS_VARIABLE = "AKSNET_LAB_NODE_ADDRESS"  # the node's address, as it registers
_SECRET_ARGUMENT = re.compile(r"^([a-z0-9]{6}\.[a-z0-9]{16}|[0-9a-f]{64})$")


class Refused(Exception):
    """The emulated tool refuses its input, as the real one would (exit status 1)."""


class ServerError(Refused):
    """An error the real tool reports from the API server: printed verbatim, exit status 1."""


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
    argv += [str(Path(lab_dir).resolve()), str(record["address"])]
    env = dict(os.environ, PYTHONPATH=str(package_root))
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"installing the emulated tools into {node!r} failed: {done.stderr}")


def install_here(lab_dir: str, address: str) -> None:
    """Inside a node's mount namespace: write the wrappers, sudoers and profile entries. The
    wrappers tell the tools the lab directory (its emulated control plane) and the node's
    address."""
    _require_lab_node()
    BIN_DIR.mkdir(parents=True, exist_ok=True)
    package_root = str(Path(__file__).resolve().parents[3])
    environment = (
        f"PYTHONPATH={shlex.quote(package_root)} {LAB_DIR_VARIABLE}={shlex.quote(lab_dir)} "
        f"{ADDRESS_VARIABLE}={shlex.quote(address)}"
    )
    for tool in TOOLS:
        wrapper = BIN_DIR / tool
        wrapper.write_text(
            "#!/bin/sh\n"
            f"# aksnet lab: EMULATED {tool}; this node is a network namespace, not a VM.\n"
            f"{environment} exec {shlex.quote(sys.executable)} "
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
    if list(args[:1]) == ["reset"]:
        return reset(list(args[1:]))
    if list(args[:1]) == ["token"] or list(args[:3]) == ["init", "phase", "upload-certs"]:
        from aksnet.lab.linux import tokenstub

        return tokenstub.kubeadm_secrets(list(args))
    verb, path = kubeadm_args(args)
    documents = load_yaml(path)
    by_kind = kubeadm_kinds(documents, verb)
    if verb == "init":
        _check_init(by_kind)
        if not Path("/etc/kubernetes/admin.conf").exists():  # not a re-run on this same node
            _forget_earlier_cluster(str(by_kind["ClusterConfiguration"]["controlPlaneEndpoint"]))
        _register_init(by_kind)
        _start_control_plane(by_kind["ClusterConfiguration"])
    else:
        join = by_kind["JoinConfiguration"]
        check_join(join)
        endpoint = _register_join(join)
        if "controlPlane" in join:
            _join_control_plane(endpoint)
        else:
            _start_node_ports(endpoint, str(join["nodeRegistration"]["name"]))
        write_kubeconfig(Path("/etc/kubernetes/kubelet.conf"), "system:node", f"https://{endpoint}")
    print(
        f"EMULATED kubeadm {verb} (aksnet lab): configuration accepted; the lab's EMULATED API "
        "server runs on control-plane nodes, nothing else was started"
    )
    return {"verb": verb, "config_path": path, "config": [masked(d) for d in documents]}


def lab_context() -> tuple[Path, str]:
    """The lab directory and this node's address, from the wrapper's environment."""
    lab_dir, address = os.environ.get(LAB_DIR_VARIABLE), os.environ.get(ADDRESS_VARIABLE)
    if not lab_dir or not address:
        raise Refused(
            f"{LAB_DIR_VARIABLE} and {ADDRESS_VARIABLE} are not set: run the tools through the "
            "wrappers k8sstub.install wrote"
        )
    return Path(lab_dir), address


def _forget_earlier_cluster(endpoint: str) -> None:
    """A new control plane at an endpoint an earlier (removed) cluster used: its nodes, tokens,
    API objects and CA are not this cluster's."""
    import shutil

    from aksnet.lab import k8sregistry
    from aksnet.lab.k8sapi.process import state_file
    from aksnet.lab.linux.controlplane import shared_pki_dir

    lab_dir, _ = lab_context()
    k8sregistry.forget_cluster(lab_dir, endpoint)
    state_file(lab_dir, endpoint).unlink(missing_ok=True)
    shutil.rmtree(shared_pki_dir(lab_dir, endpoint), ignore_errors=True)


def _register_init(by_kind: dict[str, dict[str, Any]]) -> None:
    """The emulated control plane: the cluster, this node, the InitConfiguration's tokens."""
    from aksnet.lab import k8sregistry

    lab_dir, address = lab_context()
    init, cluster = by_kind["InitConfiguration"], by_kind["ClusterConfiguration"]
    endpoint, networking = str(cluster["controlPlaneEndpoint"]), cluster["networking"]
    k8sregistry.init_cluster(
        lab_dir, endpoint, str(networking["podSubnet"]), str(networking["serviceSubnet"])
    )
    name = str(init["nodeRegistration"]["name"])
    _remember_cluster(endpoint, name)
    k8sregistry.register_node(
        lab_dir, endpoint, name, os_name="linux", address=address, role="control-plane"
    )
    from aksnet.lab.linux.tokenstub import expiry_of

    if init.get("certificateKey"):
        # Leniency, said here and in the report: real kubeadm uploads the certificates at init
        # only with --upload-certs; the lab treats a certificateKey in the InitConfiguration as
        # that flag (aksnet puts the key there and uploads again when the upload has expired).
        k8sregistry.upload_certificates(lab_dir, endpoint, str(init["certificateKey"]))
    listed = {t["token"] for t in k8sregistry.list_tokens(lab_dir, endpoint)}
    for token in init.get("bootstrapTokens") or []:
        if str(token["token"]) not in listed:  # an init run again keeps the tokens it made
            expires = expiry_of(str(token.get("ttl", "24h0m0s")))
            description = str(token.get("description", ""))
            k8sregistry.add_token(
                lab_dir, endpoint, str(token["token"]), expires=expires, description=description
            )


def _register_join(join: dict[str, Any]) -> str:
    """Check the join's token (and certificate key) against the emulated control plane, then
    register the node; returns the API server endpoint."""
    from aksnet.lab import k8sregistry

    lab_dir, address = lab_context()
    discovery = join["discovery"]["bootstrapToken"]
    endpoint, name = str(discovery["apiServerEndpoint"]), str(join["nodeRegistration"]["name"])
    key = _field(join, "controlPlane", "certificateKey")
    role = "control-plane" if "controlPlane" in join else "worker"
    try:
        k8sregistry.check_join_secrets(
            lab_dir, endpoint, str(discovery["token"]), str(key) if key else None
        )
        k8sregistry.register_node(
            lab_dir, endpoint, name, os_name="linux", address=address, role=role
        )
    except k8sregistry.RegistryError as error:
        raise Refused(str(error)) from None
    _remember_cluster(endpoint, name)
    return endpoint


def _remember_cluster(endpoint: str, name: str) -> None:
    NODE_CLUSTER.parent.mkdir(parents=True, exist_ok=True)
    NODE_CLUSTER.write_text(endpoint + "\n")
    NODE_NAME.write_text(name + "\n")


def reset(flags: list[str]) -> dict[str, Any]:
    """`kubeadm reset --force`: remove-etcd-member, then cleanup-node (see the module doc)."""
    if not set(flags) <= {"--force", "-f"} or not flags:
        raise Refused(
            f"reset: give --force (and no other flag), not {flags}: without it kubeadm waits "
            f"for an answer to its prompt; {KUBEADM_USAGE}"
        )
    from aksnet.lab import k8sregistry

    lab_dir, _ = lab_context()
    member = "none (this node is no control plane of a cluster)"
    if NODE_CLUSTER.is_file() and NODE_NAME.is_file():
        endpoint, name = NODE_CLUSTER.read_text().strip(), NODE_NAME.read_text().strip()
        members = k8sregistry.etcd_members(lab_dir, endpoint)
        if name in members and len(members) == 1:
            member = f"{name}: the only remaining etcd member, not removed (as kubeadm skips it)"
        elif name in members:
            k8sregistry.remove_etcd_member(lab_dir, endpoint, members[name]["id"], how="reset")
            member = f"{name}: removed from the etcd cluster"
    _cleanup_node()
    print(f"EMULATED kubeadm reset (aksnet lab): etcd member {member}; node cleaned up")
    return {"verb": "reset", "etcdMember": member}


def _cleanup_node() -> None:
    """Stop this node's emulated API server; remove what init/join wrote."""
    import shutil
    import signal
    from contextlib import suppress

    from aksnet.lab.linux import controlplane

    with suppress(FileNotFoundError, ValueError, ProcessLookupError):
        os.kill(int(controlplane.PID_FILE.read_text()), signal.SIGTERM)
    controlplane.PID_FILE.unlink(missing_ok=True)
    for path in (Path("/etc/kubernetes/pki"), Path("/etc/kubernetes/manifests")):
        shutil.rmtree(path, ignore_errors=True)
    for name in ("admin.conf", "kubelet.conf", "super-admin.conf"):
        Path("/etc/kubernetes", name).unlink(missing_ok=True)
    NODE_CLUSTER.unlink(missing_ok=True)
    NODE_NAME.unlink(missing_ok=True)


def kubeadm_args(args: Sequence[str]) -> tuple[str, str]:
    usage = KUBEADM_USAGE
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


def _start_control_plane(cluster: dict[str, Any]) -> None:
    """The cluster PKI, admin.conf and kubelet.conf, and the EMULATED API server on this node."""
    from aksnet.lab.linux import controlplane

    lab_dir, address = lab_context()
    endpoint = str(cluster["controlPlaneEndpoint"])
    service_subnet = str(cluster["networking"]["serviceSubnet"])
    controlplane.start_after_init(lab_dir, address, endpoint, service_subnet)
    write_kubeconfig(Path("/etc/kubernetes/kubelet.conf"), "system:node", f"https://{endpoint}")


def _join_control_plane(endpoint: str) -> None:
    """A joining control plane gets the shared CA and serves the API too, as kubeadm's does."""
    from aksnet.lab import k8sregistry
    from aksnet.lab.linux import controlplane

    lab_dir, address = lab_context()
    cluster = k8sregistry.read_cluster(lab_dir, endpoint)
    if cluster is None:
        raise Refused(f"no control plane at {endpoint}: kubeadm init has not run there")
    controlplane.start_after_join(lab_dir, address, endpoint, str(cluster["serviceSubnet"]))


def _start_node_ports(endpoint: str, node: str) -> None:
    """A joined worker serves its Services' NodePorts, as kube-proxy and pods would."""
    from aksnet.lab.linux import proxystub

    lab_dir, address = lab_context()
    proxystub.start_after_join(lab_dir, address, endpoint, node)


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
    import yaml  # here, not at the top: modprobe and svcstub (which imports this) need none

    _write_private(path, ("# EMULATED by the aksnet lab\n" + yaml.safe_dump(config)).encode())


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


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
    import yaml

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
    entry = {"tool": tool, "args": _masked_args(args), "outcome": outcome, **details}
    with CALLS.open("a") as out:
        out.write(json.dumps(entry) + "\n")


def _masked_args(args: Sequence[str]) -> list[str]:
    """args with every bootstrap token and certificate key shown as <N characters>."""
    return [f"<{len(a)} characters>" if _SECRET_ARGUMENT.match(a) else a for a in args]


def _kubectl(args: Sequence[str]) -> dict[str, Any]:
    # Imported for kubectl only: kubeadm and modprobe calls need neither it nor the registry.
    from aksnet.lab.linux.kubectlstub import kubectl

    return kubectl(args)


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["install-here"] and len(argv) == 3:
        install_here(argv[1], argv[2])
        return 0
    _require_lab_node()
    tools = {"kubeadm": kubeadm, "kubectl": _kubectl, "modprobe": modprobe}
    if not argv or argv[0] not in tools:
        print(f"aksnet lab k8sstub: give one of {', '.join(tools)}", file=sys.stderr)
        return 2
    tool, args = argv[0], list(argv[1:])
    try:
        details = tools[tool](args)
    except ServerError as error:  # the real tool's own text
        _record(tool, args, "refused", {"reason": str(error)})
        print(str(error), file=sys.stderr)
        return 1
    except Refused as error:
        _record(tool, args, "refused", {"reason": str(error)})
        print(f"EMULATED {tool} (aksnet lab) refused: {error}", file=sys.stderr)
        return 1
    _record(tool, args, "accepted", details)
    return 0


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: kubectlstub and tokenstub raise
    # the imported module's Refused, which only its main catches.
    from aksnet.lab.linux import k8sstub as _module

    sys.exit(_module.main(sys.argv[1:]))
