"""LinuxVmRuntime: starts and stops the lab's Linux "VMs" (a namespace with a real sshd each).

start() reads the VM's NoCloud seed, creates the network namespace and a veth pair on the lab
bridge with the address from network-config (VmNetworks, shared with Windows VMs), then runs
the launcher (aksnet.lab.linux.launch) in private mount and UTS namespaces; the launcher becomes
sshd. start() returns once sshd listens on port 22 of the node.

A boot that emulates a guest's boot time (the fabric's boot_delay) passes reachable_at: the
launcher does all of its work at once and execs sshd no earlier than that instant, so the node is
never reachable before it; a cancel event ends the wait (and the node) early. Several nodes may
start at once from different threads: the state file and the DHCP leases have their own file
locks, and the runtime's table of launchers has its own lock.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aksnet
from aksnet.errors import AksNetError, InvalidInput, OperationTimedOut, StateConflict
from aksnet.lab.linux import cloudinit, state
from aksnet.lab.linux.dhcp import EmulatedDhcp
from aksnet.lab.linux.launch import PID_FILE, SPEC_FILE
from aksnet.lab.linux.network import LabNetwork
from aksnet.lab.linux.vmnet import VmNetworks

log = logging.getLogger(__name__)

START_DEADLINE = 30.0
POLL = 0.02  # seconds between looks for sshd's pid file
_VM_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")
_MAC_DIGITS = re.compile(r"^[0-9a-f]{12}$")


class NodeStartFailed(AksNetError):
    """The node's launcher or sshd exited before port 22 accepted connections."""

    error_id = "LabNodeStartFailed"


class BootCancelled(AksNetError):
    """A VM's boot was cancelled (the VM stopped, or the lab stopped) before its guest answered."""

    category = "OperationStopped"
    error_id = "LabBootCancelled"

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"lab VM '{name}': the boot was cancelled")

    @property
    def target(self) -> str | None:
        return self.name


class LinuxVm(Protocol):
    """What the lab needs of a VM: its name, its NIC's MAC address and its seed ISO."""

    @property
    def name(self) -> str: ...

    @property
    def mac(self) -> str: ...

    @property
    def seed_iso(self) -> str | os.PathLike[str]: ...


@dataclass(frozen=True)
class LinuxVmSpec:
    """A LinuxVm as a plain value. mac: "02:00:5e:00:00:01", "02-00-..." or "02005E000001"."""

    name: str
    mac: str
    seed_iso: Path


