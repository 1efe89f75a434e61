"""kill -9 during provisioning, at several points, then a resume that converges (needs root).

The child provisions the cluster's VMs with a journal and is killed with SIGKILL at a PSRP step;
the parent resumes the same operation from the journal with the same decisions (addresses and
MACs from the store, the same host keys) and checks: every VM once, running, reachable over SSH
with its pinned key, the operation marked resumed, no address or MAC beyond the three VMs'.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aksnet.infra.hostkeys import HostKeyPair, generate_host_key
from aksnet.infra.provision import ProvisionVMs
from aksnet.plan import apply
from aksnet.plan.journal import StoreJournal
from aksnet.state.macs import macs_of
from tests.provision.conftest import VLAN, Fabric
from tests.provision.test_provision_lab import (
    _check_ssh,
    _check_vm_on_host,
    plan_nodes,
    vms_on,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("cmdlet", "moment", "created", "skipped"),
    [
        # Each host blocks at its first matching step; hci1 has c1-cp-0, hci2 c1-linux-0 and
        # then c1-linux-1 (per_host=1 in the child).
        # Killed inside the staging actions (journaled started, not done): staged again.
        ("Set-Content", "after", 3, 0),
        # Staged and journaled done, killed before the create steps: the stagings are skipped
        # and the create steps move the ISOs the killed run staged.
        ("New-VM", "before", 3, 2),
        # c1-cp-0 and c1-linux-0 were created and started but never journaled done: found and
        # left alone; only c1-linux-1 is created.
        ("New-VM", "after", 1, 0),
    ],
    ids=["staging", "before-create", "after-create"],
)
def test_a_killed_provisioning_resumes_and_converges(
    fabric: Fabric, cmdlet: str, moment: str, created: int, skipped: int
) -> None:
    keys = {name: generate_host_key("ed25519") for name in ("c1-cp-0", "c1-linux-0", "c1-linux-1")}
    marker = fabric.tmp / "marker"
    config = _write_config(fabric, keys, cmdlet, moment, marker)
    errors = (fabric.tmp / "child.err").open("wb")
    child = subprocess.Popen([sys.executable, "-m", "tests.provision.killed_child", str(config)],
                             cwd=REPO, stderr=errors)  # fmt: skip
    try:
        _wait_for(marker, child, fabric.tmp / "child.err")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        errors.close()
    assert child.returncode == -signal.SIGKILL

    nodes = plan_nodes(fabric, dict(keys))
    phase = ProvisionVMs(nodes, fabric.sessions, fabric.settings())
    with StoreJournal(fabric.tmp / "journal.db", kind="create", target="c1") as journal:
        result = apply([phase], journal=journal)
    assert result.resumed
    assert len([r for r in result.changes if r.title.startswith("New-VM")]) == created
    assert [r.title.split()[0] for r in result.records if r.outcome == "skipped"] == [
        "Copy"
    ] * skipped
    names = sorted(v["Name"] for vs in vms_on(fabric).values() for v in vs)
    assert names == ["c1-cp-0", "c1-linux-0", "c1-linux-1"]
    for node in nodes:
        _check_vm_on_host(fabric, node, phase.placement[node.name])
        _check_ssh(fabric, node, keys[node.name])
    assert len(fabric.store.allocations(fabric.network.name)) == 3
    assert len(macs_of(fabric.store)) == 3


def _write_config(
    fabric: Fabric, keys: dict[str, HostKeyPair], cmdlet: str, moment: str, marker: Path
) -> Path:
    config = {
        "endpoints": {h: fabric.lab.endpoints()[h] for h in fabric.sessions},
        "credentials": str(fabric.lab.lab_dir / "credentials.json"),
        "store": str(fabric.store.path),
        "journal": str(fabric.tmp / "journal.db"),
        "network": fabric.network.name,
        "vlan": VLAN,
        "known_hosts": str(fabric.tmp / "child_known_hosts"),
        "keys": {name: dataclasses.asdict(key) for name, key in keys.items()},
        "admin": dataclasses.asdict(fabric.admin),
        "cmdlet": cmdlet,
        "moment": moment,
        "marker": str(marker),
    }
    path = fabric.tmp / "child.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds private keys
    with os.fdopen(fd, "w") as out:
        json.dump(config, out)
    return path


def _wait_for(
    marker: Path, child: subprocess.Popen[bytes], errors: Path, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    markers = [marker.with_name(f"{marker.name}.{host}") for host in ("hci1", "hci2")]
    while not all(m.exists() for m in markers):
        if child.poll() is not None:
            stderr = errors.read_text(errors="replace")
            pytest.fail(f"the child ended ({child.returncode}) before the kill point: {stderr}")
        if time.monotonic() > deadline:
            pytest.fail("the child did not reach the kill point in time")
        time.sleep(0.05)
