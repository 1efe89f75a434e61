"""Windows nodes joining the cluster, then set up with the pod subnet Kubernetes gave them.

"Join Windows nodes" (over PSRP, per node in parallel): the join token is checked on the first
control plane first (aksnet.infra.linuxnode.JoinSecrets: created again when it expired, as a run
resumed hours later needs); then, unless ``C:\\k\\kubelet.conf`` exists
(the fact "joined"), write the node's JoinConfiguration (kubeadm.k8s.io/v1beta3, rendered by
aksnet.infra.manifests like a Linux join, pinned to the CA of the first control plane) to
``C:\\k\\kubeadm-join.yaml`` with aksnet.remote.psfiles, then run

    Start-Process -FilePath C:\\k\\kubeadm.exe -ArgumentList join,--config,C:\\k\\kubeadm-join.yaml
        -Wait -NoNewWindow -PassThru -RedirectStandardOutput ... -RedirectStandardError ...

as one typed cmdlet (the token is in the file, never on a command line) and read the returned
process object's ExitCode; a failure reports kubeadm's standard error with the secrets masked.
The join file holds the token, so it is deleted afterwards, whatever the outcome.

"Set up Windows nodes": each node's pod CIDR is read through the first control plane
(``kubectl --kubeconfig /etc/kubernetes/admin.conf get node <name> -o
jsonpath={.spec.podCIDR}`` over SSH) and becomes WindowsNodeSpec.pod_subnet for
aksnet.infra.windowsnode.WindowsNodeSetup. A dry run that plans the join cannot know the CIDR
yet: it lists one entry per such node instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aksnet.errors import RemoteCommandFailed, StateConflict
from aksnet.infra.jointoken import JoinToken
from aksnet.infra.linuxfacts import NodeShell, sudo
from aksnet.infra.linuxnode import JoinSecrets, LinuxNode, NodeSetup
from aksnet.infra.manifests import KubeadmConfig
from aksnet.infra.windowsnode import WindowsNodeSetup, WindowsNodeSpec
from aksnet.network.plugins import Plugin
from aksnet.plan.actions import masked
from aksnet.plan.facts import Forecast
from aksnet.plan.parallel import HostWork
from aksnet.plan.runner import RunContext
from aksnet.remote import psfiles
from aksnet.remote.base import Cmdlet, PowerShellSession

log = logging.getLogger(__name__)

K_DIR = "C:\\k"
KUBEADM_EXE = K_DIR + "\\kubeadm.exe"
JOIN_CONFIG = K_DIR + "\\kubeadm-join.yaml"
JOIN_STDOUT = K_DIR + "\\kubeadm-join.out"
JOIN_STDERR = K_DIR + "\\kubeadm-join.err"
KUBELET_CONF = K_DIR + "\\kubelet.conf"
ADMIN_KUBECONFIG = "/etc/kubernetes/admin.conf"


@dataclass(frozen=True)
class WindowsNode:
    """A Windows node to join and set up: its Kubernetes name (its VM name) and session."""

    name: str
    address: str | None
    session: PowerShellSession = field(compare=False, repr=False)


# What renders a Windows node's JoinConfiguration once the cluster CA's hashes are known.
JoinConfigs = Callable[[WindowsNode, Sequence[str]], KubeadmConfig]


@dataclass(frozen=True)
class PathExistsFact:
    """True when the path exists on the Windows node, None when it does not."""

    session: PowerShellSession = field(compare=False)
    path: str

    @property
    def key(self) -> str:
        return f"windows.path-exists:{self.path.lower()}"

    def read(self, host: str) -> bool | None:
        found = self.session.invoke(Cmdlet.of("Test-Path", LiteralPath=self.path))
        return True if found and found[0] is True else None


@dataclass(frozen=True)
class PodCidrFact:
    """The podCIDR Kubernetes gave the node, read through a control plane; None when the node
    is unknown or has none yet."""

    shell: NodeShell = field(compare=False)
    node: str

    @property
    def key(self) -> str:
        return f"k8s.node-pod-cidr:{self.node.lower()}"

    def read(self, host: str) -> str | None:
        argv = ("kubectl", "--kubeconfig", ADMIN_KUBECONFIG, "get", "node", self.node)
        done = sudo(self.shell, *argv, "-o", "jsonpath={.spec.podCIDR}", check=False)
        stderr = done.stderr.decode("utf-8", "replace")
        if done.exit_status != 0:
            if "NotFound" in stderr:
                return None
            raise RemoteCommandFailed(
                host, " ".join(argv), exit_status=done.exit_status, stderr=stderr
            )
        return done.text.strip() or None


def join_statement() -> Cmdlet:
    """kubeadm.exe join as Start-Process with named parameters only."""
    return Cmdlet.of(
        "Start-Process",
        FilePath=KUBEADM_EXE,
        ArgumentList=["join", "--config", JOIN_CONFIG],
        Wait=True,
        NoNewWindow=True,
        PassThru=True,
        RedirectStandardOutput=JOIN_STDOUT,
        RedirectStandardError=JOIN_STDERR,
    )


def join_node(session: PowerShellSession, config: KubeadmConfig, secrets: Sequence[str]) -> None:
    """Write the JoinConfiguration, run kubeadm.exe join, check its exit code; the file holding
    the token is removed afterwards."""
    session.invoke(Cmdlet.of("New-Item", ItemType="Directory", Path=K_DIR, Force=True))
    psfiles.put(session, config.reveal().encode(), JOIN_CONFIG)
    try:
        output = session.invoke(join_statement())
        code = _exit_code(output)
        if code != 0:
            stderr = psfiles.get(session, JOIN_STDERR).decode("utf-8", "replace")
            raise RemoteCommandFailed(
                session.host,
                f"{KUBEADM_EXE} join --config {JOIN_CONFIG}",
                exit_status=code,
                stderr=masked(stderr, secrets),
            )
    finally:
        session.invoke(Cmdlet.of("Remove-Item", LiteralPath=JOIN_CONFIG, Force=True))


def _exit_code(output: Sequence[Any]) -> int | None:
    for item in output:
        if isinstance(item, dict) and "ExitCode" in item:
            return None if item["ExitCode"] is None else int(item["ExitCode"])
    return None


class JoinWindowsNodes:
    """kubeadm.exe join on every Windows node not joined yet, in parallel."""

    title = "Join Windows nodes"

    def __init__(
        self,
        nodes: Sequence[WindowsNode],
        first: LinuxNode,
        configs: JoinConfigs,
        token: JoinToken,
    ) -> None:
        self.nodes, self.first, self.configs = list(nodes), first, configs
        self.token = token
        self._secrets = (token.reveal(),)

    def prepare(self, ctx: RunContext) -> bool:
        return bool(self.nodes)

    def run(self, ctx: RunContext) -> None:
        pending = [
            n
            for n in self.nodes
            if ctx.fact(n.name, PathExistsFact(n.session, KUBELET_CONF)) is None
        ]
        if not pending:
            return
        JoinSecrets(ctx, self.first, self.token, None, self._secrets).ensure_token()
        hashes = NodeSetup(ctx, self.first).ca_cert_hashes()  # joins pin the cluster CA
        ctx.each_host([HostWork(n.name, partial(self._join, ctx, n, hashes)) for n in pending])

    def _join(self, ctx: RunContext, node: WindowsNode, hashes: Sequence[str]) -> None:
        config = self.configs(node, hashes)
        joined = PathExistsFact(node.session, KUBELET_CONF)

        def predict(forecast: Forecast) -> None:
            forecast.set(node.name, joined, True)

        log.debug("joining Windows node %s", node.name)
        ctx.wet(
            node.name,
            f"kubeadm.exe join --config {JOIN_CONFIG} on {node.name}",
            partial(join_node, node.session, config, self._secrets),
            predict,
            kind="run",
            secrets=self._secrets,
        )


class SetUpWindowsNodes:
    """WindowsNodeSetup for every joined Windows node, with the pod CIDR Kubernetes gave it."""

    title = WindowsNodeSetup.title

    def __init__(
        self,
        plugin: Plugin,
        nodes: Sequence[WindowsNode],
        first: LinuxNode,
        cluster_cidr: str,
        *,
        network_timeout: float = 60.0,
    ) -> None:
        self.plugin, self.nodes, self.first = plugin, list(nodes), first
        self.cluster_cidr, self.network_timeout = cluster_cidr, network_timeout

    def prepare(self, ctx: RunContext) -> bool:
        return bool(self.nodes)

    def run(self, ctx: RunContext) -> None:
        specs: list[WindowsNodeSpec] = []
        for node in self.nodes:
            cidr = ctx.fact(self.first.name, PodCidrFact(self.first.shell, node.name))
            if cidr is not None:
                specs.append(WindowsNodeSpec(node.name, node.session, cidr, self.cluster_cidr))
            elif ctx.dry_run:  # its join is planned, not done: Kubernetes gave it nothing yet
                ctx.wet(node.name, f"{self.title} on {node.name} (once it joined)", _never)
            else:
                raise StateConflict(
                    f"Windows node '{node.name}' has no pod CIDR in the cluster (read through "
                    f"{self.first.name}): did its kubeadm join register it?",
                    target=node.name,
                )
        if specs:
            setup = WindowsNodeSetup(self.plugin, specs, network_timeout=self.network_timeout)
            setup.run(ctx)


def _never() -> None:
    raise AssertionError("a deferred plan entry is only ever planned, never done")
