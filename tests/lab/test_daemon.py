"""`aksnet lab up|status|down`: a background lab, and down removes everything even after kill -9."""

from __future__ import annotations

import json
import os
import signal
import time
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from aksnet.cli import main
from aksnet.lab.daemon import down
from tests.lab import vms
from tests.linuxlab.conftest import _needs_root, leftovers


def test_up_status_then_down_after_a_crash_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _needs_root()
    lab_dir = tmp_path / "lab"
    monkeypatch.setenv("AKSNET_LAB_DIR", str(lab_dir))
    try:
        assert main(["lab", "up", "--hosts", "1", "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["lab"] is True and status["state"] == "running"
        assert main(["lab", "status"]) == 0
        shown = capsys.readouterr().out
        assert "emulated" in shown and "hci1" in shown and "True" in shown

        credentials = json.loads((lab_dir / "credentials.json").read_text())
        assert (lab_dir / "credentials.json").stat().st_mode & 0o077 == 0
        assert credentials["password"] not in (lab_dir / "lab.json").read_text()
        session = vms.psrp_session(
            status["hosts"]["hci1"], credentials["username"], credentials["password"]
        )
        try:
            vm = vms.create_linux_vm(
                session, IPv4Network(status["subnet"]), IPv4Address(status["gateway"]), tmp_path, 7
            )
        finally:
            session.close()
        with vm.ssh(tmp_path / "known_hosts") as ssh:
            assert ssh.run(["hostname"]).text.strip() == vm.hostname
        before = {"bridge": status["bridge"], "node": f"ak-{vm.name}"}

        os.kill(status["pid"], signal.SIGKILL)  # the lab crashes; its node keeps running
        deadline = time.monotonic() + 10
        while main(["lab", "status"]) != 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert main(["lab", "status"]) == 3
        assert "no lab is running" in capsys.readouterr().err

        assert main(["lab", "down", "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["swept"], "down found nothing to sweep after the crash"
        assert leftovers(lab_dir, list(before.values())) == []
    finally:
        down(lab_dir)


def test_a_lab_dir_the_nodes_would_hide_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AKSNET_LAB_DIR", "/etc/aksnet-lab")
    assert main(["lab", "up"]) == 2
    assert "choose a directory outside them" in capsys.readouterr().err
    assert not Path("/etc/aksnet-lab").exists()
