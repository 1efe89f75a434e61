"""Linux node setup over SSH: facts read from the node, idempotent actions, one Phase.

Each node is prepared over its one ShellSession (SSH) as a user with passwordless sudo: host
name and /etc/hosts, the plugin's kernel modules and sysctls, an nftables table `inet aksnet`
with the ports the node and the plugin need, containerd (SystemdCgroup) and the kubelet and CNI
directories; then `kubeadm init --config` on the first control-plane node and `kubeadm join
--config` on the others. Every decision reads a fact first, so a second run changes nothing.

Files are written with put() into a private staging directory of the login user and installed
as root with `install`, so their content (the kubeadm configuration holds the join token) never
travels in argv and is compared only by sha256, never read back. Nothing here knows about the
lab: a lab node brings its own emulated kubeadm on sudo's PATH.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from aksnet.errors import InvalidInput, RemoteCommandFailed
from aksnet.infra.jointoken import CertificateKey, JoinToken, Secret
from aksnet.infra.manifests import KubeadmConfig, KubeadmNode, NodeRole, render_kubeadm_config
from aksnet.model.cluster import ClusterSpec
from aksnet.network.plugins import KUBERNETES_PORTS, Plugin
from aksnet.plan.actions import masked
from aksnet.plan.facts import Fact, Forecast
from aksnet.plan.parallel import HostWork
from aksnet.plan.runner import RunContext
from aksnet.remote.base import Completed

log = logging.getLogger(__name__)

MODULES_FILE = "/etc/modules-load.d/aksnet.conf"
SYSCTL_FILE = "/etc/sysctl.d/90-aksnet.conf"
NFT_FILE = "/etc/nftables.d/aksnet.nft"
NFT_TABLE = ("inet", "aksnet")
CONTAINERD_FILE = "/etc/containerd/config.toml"
KUBEADM_FILE = "/etc/kubernetes/aksnet/kubeadm-config.yaml"
KUBELET_KUBECONFIG = "/etc/kubernetes/kubelet.conf"  # kubeadm writes it on init and on join
CA_CERT = "/etc/kubernetes/pki/ca.crt"
STAGING_DIR = ".aksnet-staging"  # in the login user's home, mode 0700
DIRECTORIES = ("/etc/kubernetes/manifests", "/var/lib/kubelet", "/etc/cni/net.d", "/opt/cni/bin")
HOSTS_BEGIN, HOSTS_END = "# BEGIN aksnet cluster nodes", "# END aksnet cluster nodes"
# Only for planning joins in a dry run before the first control plane exists; never written.
PLACEHOLDER_CA_HASH = "sha256:" + "0" * 64

CONTAINERD_CONFIG = """\
# Managed by aksnet: containerd for kubelet with the systemd cgroup driver.
version = 2

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
"""

# One round trip: "<mode> <owner>:<group> <sha256>" of a file, or nothing when it is absent.
_FILE_STATE = (
    'if [ -e "$1" ]; then printf "%s " "$(stat -c "%a %U:%G" -- "$1")"; '
    'sha256sum -- "$1" | cut -d" " -f1; fi'
)
_MODULE_STATE = (
    "[ -e /proc/modules ] || { echo static-kernel; exit 0; }; "
    'if grep -q "^$1 " /proc/modules; then echo loaded; '
    'elif [ -d "/sys/module/$1" ]; then echo built-in; '
    'elif grep -qs "/$1.ko" "/lib/modules/$(uname -r)/modules.builtin"; then echo built-in; fi'
)
_INSTALL = 'install -D -m "$1" -o root -g root -T "$2" "$3"; status=$?; rm -f -- "$2"; exit $status'


class NodeShell(Protocol):
    """What setup needs of a node's connection (aksnet.remote.ssh.SSHSession has it)."""

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> Completed: ...

    def put(self, data: bytes, remote_path: str, *, mode: int = 0o644) -> None: ...


@dataclass(frozen=True)
class LinuxNode:
    """A Linux node to set up: its Kubernetes name (also its host name), address and role."""

    name: str
    address: str
    role: NodeRole
    shell: NodeShell

    def __post_init__(self) -> None:
        if self.role not in ("init", "control-plane", "worker"):
            raise InvalidInput("role", self.role, "it must be init, control-plane or worker.")


