"""Child process for the kill -9 test: provisions the cluster's VMs on the lab, blocks at a step.

Usage: python -m tests.provision.killed_child CONFIG
CONFIG (JSON, written by the test, mode 0600) names the lab endpoints and credentials file, the
store and journal, the keys, and where to stop: when a PSRP step containing CMDLET is about to
be sent ('before') or has been answered ('after') on a host, the child writes MARKER.<host> and
that host's work blocks until the parent kills the child with SIGKILL.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aksnet.infra.hostkeys import HostKeyPair
from aksnet.infra.provision import ProvisionSettings, ProvisionVMs, node_vms
from aksnet.model.cluster import cluster_spec, node_pool_spec
from aksnet.plan import apply
from aksnet.plan.journal import StoreJournal
from aksnet.remote.base import Cmdlet, PSValue, Statement
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.psrp import PSRPSession
from aksnet.state.store import Store
from tests.lab.vms import psrp_session


class BlockingSession:
    """A PSRP session that stops the process's progress at one step (then waits for SIGKILL)."""

    def __init__(
        self, host: str, inner: PSRPSession, cmdlet: str, moment: str, marker: Path
    ) -> None:
        self.host, self._host_name = inner.host, host
        self._inner, self._cmdlet, self._moment, self._marker = inner, cmdlet, moment, marker

    def invoke(self, *statements: Statement, input: Sequence[PSValue] = ()) -> list[PSValue]:
        hit = any(isinstance(s, Cmdlet) and s.name == self._cmdlet for s in statements)
        if hit and self._moment == "before":
            self._block()
        output = self._inner.invoke(*statements, input=input)
        if hit and self._moment == "after":
            self._block()
        return output

    def close(self) -> None:
        self._inner.close()

    def _block(self) -> None:
        marker = self._marker.with_name(f"{self._marker.name}.{self._host_name}")
        marker.write_text(f"{self._cmdlet} {self._moment}")
        threading.Event().wait()


def main(config_path: str) -> None:
    config: dict[str, Any] = json.loads(Path(config_path).read_text())
    credentials = json.loads(Path(config["credentials"]).read_text())
    username, password = credentials["username"], credentials["password"]
    marker = Path(config["marker"])
    sessions = {
        host: BlockingSession(
            host,
            psrp_session(endpoint, username, password),
            config["cmdlet"],
            config["moment"],
            marker,
        )
        for host, endpoint in config["endpoints"].items()
    }
    keys = {name: HostKeyPair(**fields) for name, fields in config["keys"].items()}
    admin = HostKeyPair(**config["admin"])
    with Store(config["store"]) as store:
        spec = cluster_spec(name="c1", vnet=config["network"], control_plane_node_count=1,
                            node_pools=(node_pool_spec(name="linux", count=2),))  # fmt: skip
        nodes = node_vms(spec, store.get_network(config["network"]), store,
                         admin_user="clouduser", authorized_key=admin.public_line,
                         host_key_for=keys.__getitem__)  # fmt: skip
    settings = ProvisionSettings(switch_name="LabSwitch", vlan_id=config["vlan"],
                                 admin_user="clouduser", admin_key=admin.to_paramiko(),
                                 known_hosts=KnownHosts(config["known_hosts"]))  # fmt: skip
    with StoreJournal(config["journal"], kind="create", target="c1") as journal:
        apply([ProvisionVMs(nodes, sessions, settings)], journal=journal, per_host=1)


if __name__ == "__main__":
    main(sys.argv[1])
