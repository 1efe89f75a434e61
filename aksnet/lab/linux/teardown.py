"""Removal of what the lab created: one node, or everything in a lab dir after a crash.

Works from the state file alone (aksnet.lab.linux.state), so it needs no live lab process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

from aksnet.errors import OperationTimedOut
from aksnet.lab.linux import netns, state

log = logging.getLogger(__name__)

KILL_DEADLINE = 15.0


def sweep(lab_dir: Path | str) -> list[str]:
    """Remove every node, veth, namespace and bridge recorded under lab_dir; return their names."""
    lab_dir = Path(lab_dir)
    removed: list[str] = []
    for name, record in sorted(state.read(lab_dir)["nodes"].items()):
        destroy_node(record, keep_dir=False)
        with state.update(lab_dir) as data:
            data["nodes"].pop(name, None)
        removed.append(record["netns"])
    for bridge in sorted(state.read(lab_dir)["bridges"]):
        netns.delete_link(bridge)
        with state.update(lab_dir) as data:
            data["bridges"].pop(bridge, None)
        removed.append(bridge)
    log.debug("lab: swept %s", removed)
    return removed


def destroy_node(record: dict[str, Any], keep_dir: bool) -> None:
    """Kill every process of the node, remove its veth and namespace, maybe its directory."""
    kill_node_processes(record)
    netns.delete_link(record["veth"])
    netns.delete_netns(record["netns"])
    if not keep_dir:
        shutil.rmtree(record["node_dir"], ignore_errors=True)


def kill_node_processes(record: dict[str, Any]) -> None:
    """SIGKILL everything in the node's namespace; wait until nothing is left."""
    deadline = time.monotonic() + KILL_DEADLINE
    while True:
        pids = set(netns.netns_pids(record["netns"]))
        anchor = record.get("pid")
        if anchor and _is_node_process(anchor, record["node_dir"]):
            pids.add(anchor)
        if not pids:
            return
        if time.monotonic() > deadline:
            raise OperationTimedOut(record["netns"], f"processes {sorted(pids)} did not end")
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)  # poll interval while the kernel ends the processes


def _is_node_process(pid: int, node_dir: str) -> bool:
    """True when pid is alive (not a zombie) and is this node's launcher or sshd."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return node_dir.encode() in cmdline