# What renders a node's kubeadm configuration once the cluster CA's hashes are known.
KubeadmConfigs = Callable[[LinuxNode, Sequence[str]], KubeadmConfig]


def kubeadm_configs(
    spec: ClusterSpec,
    api_vip: str,
    token: JoinToken,
    certificate_key: CertificateKey | None = None,
) -> KubeadmConfigs:
    """The usual KubeadmConfigs: templates/kubeadm-config.yaml.j2 through render_kubeadm_config."""

    def render(node: LinuxNode, ca_cert_hashes: Sequence[str]) -> KubeadmConfig:
        kubeadm_node = KubeadmNode(node.name, node.role, node.address)
        return render_kubeadm_config(
            spec,
            api_vip,
            kubeadm_node,
            token,
            ca_cert_hashes=ca_cert_hashes,
            certificate_key=certificate_key,
        )

    return render


# Remote helpers


def sudo(shell: NodeShell, *argv: str, check: bool = True) -> Completed:
    return shell.run(["sudo", "-n", *argv], check=check)


def install_file(shell: NodeShell, data: bytes, path: str, mode: int) -> None:
    """Write data to path as root with mode: put() to a private staging file, then install."""
    shell.run(["mkdir", "-p", "-m", "0700", STAGING_DIR])
    staged = f"{STAGING_DIR}/{secrets.token_hex(8)}"
    shell.put(data, staged, mode=0o600)
    sudo(shell, "sh", "-c", _INSTALL, "sh", f"{mode:o}", staged, path)


def file_state(data: bytes, mode: int) -> str:
    """What FileState reads for a root-owned file holding data with mode."""
    return f"{mode:o} root:root {hashlib.sha256(data).hexdigest()}"


# Facts


@dataclass(frozen=True)
class FileState:
    """ "<mode> <owner>:<group> <sha256>" of a file; the content itself is never read back."""

    shell: NodeShell
    path: str

    @property
    def key(self) -> str:
        return f"file:{self.path}"

    def read(self, host: str) -> str | None:
        return sudo(self.shell, "sh", "-c", _FILE_STATE, "sh", self.path).text.strip() or None


@dataclass(frozen=True)
class DirectoryState:
    """ "<mode> <owner>" of a directory; None when absent."""

    shell: NodeShell
    path: str

    @property
    def key(self) -> str:
        return f"directory:{self.path}"

    def read(self, host: str) -> str | None:
        done = self.shell.run(["stat", "-c", "%a %U %F", "--", self.path], check=False)
        fields = done.text.split(" ", 2)
        if done.exit_status != 0 or fields[2:] != ["directory\n"]:
            return None
        return " ".join(fields[:2])


@dataclass(frozen=True)
class TextFile:
    """The text of a world-readable file (not for secrets); None when absent."""

    shell: NodeShell
    path: str

    @property
    def key(self) -> str:
        return f"text:{self.path}"

    def read(self, host: str) -> str | None:
        done = self.shell.run(["cat", "--", self.path], check=False)
        return done.text if done.exit_status == 0 else None


@dataclass(frozen=True)
class KernelHostname:
    shell: NodeShell

    key = "hostname"

    def read(self, host: str) -> str | None:
        return self.shell.run(["hostname"]).text.strip() or None


@dataclass(frozen=True)
class ModuleState:
    """'loaded', 'built-in', 'static-kernel' (no loadable modules at all) or None (absent)."""

    shell: NodeShell
    module: str

    @property
    def key(self) -> str:
        return f"module:{self.module}"

    def read(self, host: str) -> str | None:
        return self.shell.run(["sh", "-c", _MODULE_STATE, "sh", self.module]).text.strip() or None


@dataclass(frozen=True)
class SysctlValue:
    """The live value of a sysctl (whitespace normalised); None when the key does not exist."""

    shell: NodeShell
    name: str

    @property
    def key(self) -> str:
        return f"sysctl:{self.name}"

    def read(self, host: str) -> str | None:
        done = sudo(self.shell, "sysctl", "-n", self.name, check=False)  # sysctl is in sbin
        return " ".join(done.text.split()) if done.exit_status == 0 else None


