"""Windows nodes joining the cluster, then set up with the pod subnet Kubernetes gave them.

"Join Windows nodes" (over PSRP, per node in parallel): each node's fact "joined"
(``C:\\k\\kubelet.conf`` exists) is read, all nodes at once; for the nodes not joined, the join
token is checked on the first control plane (aksnet.infra.linuxnode.JoinSecrets: created again
when it expired, as a run resumed hours later needs); then the node's JoinConfiguration
(kubeadm.k8s.io/v1beta3, rendered by aksnet.infra.manifests like a Linux join, pinned to the CA
of the first control plane) is written to ``C:\\k\\kubeadm-join.yaml`` with aksnet.remote.psfiles,
and behind its Move-Item, in the same round trip,

    Start-Process -FilePath C:\\k\\kubeadm.exe -ArgumentList join,--config,C:\\k\\kubeadm-join.yaml
        -Wait -NoNewWindow -PassThru -RedirectStandardOutput ... -RedirectStandardError ...
    Remove-Item -LiteralPath C:\\k\\kubeadm-join.yaml -Force

as typed cmdlets (the token is in the file, never on a command line); the returned process
object's ExitCode is checked, and a failure reports kubeadm's standard error with the secrets
masked. The join file holds the token, so it is deleted whatever the outcome. Round trips per
node: 1 (joined) + 2 (the folder and the file; the join); 1 for a node already joined.

"Set up Windows nodes": the pod CIDRs Kubernetes gave the nodes are read through the first
control plane in one command (``kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o
json`` over SSH) and each becomes WindowsNodeSpec.pod_subnet for
aksnet.infra.windowsnode.WindowsNodeSetup. A dry run that plans the join cannot know the CIDR
yet: it lists one entry per such node instead.
"""

from __future__ import annotations

import json
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
class PodCidrsFact:
    """The podCIDR of every node of the cluster, read through a control plane in one command
    (``kubectl get nodes -o json``): node name (lower case) -> podCIDR; a node without one is
    left out."""

    shell: NodeShell = field(compare=False)

    @property
    def key(self) -> str:
        return "k8s.node-pod-cidrs"

    def read(self, host: str) -> dict[str, str]:
        argv = ("kubectl", "--kubeconfig", ADMIN_KUBECONFIG, "get", "nodes", "-o", "json")
        listing = json.loads(sudo(self.shell, *argv).text)
        found: dict[str, str] = {}
        for item in listing.get("items") or []:
            name = str((item.get("metadata") or {}).get("name", ""))
            cidr = (item.get("spec") or {}).get("podCIDR")
            if name and cidr:
                found[name.lower()] = str(cidr)
        return found


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
    """Write the JoinConfiguration, run kubeadm.exe join, check its exit code: two round trips
    (the folder and the file; then Move-Item, the join and the file's removal). The file holds
    the token, so a join that did not get as far as removing it removes it (and its temporary
    copy) in one more round trip."""
    folder = Cmdlet.of("New-Item", ItemType="Directory", Path=K_DIR, Force=True)
    try:
        output = psfiles.put(
            session,
            config.reveal().encode(),
            JOIN_CONFIG,
            before=[folder],
            after=[join_statement(), Cmdlet.of("Remove-Item", LiteralPath=JOIN_CONFIG, Force=True)],
        )
    except BaseException as error:
        _remove_join_files(session, error)
        raise
    code = _exit_code(output)
    if code != 0:
        stderr = psfiles.get(session, JOIN_STDERR).decode("utf-8", "replace")
        raise RemoteCommandFailed(
            session.host,
            f"{KUBEADM_EXE} join --config {JOIN_CONFIG}",
            exit_status=code,
            stderr=masked(stderr, secrets),
        )


def _remove_join_files(session: PowerShellSession, error: BaseException) -> None:
    """Remove the join file and its temporary copy (they hold the token) after a failed join;
    a failure to do so is noted on the join's error, which stays the one raised."""
    leftovers = [JOIN_CONFIG, JOIN_CONFIG + psfiles.TEMP_SUFFIX]
    try:
        session.invoke(
            Cmdlet.of(
                "Remove-Item", LiteralPath=leftovers, Force=True, ErrorAction="SilentlyContinue"
            )
        )
    except Exception as cleanup:  # the node may be gone: that is likely why the join failed
        error.add_note(f"removing {JOIN_CONFIG} also failed: {type(cleanup).__name__}")


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
        # Each node's own round trip, all nodes at once.
        joined = ctx.each_host([HostWork(n.name, partial(_joined, ctx, n)) for n in self.nodes])
        pending = [n for n, done in zip(self.nodes, joined, strict=True) if not done]
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


def _joined(ctx: RunContext, node: WindowsNode) -> bool:
    return ctx.fact(node.name, PathExistsFact(node.session, KUBELET_CONF)) is not None


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
        cidrs = self._pod_cidrs(ctx)
        for node in self.nodes:
            cidr = cidrs.get(node.name.lower())
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

    def _pod_cidrs(self, ctx: RunContext) -> dict[str, str]:
        """Every node's pod CIDR, in one command on the first control plane."""
        return ctx.fact(self.first.name, PodCidrsFact(self.first.shell)) or {}


def _never() -> None:
    raise AssertionError("a deferred plan entry is only ever planned, never done")
