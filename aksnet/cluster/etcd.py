"""A departing control plane leaves the stacked etcd before its VM goes.

kubeadm's stacked etcd has one member per control-plane node. A control plane whose VM is removed
while its member stays is still counted toward the quorum of the members that remain: scale a
3-member etcd to 1 that way and the last member waits for a majority of 3 forever. So, one
departing control plane at a time (aksnet.cluster.scale's "Remove nodes" phase):

1. Read the members (`etcdctl member list -w json`, run in the first control plane's etcd pod
   through `kubectl exec`, with the etcd client certificates kubeadm wrote). A node that is no
   member (already left: a resumed run) needs nothing.
2. If the node answers over SSH, `kubeadm reset --force` on it: its remove-etcd-member phase takes
   its own member out (the way kubeadm's documentation removes a control plane), then its
   cleanup-node phase clears the node. `kubeadm reset phase remove-etcd-member` cannot be run for
   another node: it removes the member of the node it runs on.
3. If the node does not answer (its VM is stopped or broken), its member is removed from a
   survivor: `etcdctl member remove ID` in the first control plane's etcd pod.
4. The members are read again: the VM is removed only once its member is gone (in a what-if the
   forecast stands in for the second read). The first control plane never departs (the count is
   at least 1), so the members never drop below one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from aksnet.cluster.cni import ADMIN_KUBECONFIG
from aksnet.errors import (
    AuthenticationFailed,
    HostUnreachable,
    OperationTimedOut,
    ProtocolError,
    StateConflict,
)
from aksnet.infra.linuxfacts import sudo
from aksnet.plan.facts import Forecast
from aksnet.plan.runner import RunContext
from aksnet.remote.retry import RetryPolicy
from aksnet.remote.ssh import SSHSession

log = logging.getLogger(__name__)

PKI = "/etc/kubernetes/pki/etcd"
ETCDCTL = (
    "etcdctl",
    "--endpoints=https://127.0.0.1:2379",
    f"--cacert={PKI}/ca.crt",
    f"--cert={PKI}/server.crt",
    f"--key={PKI}/server.key",
)
PROBE_RETRY = RetryPolicy(attempts=2, initial_delay=0.5, max_delay=1.0, deadline=10.0)


def etcdctl(shell: SSHSession, pod_node: str, *argv: str) -> str:
    """etcdctl in the etcd static pod of pod_node, through kubectl exec with the admin config."""
    kubectl = ("kubectl", "--kubeconfig", ADMIN_KUBECONFIG, "-n", "kube-system", "exec")
    return sudo(shell, *kubectl, f"etcd-{pod_node}", "--", *ETCDCTL, *argv).text


class EtcdMembers:
    """The stacked etcd's members by name: {name: member ID}, read through `first`."""

    key = "etcd:members"

    def __init__(self, shell: SSHSession, first: str) -> None:
        self.shell, self.first = shell, first

    def read(self, host: str) -> Mapping[str, int] | None:
        out = etcdctl(self.shell, self.first, "member", "list", "-w", "json")
        try:
            members = json.loads(out)["members"]
            return {str(m["name"]): int(m["ID"]) for m in members}
        except (ValueError, KeyError, TypeError) as error:
            raise ProtocolError(host, "etcdctl member list -w json: not a member list") from error


class Answers:
    """Whether the node answers over SSH (the probe keeps the session for the reset)."""

    key = "ssh:answers"

    def __init__(self, shell: SSHSession) -> None:
        self.shell = shell

    def read(self, host: str) -> bool | None:
        try:
            self.shell.run(["true"])
        except (HostUnreachable, OperationTimedOut, AuthenticationFailed) as error:
            log.debug(
                "%s does not answer over SSH (%s): its member goes from a survivor", host, error
            )
            return False
        return True


def leave_etcd(
    ctx: RunContext, node: str, node_shell: SSHSession | None, cp: str, shell: SSHSession
) -> None:
    """Take node's member out of the etcd (steps 1-4 of the module doc), or refuse. node_shell
    None: the node's address is not known (a DHCP VM that is not running), so it cannot answer."""
    fact = EtcdMembers(shell, cp)
    members = ctx.fact(cp, fact) or {}
    if node not in members:
        return
    if node == cp or len(members) < 2:
        raise StateConflict(f"{node} is etcd's last member: it cannot leave", target=node)

    def forget(forecast: Forecast) -> None:
        forecast.set(cp, fact, {n: i for n, i in members.items() if n != node})

    if node_shell is not None and ctx.fact(node, Answers(node_shell)):
        reset = node_shell
        title = f"kubeadm reset --force on {node} (its etcd member leaves)"
        ctx.wet(node, title, lambda: _reset(reset), forget, kind="delete")
    else:
        member = f"{members[node]:x}"
        title = f"etcdctl member remove {member} ({node}, not answering) through {cp}"
        ctx.wet(cp, title, lambda: _remove(shell, cp, member), forget, kind="delete")
    if node in (ctx.fact(cp, fact) or {}):
        raise StateConflict(
            f"etcd still lists {node} as a member after it left: its VM stays so the members "
            "that remain keep their quorum; run again",
            target=node,
        )


def _reset(shell: SSHSession) -> None:
    sudo(shell, "kubeadm", "reset", "--force")


def _remove(shell: SSHSession, cp: str, member: str) -> None:
    etcdctl(shell, cp, "member", "remove", member)