@dataclass(frozen=True)
class NftRuleComments:
    """The comments of the rules in table inet aksnet (aksnet tags each rule); None: no table."""

    shell: NodeShell

    key = "nft:inet aksnet"

    def read(self, host: str) -> tuple[str, ...] | None:
        done = sudo(self.shell, "nft", "-j", "list", "table", *NFT_TABLE, check=False)
        if done.exit_status != 0:
            return None
        items = json.loads(done.text).get("nftables", [])
        return tuple(i["rule"].get("comment", "") for i in items if "rule" in i)


@dataclass(frozen=True)
class Exists:
    """'yes' when a path exists (read as root); None otherwise."""

    shell: NodeShell
    path: str

    @property
    def key(self) -> str:
        return f"exists:{self.path}"

    def read(self, host: str) -> str | None:
        return (
            "yes"
            if sudo(self.shell, "test", "-e", self.path, check=False).exit_status == 0
            else None
        )


# Desired content


def modules_text(plugin: Plugin) -> str:
    lines = [f"# Managed by aksnet: kernel modules the {plugin.name} network plugin needs."]
    return "\n".join([*lines, *plugin.linux.kernel_modules]) + "\n"


def sysctl_text(plugin: Plugin) -> str:
    lines = [f"# Managed by aksnet: sysctls the {plugin.name} network plugin needs."]
    return "\n".join([*lines, *(f"{k} = {v}" for k, v in plugin.linux.sysctls)]) + "\n"


def firewall_ports(plugin: Plugin) -> list[tuple[str, str]]:
    """(protocol, port or range) the node must accept: the plugin's, then Kubernetes'."""
    ports = [(p, n) for p, n, _ in (*plugin.linux.firewall_ports, *KUBERNETES_PORTS)]
    return list(dict.fromkeys(ports))


def nft_comment(protocol: str, port: str) -> str:
    return f"aksnet {protocol}/{port}"


def nft_text(plugin: Plugin) -> str:
    """The table, replaced as a whole when loaded (create, delete, define: one transaction).

    The chain accepts and counts the ports; its policy stays accept so that it never cuts a
    node off (nftables: an accept here does not override a drop in another table's chain).
    """
    rules = [_nft_rule(protocol, port) for protocol, port in firewall_ports(plugin)]
    table = " ".join(NFT_TABLE)
    return "\n".join(
        [
            "#!/usr/sbin/nft -f",
            f"# Managed by aksnet: ports for Kubernetes and the {plugin.name} network plugin.",
            f"table {table} {{}}",
            f"delete table {table}",
            f"table {table} {{",
            "    chain input {",
            "        type filter hook input priority filter; policy accept;",
            *rules,
            "    }",
            "}",
            "",
        ]
    )


def _nft_rule(protocol: str, port: str) -> str:
    comment = json.dumps(nft_comment(protocol, port))
    return f"        {protocol} dport {port} counter accept comment {comment}"


def hosts_text(current: str, nodes: Sequence[LinuxNode]) -> str:
    """current /etc/hosts with aksnet's block of cluster nodes replaced (or appended)."""
    block = [HOSTS_BEGIN, *(f"{n.address} {n.name}" for n in nodes), HOSTS_END]
    lines = current.splitlines()
    if HOSTS_BEGIN in lines and HOSTS_END in lines:
        start, end = lines.index(HOSTS_BEGIN), lines.index(HOSTS_END)
        lines[start : end + 1] = block
    else:
        lines += block
    return "\n".join(lines) + "\n"


def ca_cert_hash(pem: bytes) -> str:
    """kubeadm's discovery hash: sha256 of the CA certificate's SubjectPublicKeyInfo."""
    public_key = x509.load_pem_x509_certificate(pem).public_key()
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(spki).hexdigest()


# Actions for one node


