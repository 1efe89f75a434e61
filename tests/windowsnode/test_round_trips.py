"""Round trips of Windows node setup and join, counted by the lab's WSMan server (one PSRP
pipeline = one Command request, answered by one or more Receive requests: a Receive that arrives
while the pipeline still runs gets its state only, so the Receives follow the timing; the
pipelines do not). Pinned here: a fresh node is set up in 8 pipelines and joined in 3, a node
as wanted costs 1 for each, and one runspace pool serves a node's join and setup."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from aksnet.errors import ProtocolError, RemoteCommandFailed
from aksnet.infra.jointoken import JoinToken
from aksnet.infra.windowsjoin import (
    ADMIN_KUBECONFIG,
    JOIN_CONFIG,
    KUBEADM_EXE,
    JoinWindowsNodes,
    PodCidrsFact,
    WindowsNode,
    join_node,
)
from aksnet.infra.windowsnode import HELPER_PATH, KUBE_PROXY_CONFIG, WindowsNodeSetup
from aksnet.infra.windowsnode import WindowsNodeSpec as Spec
from aksnet.lab import k8sregistry
from aksnet.network.plugins import CALICO, FLANNEL, Plugin
from aksnet.plan import apply, dry_run
from aksnet.remote import psfiles
from aksnet.remote.base import Cmdlet, Completed, PowerShellSession, PSValue, Statement, as_pipeline
from tests.windowsnode.conftest import LabWindowsNode
from tests.windowsnode.test_join import ENDPOINT, FIRST, NAME, config

PLUGINS = [pytest.param(FLANNEL, id="flannel"), pytest.param(CALICO, id="calico")]


class Recording:
    """Forwards to a session and records each round trip's command names."""

    def __init__(self, inner: PowerShellSession) -> None:
        self.inner, self.host = inner, inner.host
        self.steps: list[list[str]] = []

    def invoke(self, *statements: Statement, input: Sequence[PSValue] = ()) -> list[PSValue]:
        self.steps.append([c.name for s in statements for c in as_pipeline(s).commands])
        return self.inner.invoke(*statements, input=input)

    def close(self) -> None:
        self.inner.close()


def setup(plugin: Plugin, session: PowerShellSession) -> WindowsNodeSetup:
    node = Spec("win1", session, "10.244.3.0/24", "10.244.0.0/16")
    return WindowsNodeSetup(plugin, [node], network_timeout=10, poll_interval=0.05)


def pipelines(lab: LabWindowsNode) -> int:
    stats = lab.server.stats
    assert set(stats.by_action) <= {"Command", "Receive"}, stats  # no new shell, no signal
    assert stats.requests == sum(stats.by_action.values())
    return stats.round_trips


@pytest.mark.parametrize("plugin", PLUGINS)
def test_a_fresh_node_is_set_up_in_8_round_trips_and_a_set_up_one_in_1(
    plugin: Plugin, win_node: LabWindowsNode
) -> None:
    session = Recording(win_node.session)
    session.invoke(Cmdlet.of("Test-Path", LiteralPath="C:\\"))  # the pool is open, as in create
    session.steps.clear()
    win_node.server.stats.reset()

    apply([setup(plugin, session)])

    assert pipelines(win_node) == 8
    services = len(plugin.windows.services)
    assert session.steps == [
        ["Get-NetFirewallRule"] * 2
        + ["Get-FileHash", "Get-HnsNetwork", "Get-FileHash"]
        + ["Get-Service"] * services,
        ["New-NetFirewallRule"] * 2,
        ["New-Item", "Set-Content", "Get-FileHash"],  # hns.psm1, verified before it is moved
        ["Move-Item", "Import-Module", "New-HnsNetwork"],  # External
        ["Import-Module", "New-HnsNetwork", "Get-HnsNetwork"],  # the pod network, seen
        ["New-Item", "Set-Content", "Get-FileHash"],  # kube-proxy.conf
        ["Move-Item", "Restart-Service"],
        ["Start-Service"],
    ]
    assert win_node.server.stats.requests >= 16

    win_node.server.stats.reset()
    assert apply([setup(plugin, session)]).changes == []
    assert pipelines(win_node) == 1


def test_a_dry_run_reads_the_node_once(win_node: LabWindowsNode) -> None:
    win_node.session.invoke(Cmdlet.of("Test-Path", LiteralPath="C:\\"))
    win_node.server.stats.reset()

    planned = dry_run([setup(FLANNEL, win_node.session)])

    assert len(planned.changes) == 5
    assert pipelines(win_node) == 1


def test_after_a_reboot_the_repair_takes_4_round_trips(win_node: LabWindowsNode) -> None:
    session = Recording(win_node.session)
    apply([setup(CALICO, session)])
    win_node.node.reboot()  # networks and imported modules gone; automatic services run
    session.steps.clear()
    win_node.server.stats.reset()

    apply([setup(CALICO, session)])

    assert pipelines(win_node) == 4
    assert [step[-1] for step in session.steps] == [
        "Get-Service",  # the facts
        "New-HnsNetwork",  # External: the helper module is still there
        "Get-HnsNetwork",  # Calico, and what the wait looks at
        "Restart-Service",  # kube-proxy: its network was recreated
    ]


def test_a_changed_helper_module_alone_is_shipped_in_2_round_trips(
    win_node: LabWindowsNode,
) -> None:
    apply([setup(FLANNEL, win_node.session)])
    win_node.node.fs.real(HELPER_PATH).write_bytes(b"# an older helper\n")
    win_node.server.stats.reset()

    result = apply([setup(FLANNEL, win_node.session)])

    assert [r.title for r in result.changes] == [
        f"Copy the HNS helper module to {HELPER_PATH} on win1"
    ]
    assert pipelines(win_node) == 3  # the facts, then the file in two
    assert [n.name for n in win_node.node.networks] == ["External", "flannel.4096"]


