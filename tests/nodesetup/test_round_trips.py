"""How many commands a node's setup sends: a fresh node's preparation and join take a handful,
a second run only its fact reads (one batch per step), whatever the plugin (root, lab).

Each command over SSH costs a channel and a few round trips, and sshd a fork, a shell and sudo;
the counts are the commands and SFTP conversations each node's session started.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from aksnet.infra.linuxnode import LinuxNode, NodeSetup
from aksnet.network.plugins import Plugin, get_plugin
from aksnet.plan import RunContext, apply
from tests.nodesetup.conftest import Cluster, Node

# A fresh node: one batch of facts (the kubeadm step's too), then /etc/hosts, and one command
# each for a file and what applies it: /etc/hostname and the host name, the modules' file (and
# one modprobe of the modules not loaded: none on a lab kernel with them built in), the
# sysctls' file and sysctl -p, the nftables file and its load; containerd's file, and the
# directories.
FRESH_PREPARE = 8
# Its join: the configuration file, then kubeadm join (its facts came with the preparation's).
FRESH_JOIN = 2
# A second run reads all its facts in one batch and changes nothing.
SECOND_RUN = 1


class Prepare:
    """Only the preparation of NodeSetup (everything before kubeadm), node after node."""

    title = "Prepare Linux nodes"

    def __init__(self, nodes: Sequence[LinuxNode], plugin: Plugin) -> None:
        self.nodes, self.plugin = nodes, plugin

    def prepare(self, ctx: RunContext) -> bool:
        return True

    def run(self, ctx: RunContext) -> None:
        for node in self.nodes:
            NodeSetup(ctx, node).prepare(self.plugin, self.nodes)


def execs(nodes: Sequence[Node]) -> list[int]:
    return [n.session.execs for n in nodes]


@pytest.mark.parametrize("plugin", ["flannel", "calico"])
def test_a_fresh_worker_is_prepared_and_joined_in_a_handful_of_commands(
    cluster_of: Any, plugin: str
) -> None:
    cluster: Cluster = cluster_of(plugin)
    init, worker = cluster.nodes
    linux = [n.linux_node() for n in cluster.nodes]
    result = apply([Prepare(linux, get_plugin(plugin))])
    assert execs(cluster.nodes) == [FRESH_PREPARE] * 2
    assert len(result.changes) == 2 * (FRESH_PREPARE - 1)  # one action per command
    prepared = execs(cluster.nodes)
    apply([cluster.phase()])
    joined = execs(cluster.nodes)
    # The whole phase: the preparation (a batch of facts, nothing to change), the join.
    assert joined[1] - prepared[1] == SECOND_RUN + FRESH_JOIN
    assert worker.session.puts == init.session.puts == 0  # no SFTP: files go in one command
    second = apply([cluster.phase()])
    assert second.records == []
    again = execs(cluster.nodes)
    assert [again[0] - joined[0], again[1] - joined[1]] == [SECOND_RUN, SECOND_RUN]
