"""LabSpec.boot_delay: Start-VM returns at once, the VM's boot work starts then (in a thread of its
own, VMs concurrently), and the guest answers no earlier than the delay after Start-VM; a VM
stopped (or a lab stopped) while it boots never comes up and leaves nothing behind. Root only."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aksnet.errors import InvalidInput
from aksnet.lab.fabric import Lab, LabSpec
from aksnet.lab.linux import state, sweep
from aksnet.lab.linux.k8sstub import BIN_DIR
from aksnet.remote.base import Cmdlet
from aksnet.remote.psrp import PSRPSession
from tests.lab import vms
from tests.linuxlab.conftest import TEST_SLOTS, _needs_root, leftovers
from tests.windowslab import winvm

NEVER = 3600.0  # a boot_delay that does not end while a test runs
DEADLINE = 30.0


def start_lab(tmp_path: Path, boot_delay: float) -> Lab:
    _needs_root()
    return Lab(
        tmp_path / "lab", LabSpec(hosts=1, boot_delay=boot_delay), prefix="akd", slots=TEST_SLOTS
    ).start()


@pytest.fixture
def slow_lab(tmp_path: Path) -> Iterator[Lab]:
    lab = start_lab(tmp_path, NEVER)
    try:
        yield lab
    finally:
        lab.stop()
        sweep(lab.lab_dir)


@pytest.fixture
def host(slow_lab: Lab) -> Iterator[PSRPSession]:
    session = vms.psrp_session(slow_lab.endpoints()["hci1"], *slow_lab.credentials())
    try:
        yield session
    finally:
        session.close()


def _refused(address: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((address, port)) != 0


def _node_dir(lab: Lab, name: str) -> Path:
    return Path(state.read(lab.lab_dir)["nodes"][name]["node_dir"])


def _wait_until_prepared(lab: Lab, name: str) -> Path:
    """Poll until the VM's launcher has done its work (it wrote sshd_config, last before its
    wait for the end of the boot); return the node's folder."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        record = state.read(lab.lab_dir)["nodes"].get(name)
        if record is not None and (Path(record["node_dir"]) / "sshd_config").exists():
            return Path(record["node_dir"])
        time.sleep(0.05)
    raise AssertionError(f"the boot work of {name} did not happen within {DEADLINE} s")


def _boot_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("aksnet-lab-boot-")]


def _names(lab: Lab, name: str) -> list[str]:
    record = state.read(lab.lab_dir)["nodes"][name]
    return [record["netns"], record["veth"]]


def test_boot_delay_is_checked() -> None:
    with pytest.raises(InvalidInput, match="boot_delay"):
        LabSpec(boot_delay=-1).check()
    with pytest.raises(InvalidInput, match="boot_delay"):
        Lab("/nonexistent-lab", LabSpec(boot_delay=float("nan")))


def test_a_booting_vm_runs_on_its_host_but_its_guest_is_not_up_until_the_delay(
    slow_lab: Lab, host: PSRPSession, tmp_path: Path
) -> None:
    subnet, gateway = slow_lab.network.subnet, slow_lab.network.gateway
    linux = vms.create_linux_vm(host, subnet, gateway, tmp_path, 1)
    (vm,) = host.invoke(Cmdlet.of("Get-VM", Name="c1w1"))
    assert vm["State"] in ("Running", 2)
    # The boot work is done within the delay: the node is prepared, its lab tools installed...
    node_dir = _wait_until_prepared(slow_lab, "c1w1")
    assert (Path(f"/proc/{_pid(slow_lab, 'c1w1')}/root") / BIN_DIR.relative_to("/")).is_dir()
    # ...but its sshd does not listen before the boot ends.
    assert _refused(linux.address, 22) and not (node_dir / "sshd.pid").exists()
    assert slow_lab.runtime is not None and slow_lab.runtime.running() == []
    (adapter,) = host.invoke(Cmdlet.of("Get-VMNetworkAdapter", VMName="c1w1"))
    assert adapter["IPAddresses"] in ([], None)  # the guest reports no address yet

    names = _names(slow_lab, "c1w1")
    host.invoke(Cmdlet.of("Stop-VM", Name="c1w1", Force=True))
    assert slow_lab._booting == {}  # the pending boot was cancelled with the VM
    assert leftovers(slow_lab.lab_dir, names) == []  # no namespace, veth or process
    assert "c1w1" not in state.read(slow_lab.lab_dir)["nodes"]
    assert "aksnet-lab-boot-c1w1" not in _boot_threads()


