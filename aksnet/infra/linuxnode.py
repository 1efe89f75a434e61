"""Linux node setup over SSH: facts read from the node, idempotent actions, one Phase.

Each node is prepared over its one ShellSession (SSH) as a user with passwordless sudo: host
name and /etc/hosts, the plugin's kernel modules and sysctls, an nftables table `inet aksnet`
with the ports the node and the plugin need, containerd (SystemdCgroup) and the kubelet and CNI
directories; then `kubeadm init --config` on the first control-plane node and `kubeadm join
--config` on the others. Every decision reads a fact first, so a second run changes nothing.

A fresh node takes a handful of commands: its facts (the kubeadm step's too) are read in one
round trip, a configuration file and the command that applies it (sysctl -p, nft -f, modprobe,
hostname) are one action and one command, the missing directories one `install -d`; a second
run sends the one read. Facts and root helpers are in aksnet.infra.linuxfacts (file content
travels on stdin, never in argv, and is compared by sha256), file contents in
aksnet.infra.linuxconf. Nothing here knows about the lab: a lab node brings its own emulated
kubeadm on sudo's PATH.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aksnet.errors import InvalidInput, RemoteCommandFailed, StateConflict
from aksnet.infra.jointoken import (
    TOKEN_RENEWAL_TTL,
    CertificateKey,
    JoinToken,
    Secret,
    TokenInfo,
    certificate_upload_reason,
    renewed_token,
    token_renewal_reason,
    uploaded_certificates,
)
from aksnet.infra.linuxconf import (
    CA_CERT,
    CONTAINERD_CONFIG,
    CONTAINERD_FILE,
    DIRECTORIES,
    HOSTNAME_FILE,
    HOSTS_FILE,
    KUBEADM_FILE,
    KUBELET_KUBECONFIG,
    MODULES_FILE,
    NFT_FILE,
    NFT_TABLE,
    PLACEHOLDER_CA_HASH,
    SYSCTL_FILE,
    ca_cert_hash,
    firewall_ports,
    hosts_text,
    modules_text,
    nft_comment,
    nft_text,
    sysctl_text,
)
from aksnet.infra.linuxfacts import (
    BootstrapTokens,
    DirectoryState,
    Exists,
    FileState,
    KernelHostname,
    ModuleState,
    NftRuleComments,
    NodeShell,
    ShellFact,
    SysctlValue,
    TextFile,
    file_state,
    install_file,
    read_together,
    sudo,
)
from aksnet.infra.manifests import KubeadmConfig, KubeadmNode, NodeRole, render_kubeadm_config
from aksnet.model.cluster import ClusterSpec
from aksnet.network.plugins import Plugin
from aksnet.plan.actions import Simulate, masked
from aksnet.plan.facts import Fact, Forecast
from aksnet.plan.parallel import HostWork
from aksnet.plan.runner import FactValues, RunContext

log = logging.getLogger(__name__)


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


# Actions for one node


class NodeSetup:
    """The facts and actions of one node, all through ctx (facts re-read, mutations gated)."""

    def __init__(self, ctx: RunContext, node: LinuxNode) -> None:
        self.ctx, self.node, self.host, self.shell = ctx, node, node.name, node.shell

    def read(self, facts: Sequence[ShellFact[Any]]) -> FactValues:
        """Read facts of this node now, in one round trip (see RunContext.facts)."""
        return self.ctx.facts(self.host, facts, read_together)

    def prepare(
        self, plugin: Plugin, cluster: Sequence[LinuxNode], also: Sequence[ShellFact[Any]] = ()
    ) -> FactValues:
        """Everything before kubeadm, in the order a node needs it; returns the facts it read,
        with `also`: facts the caller reads in the same round trip (none of its actions may
        change them).

        Every fact it decides on is read first, in one round trip. That is sound because no
        decision here depends on another's effect: each action changes only what its own
        decision read (the /etc/hosts text, /etc/hostname's state, the kernel's host name, the
        modules' state, the live sysctls, the nftables table, each file's own state, the
        directories' state), and no file written here is in or above one of DIRECTORIES.
        """
        known = self.read([*self._prepare_facts(plugin), *also])
        self.hosts(cluster, known)  # first: sudo resolves the new host name, and must find it
        self.hostname(known)
        self.kernel_modules(plugin, known)
        self.sysctls(plugin, known)
        self.firewall(plugin, known)
        self.ensure_file(CONTAINERD_FILE, CONTAINERD_CONFIG.encode(), 0o644, known=known)
        self.directories(DIRECTORIES, known)
        return known

    def _prepare_facts(self, plugin: Plugin) -> list[ShellFact[Any]]:
        shell = self.shell
        files = (HOSTNAME_FILE, MODULES_FILE, SYSCTL_FILE, NFT_FILE, CONTAINERD_FILE)
        return [
            TextFile(shell, HOSTS_FILE),
            KernelHostname(shell),
            NftRuleComments(shell),
            *(FileState(shell, path) for path in files),
            *(ModuleState(shell, module) for module in plugin.linux.kernel_modules),
            *(SysctlValue(shell, name) for name, _ in plugin.linux.sysctls),
            *(DirectoryState(shell, path) for path in DIRECTORIES),
        ]

    def ensure_file(
        self,
        path: str,
        data: bytes,
        mode: int,
        secrets: Sequence[str] = (),
        *,
        known: FactValues | None = None,
    ) -> bool:
        """Install the file unless it holds data with mode already; True when it was (planned)."""
        fact, wanted = FileState(self.shell, path), file_state(data, mode)
        current = self.ctx.fact(self.host, fact, known)
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

    def hosts(self, cluster: Sequence[LinuxNode], known: FactValues | None = None) -> None:
        fact = TextFile(self.shell, HOSTS_FILE)
        current = self.ctx.fact(self.host, fact, known) or ""
        wanted = hosts_text(current, [(n.address, n.name) for n in cluster])
        if current != wanted:
            self.ctx.wet(
                self.host,
                f"write the cluster nodes into {HOSTS_FILE} on {self.host}",
                lambda: install_file(self.shell, wanted.encode(), HOSTS_FILE, 0o644),
                _predict(self.host, fact, wanted),
            )

    def configure(
        self,
        path: str,
        data: bytes,
        known: FactValues | None,
        *,
        apply: Sequence[str] | None,
        title: str,
        predict: Simulate,
    ) -> None:
        """A configuration file (mode 644) and the root command that applies it: the file is
        written unless it holds data; the command runs when `apply` is given (what the node
        runs differs from the file; None: it does not). Both needed: one action and one command
        that writes the file, then applies it."""
        if apply is None:
            self.ensure_file(path, data, 0o644, known=known)
            return
        command = apply
        fact, wanted = FileState(self.shell, path), file_state(data, 0o644)
        current = self.ctx.fact(self.host, fact, known)
        if current == wanted:
            self.ctx.wet(self.host, title, lambda: sudo(self.shell, *command), predict)
            return

        def both(forecast: Forecast) -> None:
            forecast.set(self.host, fact, wanted)
            predict(forecast)

        self.ctx.wet(
            self.host,
            f"write {path} (mode 644) and {title}",
            lambda: install_file(self.shell, data, path, 0o644, then=command),
            both,
            kind="create" if current is None else "change",
        )

    def hostname(self, known: FactValues | None = None) -> None:
        fact, name = KernelHostname(self.shell), self.node.name
        self.configure(
            HOSTNAME_FILE,
            f"{name}\n".encode(),
            known,
            apply=None if self.ctx.fact(self.host, fact, known) == name else ("hostname", name),
            title=f"set the host name of {self.host} to {name}",
            predict=_predict(self.host, fact, name),
        )

    def kernel_modules(self, plugin: Plugin, known: FactValues | None = None) -> None:
        """The modules' file, and one modprobe of the modules not loaded (none: no action)."""
        facts = [ModuleState(self.shell, module) for module in plugin.linux.kernel_modules]
        missing = [f for f in facts if self.ctx.fact(self.host, f, known) is None]
        names = [f.module for f in missing]

        def predict(forecast: Forecast) -> None:
            for fact in missing:
                forecast.set(self.host, fact, "loaded")

        self.configure(
            MODULES_FILE,
            modules_text(plugin).encode(),
            known,
            apply=("modprobe", "-a", *names) if names else None,
            title=f"load kernel module{'s' if len(names) > 1 else ''} {', '.join(names)} "
            f"on {self.host}",
            predict=predict,
        )

    def sysctls(self, plugin: Plugin, known: FactValues | None = None) -> None:
        facts = {SysctlValue(self.shell, k): v for k, v in plugin.linux.sysctls}
        live = all(self.ctx.fact(self.host, f, known) == v for f, v in facts.items())

        def predict(forecast: Forecast) -> None:
            for fact, value in facts.items():
                forecast.set(self.host, fact, value)

        self.configure(
            SYSCTL_FILE,
            sysctl_text(plugin).encode(),
            known,
            apply=None if live else ("sysctl", "-q", "-p", SYSCTL_FILE),
            title=f"apply {SYSCTL_FILE} (sysctl -p) on {self.host}",
            predict=predict,
        )

    def firewall(self, plugin: Plugin, known: FactValues | None = None) -> None:
        fact = NftRuleComments(self.shell)
        wanted = tuple(nft_comment(p, n) for p, n in firewall_ports(plugin))
        loaded = self.ctx.fact(self.host, fact, known) == wanted
        self.configure(
            NFT_FILE,
            nft_text(plugin).encode(),
            known,
            apply=None if loaded else ("nft", "-f", NFT_FILE),
            title=f"load nftables table {' '.join(NFT_TABLE)} from {NFT_FILE} on {self.host}",
            predict=_predict(self.host, fact, wanted),
        )

    def directories(self, paths: Sequence[str], known: FactValues | None = None) -> None:
        """One `install -d` of the directories that are missing (none: no action)."""
        facts = [DirectoryState(self.shell, path) for path in paths]
        missing = [f for f in facts if self.ctx.fact(self.host, f, known) is None]
        if not missing:
            return
        names = [f.path for f in missing]

        def predict(forecast: Forecast) -> None:
            for fact in missing:
                forecast.set(self.host, fact, "755 root")

        self.ctx.wet(
            self.host,
            f"create director{'ies' if len(names) > 1 else 'y'} {', '.join(names)} on {self.host}",
            lambda: sudo(self.shell, "install", "-d", "-m", "0755", "--", *names),
            predict,
            kind="create",
        )

    def joined(self) -> ShellFact[str]:
        """The fact that kubeadm init or join has run here (kubelet's kubeconfig exists)."""
        return Exists(self.shell, KUBELET_KUBECONFIG)

    def kubeadm_facts(self) -> list[ShellFact[Any]]:
        """What kubeadm() decides on: joined? the configuration file's state?"""
        return [self.joined(), FileState(self.shell, KUBEADM_FILE)]

    def kubeadm(
        self,
        render: Callable[[], KubeadmConfig],
        secrets: Sequence[str],
        known: FactValues | None = None,
    ) -> None:
        """Unless joined: write the configuration (0600, holds the token), kubeadm init/join.

        known: kubeadm_facts() read before (none of the steps since changed this node), else
        they are read now. Writing the configuration does not create kubelet's kubeconfig, so
        both decisions can share one read.
        """
        known = known if known is not None else self.read(self.kubeadm_facts())
        joined = self.joined()
        if known[joined] is not None:
            return
        config = render()
        self.ensure_file(KUBEADM_FILE, config.reveal().encode(), 0o600, secrets, known=known)
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
            raise StateConflict(f"{self.host}: kubeadm init left no {CA_CERT}", target=self.host)
        return (ca_cert_hash(pem.encode()),)


def _predict(host: str, fact: Fact[object], value: object) -> Callable[[Forecast], None]:
    return lambda forecast: forecast.set(host, fact, value)


def _run_masked(
    shell: NodeShell, argv: Sequence[str], secrets: Sequence[str], stdin: str | None = None
) -> None:
    """Run as root; a failure's output (kubeadm prints join commands) is shown masked."""
    try:
        shell.run(["sudo", "-n", *argv], stdin=None if stdin is None else stdin.encode())
    except RemoteCommandFailed as error:
        raise RemoteCommandFailed(
            error.host,
            error.command,
            exit_status=error.exit_status,
            stdout=masked(error.stdout, secrets),
            stderr=masked(error.stderr, secrets),
        ) from None


# Join secrets: a join may come long after init (a run resumed hours after a kill)

# The secret reaches kubeadm through a root shell's stdin, so it is in no argv aksnet sends or
# logs. kubeadm itself takes it as an argument: it is on that node's process list while the
# command runs (a real node's own root processes; kubeadm has no stdin form for these).
_CREATE_TOKEN = (
    'read -r token || exit 2; if [ "$1" = listed ]; then kubeadm token delete "$2" || exit; fi; '
    'exec kubeadm token create "$token" --ttl "$3"'
)
_UPLOAD_CERTS = (
    "read -r key || exit 2; "
    'exec kubeadm init phase upload-certs --upload-certs --certificate-key "$key"'
)
INIT_TOKEN_LIFETIME = timedelta(hours=2)  # manifests.DEFAULT_TOKEN_TTL, what init creates


class JoinSecrets:
    """Before joins, on the first control plane: the join token exists and is valid (created
    again with a 24h TTL otherwise), and for a control-plane join the certificates were uploaded
    less than 2 hours ago (uploaded again with the cluster's certificate key otherwise). Both
    actions are repeatable: time, not the journal, decides whether they are needed."""

    def __init__(
        self,
        ctx: RunContext,
        init: LinuxNode,
        token: JoinToken,
        certificate_key: CertificateKey | None,
        secrets: Sequence[str],
    ) -> None:
        self.ctx, self.init, self.host = ctx, init, init.name
        self.token, self.key, self.secrets = token, certificate_key, secrets
        self.fact = BootstrapTokens(init.shell)

    def ensure(self, control_plane_join: bool) -> None:
        self.ensure_token()
        if control_plane_join and self.key is not None:
            self.ensure_certificates(self.key)

    def ensure_token(self) -> None:
        tokens, now = self._tokens(), _now()
        reason = token_renewal_reason(tokens, self.token, now)
        if reason is None:
            return
        listed = any(t.token_id == self.token.token_id for t in tokens)
        args = ("listed" if listed else "absent", self.token.token_id, TOKEN_RENEWAL_TTL)
        self.ctx.wet(
            self.host,
            f"create bootstrap token {self.token.token_id} on {self.host} "
            f"(kubeadm token create, ttl {TOKEN_RENEWAL_TTL}): {reason}",
            self._root_script(_CREATE_TOKEN, args, self.token.reveal()),
            self._predict(renewed_token(tokens, self.token, now)),
            kind="run",
            secrets=self.secrets,
            repeatable=True,
        )

    def ensure_certificates(self, key: CertificateKey) -> None:
        tokens, now = self._tokens(), _now()
        reason = certificate_upload_reason(tokens, now)
        if reason is None:
            return
        self.ctx.wet(
            self.host,
            f"upload the control-plane certificates on {self.host} "
            f"(kubeadm init phase upload-certs): {reason}",
            self._root_script(_UPLOAD_CERTS, (), key.reveal()),
            self._predict(uploaded_certificates(tokens, now)),
            kind="run",
            secrets=self.secrets,
            repeatable=True,
        )

    def _tokens(self) -> tuple[TokenInfo, ...]:
        return self.ctx.fact(self.host, self.fact) or ()

    def _root_script(self, script: str, args: Sequence[str], secret: str) -> Callable[[], None]:
        argv = ("sh", "-c", script, "sh", *args)
        return lambda: _run_masked(self.init.shell, argv, self.secrets, stdin=f"{secret}\n")

    def _predict(self, tokens: tuple[TokenInfo, ...]) -> Callable[[Forecast], None]:
        return _predict(self.host, self.fact, tokens)


def _now() -> datetime:
    return datetime.now(UTC)


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
        # The join secrets are checked before joins (JoinSecrets) when they are among `secrets`.
        self._token = next((s for s in secrets if isinstance(s, JoinToken)), None)
        self._certificate_key = next((s for s in secrets if isinstance(s, CertificateKey)), None)

    def prepare(self, ctx: RunContext) -> bool:
        return bool(self.nodes)

    def run(self, ctx: RunContext) -> None:
        log.debug("setting up %d Linux node(s) for %s", len(self.nodes), self.plugin.name)
        # Each node's preparation also reads what its kubeadm step decides on (joined? its
        # configuration file?) in the same round trip: nothing before that step changes either
        # (preparation writes neither; init and the join secrets change the first node only,
        # and its own values are predicted by its init in a dry run).
        prepared = ctx.each_host([HostWork(n.name, self._preparer(ctx, n)) for n in self.nodes])
        known = {n.name: values for n, values in zip(self.nodes, prepared, strict=True)}
        first = next(n for n in self.nodes if n.role == "init")
        init = NodeSetup(ctx, first)
        initialised = known[first.name][init.joined()] is not None
        init.kubeadm(lambda: self.configs(first, ()), self._secrets, known[first.name])
        if ctx.dry_run and not initialised and self._token is not None:
            # The planned init creates the token of its configuration; nothing to list yet.
            fresh = (TokenInfo(self._token.token_id, _now() + INIT_TOKEN_LIFETIME),)
            ctx.forecast.set(first.name, BootstrapTokens(first.shell), fresh)
        others = [n for n in self.nodes if n is not first]
        pending = [n for n in others if known[n.name][NodeSetup(ctx, n).joined()] is None]
        if pending and self._token is not None:
            secrets = JoinSecrets(ctx, first, self._token, self._certificate_key, self._secrets)
            secrets.ensure(control_plane_join=any(n.role == "control-plane" for n in pending))
        if pending:
            # Joins pin the CA that init created (kubeadm's caCertHashes).
            hashes = init.ca_cert_hashes()
            ctx.each_host(
                [HostWork(n.name, self._joiner(ctx, n, hashes, known[n.name])) for n in pending]
            )

    def _preparer(self, ctx: RunContext, node: LinuxNode) -> Callable[[], FactValues]:
        def prepare() -> FactValues:
            setup = NodeSetup(ctx, node)
            return setup.prepare(self.plugin, self.nodes, also=setup.kubeadm_facts())

        return prepare

    def _joiner(
        self, ctx: RunContext, node: LinuxNode, hashes: Sequence[str], known: FactValues
    ) -> Callable[[], None]:
        def render() -> KubeadmConfig:
            return self.configs(node, hashes)

        def join() -> None:
            NodeSetup(ctx, node).kubeadm(render, self._secrets, known)

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
