"""sweep() removes everything a lab left behind when its process was killed (kill -9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from aksnet.lab.linux import state, sweep
from tests.linuxlab.conftest import footprint, leftovers

# The crashing lab: takes a slot, starts a node, says "ready", then waits to be killed.
CRASHING_LAB = """
import sys
from pathlib import Path
from aksnet.lab.linux import LabNetwork, LinuxVmRuntime
from tests.linuxlab.conftest import TEST_SLOTS, Lab

lab_dir, seeds = Path(sys.argv[1]), Path(sys.argv[2])
network = LabNetwork(lab_dir, "akt", slots=TEST_SLOTS).up()
lab = Lab(lab_dir, seeds, network, LinuxVmRuntime(lab_dir, network))
lab.runtime.start(lab.vm(1).spec)
print("ready", flush=True)
sys.stdin.read()
"""


def test_sweep_after_a_crash_removes_everything(lab_dir: Path, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    crashing = subprocess.Popen(
        [sys.executable, "-c", CRASHING_LAB, str(lab_dir), str(seeds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    try:
        assert crashing.stdout is not None
        assert crashing.stdout.readline() == b"ready\n"
    finally:
        os.kill(crashing.pid, signal.SIGKILL)
        crashing.wait()
    recorded = state.read(lab_dir)
    node = recorded["nodes"]["vm1"]
    names = [node["netns"], node["veth"], *recorded["bridges"]]
    before = footprint(lab_dir, names)
    # The namespace, the veth, the bridge and sshd outlived the lab.
    assert sorted(item.split()[0] for item in before)[:4] == ["link", "link", "netns", "process"]

    removed = sweep(lab_dir)

    assert sorted(removed) == sorted([node["netns"], *recorded["bridges"]])
    assert leftovers(lab_dir, names, before) == []
    assert not Path(node["node_dir"]).exists()
    assert state.read(lab_dir) == {"bridges": {}, "nodes": {}, "next_index": 1}