class LinuxVmRuntime:
    """The Linux nodes of one lab, on one LabNetwork."""

    def __init__(
        self, lab_dir: Path | str, network: LabNetwork, dhcp: EmulatedDhcp | None = None
    ) -> None:
        """dhcp: the lab's EMULATED DHCP for seeds whose network-config says dhcp4."""
        self.lab_dir = Path(lab_dir).resolve()
        _check_lab_dir(self.lab_dir)
        self.network = network
        self.networks = VmNetworks(self.lab_dir, network, dhcp)
        self._lock = threading.Lock()  # guards _launchers and _listening
        self._launchers: dict[str, subprocess.Popen[bytes]] = {}
        self._listening: set[str] = set()  # nodes whose sshd was seen listening

    def __repr__(self) -> str:
        return f"LinuxVmRuntime(lab_dir={str(self.lab_dir)!r}, nodes={self.running()})"

    def running(self) -> list[str]:
        """Names of the nodes whose sshd is alive (a node still booting is not listed)."""
        with self._lock:
            launchers = [(n, p) for n, p in self._launchers.items() if n in self._listening]
        return sorted(n for n, p in launchers if p.poll() is None)

    def _launched(self, name: str) -> bool:
        """Whether this runtime runs the node's launcher or sshd (booting or booted)."""
        with self._lock:
            launcher = self._launchers.get(name)
        return launcher is not None and launcher.poll() is None

    def address_of(self, name: str) -> ipaddress.IPv4Address:
        return ipaddress.IPv4Address(self._record(name)["address"])

    def start(
        self,
        vm: LinuxVm,
        *,
        reachable_at: float | None = None,
        cancel: threading.Event | None = None,
        lab_tools: bool = False,
    ) -> None:
        """Start the node (nothing happens when it runs already).

        reachable_at: a time.monotonic() instant before which sshd does not listen (the boot's
        end); cancel: set by another thread to abandon the boot (BootCancelled, nothing left);
        lab_tools: the launcher installs the lab's emulated kubeadm/kubectl/systemctl
        (aksnet.lab.linux.k8sstub, svcstub) before sshd starts, so they are there when it answers.
        """
        mac = _check_spec(vm)
        if self._launched(vm.name):
            return
        if vm.name in state.read(self.lab_dir)["nodes"]:
            raise StateConflict(
                f"lab node '{vm.name}' is recorded in {self.lab_dir} but not run by this "
                "runtime (another lab process, or a crash): stop() it or sweep() first",
                target=vm.name,
            )
        seed = cloudinit.load_seed(Path(vm.seed_iso))
        hostname = cloudinit.hostname_of(seed.meta_data, seed.user_data)
        cloudinit.check_user_data(seed.user_data)
        address = self.networks.address_for(seed.network_config, mac, hostname)
        _raise_if_cancelled(vm.name, cancel)
        record = self.networks.attach(vm.name, mac, address)
        try:
            _raise_if_cancelled(vm.name, cancel)
            self._launch(vm, record, hostname, reachable_at, lab_tools)
            self._wait_for_sshd(vm.name, record, reachable_at, cancel)
        except BaseException:
            self.stop(vm.name)
            raise
        with self._lock:
            self._listening.add(vm.name)

    def stop(self, name: str, keep_dir: bool = False) -> None:
        """Kill the node's processes, remove its veth and namespace (idempotent)."""
        self.networks.detach(name, keep_dir)
        with self._lock:
            launcher = self._launchers.pop(name, None)
            self._listening.discard(name)
        if launcher is not None:
            launcher.wait(timeout=START_DEADLINE)

    def stop_all(self, keep_dirs: bool = False) -> None:
        for name in sorted(state.read(self.lab_dir)["nodes"]):
            self.stop(name, keep_dirs)

    def _record(self, name: str) -> dict[str, Any]:
        record: dict[str, Any] | None = state.read(self.lab_dir)["nodes"].get(name)
        if record is None:
            raise InvalidInput("name", name, "is not a node of this lab")
        return record

    def _launch(
        self,
        vm: LinuxVm,
        record: dict[str, Any],
        hostname: str,
        reachable_at: float | None,
        lab_tools: bool,
    ) -> None:
        node_dir = Path(record["node_dir"])
        node_dir.mkdir(parents=True, exist_ok=True)
        node_dir.chmod(0o755)  # sshd's strict modes read its config and keys through it
        spec = {
            "seed": str(Path(vm.seed_iso).resolve()),
            "hostname": hostname,
            "address": record["address"],
            "reachable_at": reachable_at,  # time.monotonic() is one clock for every process
            "lab_tools": str(self.lab_dir) if lab_tools else None,
        }
        (node_dir / SPEC_FILE).write_text(json.dumps(spec))
        (node_dir / PID_FILE).unlink(missing_ok=True)  # an earlier boot's sshd wrote it
        argv = [
            "ip",
            "netns",
            "exec",
            record["netns"],
            "unshare",
            "--mount",
            "--uts",
            "--propagation",
            "private",
            sys.executable,
            "-m",
            "aksnet.lab.linux.launch",
            str(node_dir),
        ]
        env = dict(os.environ, PYTHONPATH=str(Path(aksnet.__file__).resolve().parent.parent))
        log.debug("lab: starting node %s: %s", vm.name, argv)
        with open(node_dir / "launcher.log", "wb") as out:
            launcher = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        with self._lock:
            self._launchers[vm.name] = launcher
        with state.update(self.lab_dir) as data:
            data["nodes"][vm.name]["pid"] = launcher.pid

    def _wait_for_sshd(
        self,
        name: str,
        record: dict[str, Any],
        reachable_at: float | None,
        cancel: threading.Event | None,
    ) -> None:
        start = max(time.monotonic(), reachable_at or 0.0)
        deadline = start + START_DEADLINE
        with self._lock:
            launcher = self._launchers[name]
        pause = cancel or threading.Event()  # its wait() is the poll interval, cut short by cancel
        ahead = start - time.monotonic()
        if ahead > POLL:  # the launcher cannot exec sshd before reachable_at: no need to look
            pause.wait(ahead - POLL)
        while time.monotonic() < deadline:
            _raise_if_cancelled(name, cancel)
            if launcher.poll() is not None:
                log_file = Path(record["node_dir"]) / "launcher.log"
                tail = log_file.read_text(errors="replace").strip().splitlines()[-5:]
                raise NodeStartFailed(
                    f"lab node '{name}' exited with status "
                    f"{launcher.returncode}: {' | '.join(tail)}"
                )
            if _sshd_listening(Path(record["node_dir"])):
                return
            pause.wait(POLL)
        raise OperationTimedOut(name, f"sshd did not listen on {record['address']}:22")


def _raise_if_cancelled(name: str, cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise BootCancelled(name)


def _sshd_listening(node_dir: Path) -> bool:
    """Whether the node's sshd has written its pid file, which it does once it listens.

    Not probed with a connection: sshd forks (and re-executes itself) for every connection, a
    probe included; nor read from /proc/<pid>/net/tcp, which costs milliseconds of CPU a read.
    """
    try:
        return (node_dir / PID_FILE).read_text().strip() != ""
    except OSError:
        return False


def _check_spec(vm: LinuxVm) -> str:
    """Check the VM; return its MAC address in the form ip and network-config use."""
    if not _VM_NAME.match(vm.name):
        raise InvalidInput("name", vm.name, "must be 1-40 of a-z, 0-9 and '-'")
    digits = re.sub(r"[:-]", "", vm.mac).lower()
    if not _MAC_DIGITS.match(digits):
        raise InvalidInput("mac", vm.mac, "must be a MAC address like 02:00:5e:00:00:01")
    if not Path(vm.seed_iso).is_file():
        raise InvalidInput("seed_iso", str(vm.seed_iso), "must be an existing ISO file")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _check_lab_dir(lab_dir: Path) -> None:
    # Overlays of /etc, /var, ... must not hide the node's own directory.
    for private in (*cloudinit.PRIVATE_DIRS, "/run"):
        if lab_dir.is_relative_to(private):
            raise InvalidInput(
                "lab_dir", str(lab_dir), f"must not be inside {private}, which a node overlays"
            )