class NodeSetup:
    """The facts and actions of one node, all through ctx (facts re-read, mutations gated)."""

    def __init__(self, ctx: RunContext, node: LinuxNode) -> None:
        self.ctx, self.node, self.host, self.shell = ctx, node, node.name, node.shell

    def prepare(self, plugin: Plugin, cluster: Sequence[LinuxNode]) -> None:
        """Everything before kubeadm, in the order a node needs it."""
        self.hosts(cluster)  # first: sudo resolves the new host name, and must find it here
        self.hostname()
        self.kernel_modules(plugin)
        self.sysctls(plugin)
        self.firewall(plugin)
        self.ensure_file(CONTAINERD_FILE, CONTAINERD_CONFIG.encode(), 0o644)
        for path in DIRECTORIES:
            self.directory(path)

    def ensure_file(self, path: str, data: bytes, mode: int, secrets: Sequence[str] = ()) -> bool:
        """Install the file unless it holds data with mode already; True when it was (planned)."""
        fact, wanted = FileState(self.shell, path), file_state(data, mode)
        current = self.ctx.fact(self.host, fact)
        if current == wanted:
            return False
        self.ctx.wet(
            self.host,
            f"write {path} (mode {mode:o}) on {self.host}",
            lambda: install_file(self.shell, data, path, mode),
            _predict(self.host, fact, wanted),
            kind="create" if current is None else "change",
            secrets=secrets,
        )
        return True

    def hostname(self) -> None:
        self.ensure_file("/etc/hostname", f"{self.node.name}\n".encode(), 0o644)
        fact = KernelHostname(self.shell)
        if self.ctx.fact(self.host, fact) != self.node.name:
            self.ctx.wet(
                self.host,
                f"set the host name of {self.host} to {self.node.name}",
                lambda: sudo(self.shell, "hostname", self.node.name),
                _predict(self.host, fact, self.node.name),
            )

    def hosts(self, cluster: Sequence[LinuxNode]) -> None:
        fact = TextFile(self.shell, "/etc/hosts")
        current = self.ctx.fact(self.host, fact) or ""
        wanted = hosts_text(current, cluster)
        if current != wanted:
            self.ctx.wet(
                self.host,
                f"write the cluster nodes into /etc/hosts on {self.host}",
                lambda: install_file(self.shell, wanted.encode(), "/etc/hosts", 0o644),
                _predict(self.host, fact, wanted),
            )

    def kernel_modules(self, plugin: Plugin) -> None:
        self.ensure_file(MODULES_FILE, modules_text(plugin).encode(), 0o644)
        for module in plugin.linux.kernel_modules:
            fact = ModuleState(self.shell, module)
            if self.ctx.fact(self.host, fact) is None:
                self.ctx.wet(
                    self.host,
                    f"load kernel module {module} on {self.host}",
                    self._loader(module),
                    _predict(self.host, fact, "loaded"),
                )

    def _loader(self, module: str) -> Callable[[], object]:
        return lambda: sudo(self.shell, "modprobe", module)

    def sysctls(self, plugin: Plugin) -> None:
        self.ensure_file(SYSCTL_FILE, sysctl_text(plugin).encode(), 0o644)
        facts = {SysctlValue(self.shell, k): v for k, v in plugin.linux.sysctls}
        if all(self.ctx.fact(self.host, f) == v for f, v in facts.items()):
            return

        def predict(forecast: Forecast) -> None:
            for fact, value in facts.items():
                forecast.set(self.host, fact, value)

        self.ctx.wet(
            self.host,
            f"apply {SYSCTL_FILE} (sysctl -p) on {self.host}",
            lambda: sudo(self.shell, "sysctl", "-q", "-p", SYSCTL_FILE),
            predict,
        )

    def firewall(self, plugin: Plugin) -> None:
        self.ensure_file(NFT_FILE, nft_text(plugin).encode(), 0o644)
        fact = NftRuleComments(self.shell)
        wanted = tuple(nft_comment(p, n) for p, n in firewall_ports(plugin))
        if self.ctx.fact(self.host, fact) != wanted:
            self.ctx.wet(
                self.host,
                f"load nftables table {' '.join(NFT_TABLE)} from {NFT_FILE} on {self.host}",
                lambda: sudo(self.shell, "nft", "-f", NFT_FILE),
                _predict(self.host, fact, wanted),
            )

    def directory(self, path: str) -> None:
        fact = DirectoryState(self.shell, path)
        if self.ctx.fact(self.host, fact) is None:
            self.ctx.wet(
                self.host,
                f"create directory {path} on {self.host}",
                lambda: sudo(self.shell, "install", "-d", "-m", "0755", path),
                _predict(self.host, fact, "755 root"),
                kind="create",
            )

    def kubeadm(self, config: KubeadmConfig, secrets: Sequence[str]) -> None:
        """Write the configuration (0600, holds the token) and run kubeadm init or join."""
        joined = Exists(self.shell, KUBELET_KUBECONFIG)
        if self.ctx.fact(self.host, joined) is not None:
            return
        self.ensure_file(KUBEADM_FILE, config.reveal().encode(), 0o600, secrets)
        verb = "init" if self.node.role == "init" else "join"
        argv = ("kubeadm", verb, "--config", KUBEADM_FILE)
        self.ctx.wet(
            self.host,
            f"{' '.join(argv)} on {self.host}",
            lambda: _run_masked(self.shell, argv, secrets),
            _predict(self.host, joined, "yes"),
            kind="run",
            secrets=secrets,
        )

    def ca_cert_hashes(self) -> tuple[str, ...]:
        """The cluster CA's hash from this (initialised) node; a placeholder in a dry run."""
        pem = self.ctx.fact(self.host, TextFile(self.shell, CA_CERT))
        if pem is None and self.ctx.dry_run:
            return (PLACEHOLDER_CA_HASH,)
        if pem is None:
            raise RemoteCommandFailed(
                self.host, f"read {CA_CERT}", stderr=f"kubeadm init left no {CA_CERT}"
            )
        return (ca_cert_hash(pem.encode()),)