def _pid(lab: Lab, name: str) -> int:
    pid: int = state.read(lab.lab_dir)["nodes"][name]["pid"]
    return pid


def test_vms_boot_concurrently_and_a_lab_stopped_during_their_boots_leaves_nothing(
    slow_lab: Lab, host: PSRPSession, tmp_path: Path
) -> None:
    subnet, gateway = slow_lab.network.subnet, slow_lab.network.gateway
    vms.create_linux_vm(host, subnet, gateway, tmp_path, 2)
    vms.create_linux_vm(host, subnet, gateway, tmp_path, 3)
    # Both are prepared while both still boot: neither waits for the other's boot to end.
    _wait_until_prepared(slow_lab, "c1w2")
    _wait_until_prepared(slow_lab, "c1w3")
    assert set(slow_lab._booting) == {"c1w2", "c1w3"}
    names = _names(slow_lab, "c1w2") + _names(slow_lab, "c1w3")

    slow_lab.stop()
    assert leftovers(slow_lab.lab_dir, names) == []
    assert state.read(slow_lab.lab_dir)["nodes"] == {}
    assert _boot_threads() == []


def test_a_booting_windows_vm_does_not_listen_and_a_stop_removes_its_namespace(
    slow_lab: Lab, host: PSRPSession, tmp_path: Path
) -> None:
    address = str(slow_lab.network.subnet.network_address + 40)
    vm = winvm.new_vm("c1win1", 1, address, tmp_path)
    setting = winvm.network(slow_lab.network.subnet, str(slow_lab.network.gateway), dhcp=False)
    winvm.create_on_host(host, vm, winvm.build_seed(tmp_path, vm, setting))
    deadline = time.monotonic() + DEADLINE
    while "c1win1" not in state.read(slow_lab.lab_dir)["nodes"] and time.monotonic() < deadline:
        time.sleep(0.05)
    names = _names(slow_lab, "c1win1")  # its namespace is plumbed at Start-VM...
    assert _refused(address, 5986)  # ...but its WinRM listener waits for the boot's end
    assert slow_lab.windows_vms is not None and slow_lab.windows_vms.running() == []

    host.invoke(Cmdlet.of("Stop-VM", Name="c1win1", Force=True))
    assert leftovers(slow_lab.lab_dir, names) == []
    assert "c1win1" not in state.read(slow_lab.lab_dir)["nodes"]


def test_the_guest_answers_after_the_delay_and_not_before(tmp_path: Path) -> None:
    delay = 1.0
    lab = start_lab(tmp_path, delay)
    session = vms.psrp_session(lab.endpoints()["hci1"], *lab.credentials())
    try:
        before_start = time.monotonic()  # Start-VM is sent after this instant
        linux = vms.create_linux_vm(session, lab.network.subnet, lab.network.gateway, tmp_path, 4)
        deadline = time.monotonic() + DEADLINE
        while _refused(linux.address, 22) and time.monotonic() < deadline:
            time.sleep(0.02)
        first_answer = time.monotonic()
        assert first_answer - before_start >= delay  # never reachable before the boot ends
        with linux.ssh(tmp_path / "known_hosts") as ssh:
            assert ssh.run(["hostname"]).text.strip() == "c1-w4"
            told = ssh.run(["sudo", "-n", "kubeadm", "version"], check=False)
            assert "EMULATED" in told.text + told.stderr.decode()
        assert lab.runtime is not None and lab.runtime.running() == ["c1w4"]
        (adapter,) = session.invoke(Cmdlet.of("Get-VMNetworkAdapter", VMName="c1w4"))
        assert adapter["IPAddresses"] == [linux.address]
    finally:
        session.close()
        lab.stop()
        sweep(lab.lab_dir)
