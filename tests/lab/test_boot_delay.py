"""LabSpec.boot_delay: Start-VM returns at once and the guest answers only after the delay; a VM
stopped (or a lab stopped) while it boots never comes up. Root only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet.errors import InvalidInput
from aksnet.lab.fabric import Lab, LabSpec
from aksnet.lab.linux import sweep
from aksnet.remote.base import Cmdlet
from tests.lab import vms
from tests.linuxlab.conftest import TEST_SLOTS, _needs_root


def start_lab(tmp_path: Path, boot_delay: float) -> Lab:
    _needs_root()
    return Lab(
        tmp_path / "lab", LabSpec(hosts=1, boot_delay=boot_delay), prefix="akd", slots=TEST_SLOTS
    ).start()


@pytest.fixture
def slow_lab(tmp_path: Path) -> Iterator[Lab]:
    lab = start_lab(tmp_path, 3600.0)  # never boots while the test runs
    try:
        yield lab
    finally:
        lab.stop()
        sweep(lab.lab_dir)


def test_boot_delay_is_checked() -> None:
    with pytest.raises(InvalidInput, match="boot_delay"):
        LabSpec(boot_delay=-1).check()
    with pytest.raises(InvalidInput, match="boot_delay"):
        Lab("/nonexistent-lab", LabSpec(boot_delay=float("nan")))


def test_a_booting_vm_runs_on_its_host_but_its_guest_is_not_up_until_the_delay(
    slow_lab: Lab, tmp_path: Path
) -> None:
    session = vms.psrp_session(slow_lab.endpoints()["hci1"], *slow_lab.credentials())
    try:
        vms.create_linux_vm(session, slow_lab.network.subnet, slow_lab.network.gateway, tmp_path, 1)
        (vm,) = session.invoke(Cmdlet.of("Get-VM", Name="c1w1"))
        assert vm["State"] in ("Running", 2)
        assert slow_lab.runtime is not None and slow_lab.runtime.running() == []
        session.invoke(Cmdlet.of("Stop-VM", Name="c1w1", Force=True))
    finally:
        session.close()
    assert slow_lab._booting == {}  # the pending boot was cancelled with the VM


def test_the_guest_comes_up_after_the_delay(tmp_path: Path) -> None:
    lab = start_lab(tmp_path, 0.3)
    session = vms.psrp_session(lab.endpoints()["hci1"], *lab.credentials())
    try:
        linux = vms.create_linux_vm(session, lab.network.subnet, lab.network.gateway, tmp_path, 2)
        assert lab.runtime is not None
        deadline = time.monotonic() + 30
        while lab.runtime.running() != ["c1w2"] and time.monotonic() < deadline:
            time.sleep(0.1)
        with linux.ssh(tmp_path / "known_hosts") as ssh:
            assert ssh.run(["hostname"]).text.strip() == "c1-w2"
    finally:
        session.close()
        lab.stop()
        sweep(lab.lab_dir)