def _predict(host: str, fact: Fact[object], value: object) -> Callable[[Forecast], None]:
    return lambda forecast: forecast.set(host, fact, value)


def _run_masked(shell: NodeShell, argv: Sequence[str], secrets: Sequence[str]) -> None:
    """Run as root; a failure's output (kubeadm prints join commands) is shown masked."""
    try:
        sudo(shell, *argv)
    except RemoteCommandFailed as error:
        raise RemoteCommandFailed(
            error.host,
            error.command,
            exit_status=error.exit_status,
            stdout=masked(error.stdout, secrets),
            stderr=masked(error.stderr, secrets),
        ) from None


# The phase


class LinuxNodeSetup:
    """Prepares every Linux node in parallel, runs kubeadm init on the first control-plane
    node, then kubeadm join on the others in parallel."""

    title = "Set up Linux nodes"

    def __init__(
        self,
        nodes: Sequence[LinuxNode],
        plugin: Plugin,
        configs: KubeadmConfigs,
        *,
        secrets: Sequence[Secret] = (),
    ) -> None:
        _check_nodes(nodes)
        self.nodes, self.plugin, self.configs = tuple(nodes), plugin, configs
        self._secrets = tuple(s.reveal() for s in secrets)

    def prepare(self, ctx: RunContext) -> bool:
        return bool(self.nodes)

    def run(self, ctx: RunContext) -> None:
        ctx.each_host([HostWork(n.name, self._preparer(ctx, n)) for n in self.nodes])
        first = next(n for n in self.nodes if n.role == "init")
        init = NodeSetup(ctx, first)
        init.kubeadm(self.configs(first, ()), self._secrets)
        others = [n for n in self.nodes if n is not first]
        if others:
            hashes = init.ca_cert_hashes()
            ctx.each_host([HostWork(n.name, self._joiner(ctx, n, hashes)) for n in others])

    def _preparer(self, ctx: RunContext, node: LinuxNode) -> Callable[[], None]:
        return lambda: NodeSetup(ctx, node).prepare(self.plugin, self.nodes)

    def _joiner(
        self, ctx: RunContext, node: LinuxNode, hashes: Sequence[str]
    ) -> Callable[[], None]:
        def join() -> None:
            setup = NodeSetup(ctx, node)
            if ctx.fact(node.name, Exists(node.shell, KUBELET_KUBECONFIG)) is None:
                setup.kubeadm(self.configs(node, hashes), self._secrets)

        return join


def _check_nodes(nodes: Sequence[LinuxNode]) -> None:
    inits = [n.name for n in nodes if n.role == "init"]
    if nodes and len(inits) != 1:
        raise InvalidInput(
            "nodes", inits, "exactly one node must have the role 'init' (the first control plane)."
        )
    names = [n.name for n in nodes]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInput("nodes", duplicates, "node names must be unique.")
    for node in nodes:
        try:
            ipaddress.IPv4Address(node.address)
        except ValueError:
            raise InvalidInput("address", node.address, "it must be an IPv4 address.") from None
