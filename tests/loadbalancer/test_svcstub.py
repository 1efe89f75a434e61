"""The lab's emulated systemctl never acts outside a lab node."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aksnet.lab.linux import svcstub
from aksnet.lab.linux.k8sstub import BIN_DIR, NODE_MARKER


@pytest.mark.skipif(NODE_MARKER.exists(), reason="this machine is marked as a lab node")
@pytest.mark.parametrize("argv", [["start", "haproxy"], ["install-here"]])
def test_on_the_machine_itself_it_refuses_to_do_anything(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aksnet.lab.linux.svcstub", *argv], capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "this is not a lab node" in done.stderr
    assert not Path(BIN_DIR, "systemctl").exists()


def test_installing_into_a_node_that_does_not_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not running"):
        svcstub.install(tmp_path, "no-such-node")