def test_the_services_decision_uses_the_status_restart_service_reported(
    win_node: LabWindowsNode,
) -> None:
    """kube-proxy, stopped when the facts were read, is not started again after its restart."""
    session = Recording(win_node.session)
    apply([setup(FLANNEL, session)])
    win_node.node.fs.real(KUBE_PROXY_CONFIG).write_bytes(b"{}\n")
    win_node.node.services["kube-proxy"].status = "Stopped"
    session.steps.clear()

    result = apply([setup(FLANNEL, session)])

    assert [r.title.split(" (")[0] for r in result.changes] == [f"Write {KUBE_PROXY_CONFIG}"]
    assert win_node.node.services["kube-proxy"].status == "Running"
    assert not any("Start-Service" in step for step in session.steps)


@pytest.fixture
def joinable(win_node: LabWindowsNode, tmp_path: Path) -> LabWindowsNode:
    win_node.node.lab_dir = tmp_path
    exe = win_node.node.fs.real(KUBEADM_EXE)
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_bytes(b"EMULATED")
    k8sregistry.init_cluster(tmp_path, ENDPOINT, "10.244.0.0/16", "10.96.0.0/12")
    return win_node


def test_a_join_takes_2_round_trips_and_a_joined_node_1(joinable: LabWindowsNode) -> None:
    session = Recording(joinable.session)
    token = JoinToken.generate()

    join_node(session, config(token, "win1"), [token.reveal()])

    assert session.steps == [
        ["New-Item", "Set-Content", "Get-FileHash"],
        ["Move-Item", "Start-Process", "Remove-Item"],
    ]
    assert joinable.server.stats.by_action["Create"] == 1  # one runspace pool for the node
    joinable.server.stats.reset()
    phase = JoinWindowsNodes(
        [WindowsNode("win1", "198.18.0.10", session)], FIRST, lambda n, h: config(token), token
    )
    assert apply([phase]).records == []
    apply([setup(FLANNEL, session)])
    assert pipelines(joinable) == 1 + 8  # the same pool: no new shell


class TamperedHash:
    """Forwards to a session but reports a wrong SHA-256 for the temporary file of a put."""

    def __init__(self, inner: PowerShellSession) -> None:
        self.inner, self.host = inner, inner.host

    def invoke(self, *statements: Statement, input: Sequence[PSValue] = ()) -> list[PSValue]:
        output = self.inner.invoke(*statements, input=input)
        return [_tampered(o) for o in output]

    def close(self) -> None:
        self.inner.close()


def _tampered(obj: Any) -> Any:
    if isinstance(obj, dict) and str(obj.get("Path", "")).endswith(psfiles.TEMP_SUFFIX):
        return {**obj, "Hash": "0" * 64}
    return obj


def test_a_put_runs_its_after_statements_only_once_the_file_is_verified(
    win_node: LabWindowsNode,
) -> None:
    path = "C:\\ProgramData\\AksNet\\x.conf"
    folder = Cmdlet.of("New-Item", Path="C:\\ProgramData\\AksNet", ItemType="Directory", Force=True)
    restart = Cmdlet.of("Restart-Service", Name=["kube-proxy"], PassThru=True)

    with pytest.raises(ProtocolError, match="checksum mismatch"):
        psfiles.put(TamperedHash(win_node.session), b"a", path, before=[folder], after=[restart])
    assert win_node.node.services["kube-proxy"].status == "Stopped"
    assert not win_node.node.fs.real(path).exists()

    output = psfiles.put(win_node.session, b"b", path, before=[folder], after=[restart])
    assert [o["Status"] for o in output] == ["Running"]
    assert win_node.node.fs.real(path).read_bytes() == b"b"


class ListingShell:
    """The first control plane's shell answering `kubectl get nodes -o json` with a listing."""

    def __init__(self, listing: str) -> None:
        self.listing = listing
        self.argvs: list[list[str]] = []

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> Completed:
        self.argvs.append(list(argv))
        return Completed(tuple(argv), 0, self.listing.encode())

    def put(self, data: bytes, remote_path: str, *, mode: int = 0o644) -> None:
        raise AssertionError("reading pod CIDRs writes nothing")


def test_pod_cidrs_of_every_node_are_read_in_one_command() -> None:
    items = [
        {"metadata": {"name": "C1-Win-0"}, "spec": {"podCIDR": "10.244.3.0/24"}},
        {"metadata": {"name": "c1-win-1"}, "spec": {}},  # no CIDR yet
    ]
    shell = ListingShell(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))

    found = PodCidrsFact(shell).read(NAME)

    assert found == {"c1-win-0": "10.244.3.0/24"}
    kubectl = ["kubectl", "--kubeconfig", ADMIN_KUBECONFIG, "get", "nodes", "-o", "json"]
    assert shell.argvs == [["sudo", "-n", *kubectl]]


def test_a_join_that_cannot_start_removes_the_token_file(win_node: LabWindowsNode) -> None:
    """No kubeadm.exe on the node: Start-Process stops the pipeline before its Remove-Item, so
    the join removes the file holding the token in one more round trip."""
    session = Recording(win_node.session)
    token = JoinToken.generate()

    with pytest.raises(RemoteCommandFailed) as raised:
        join_node(session, config(token, "win1"), [token.reveal()])

    assert token.reveal() not in str(raised.value)
    assert session.steps[1] == ["Move-Item", "Start-Process", "Remove-Item"]
    assert session.steps[2:] == [["Remove-Item"]]
    for path in (JOIN_CONFIG, JOIN_CONFIG + psfiles.TEMP_SUFFIX):
        assert not win_node.node.fs.real(path).exists(), path
