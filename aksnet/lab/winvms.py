"""WindowsVmRuntime: what a Windows VM that a lab host starts boots into.

The VM gets a network namespace on the lab bridge with its seeded address (VmNetworks, the
plumbing Linux VMs get, without sshd) and an EMULATED Windows node (aksnet.lab.hyperv.
WindowsNode) served by WSManServer over HTTPS on <address>:5986 inside that namespace, with the
seeded certificate and key, admitting the seeded administrator only (Basic and NTLM).

The node's disk (its C: drive) is a folder per VM id, so a restarted VM finds its files again
(a restart is WindowsNode.reboot(): HNS networks that are not persistent are gone). A seed that
lacks a piece boots into nothing: nothing listens, and the lab logs why and shows it in
lab.json, so whoever waits for the node times out naming the VM.

A boot given reachable_at (a time.monotonic() instant: the end of an emulated boot) prepares
the node at once and starts its listener no earlier than that instant; the wait holds no lock,
so other VMs boot meanwhile, and a cancel event ends it (BootCancelled, nothing left behind).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aksnet.errors import AksNetError
from aksnet.lab import winseed
from aksnet.lab.hyperv import VMEvent, WindowsNode, kubeadm_exe
from aksnet.lab.linux import cloudinit
from aksnet.lab.linux.node import BootCancelled
from aksnet.lab.linux.vmnet import VmNetworks
from aksnet.lab.wsman import WSManServer
from aksnet.lab.wsman.tls import TlsFiles

log = logging.getLogger(__name__)

WINRM_HTTPS_PORT = 5986
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,38}[A-Za-z0-9])?$")
_STAND_IN = (
    "aksnet lab: EMULATED kubeadm.exe. This file stands in for the binary on the Windows node "
    "image; the lab's emulated Windows node answers `kubeadm.exe join --config FILE`.\r\n"
)


@dataclass
class WindowsVm:
    """One booted Windows VM: its node, its listener, its address."""

    name: str
    vm_id: str
    address: str
    node: WindowsNode
    server: WSManServer


class WindowsVmRuntime:
    """The Windows VMs of one lab (see the module docstring)."""

    def __init__(self, lab_dir: Path, networks: VmNetworks) -> None:
        self.lab_dir = lab_dir
        self.networks = networks
        self._lock = threading.RLock()
        self._running: dict[str, WindowsVm] = {}
        self._nodes: dict[str, WindowsNode] = {}  # by VM id: the node outlives a stop
        self.problems: dict[str, str] = {}  # VM name -> why it booted into nothing

    def __repr__(self) -> str:
        return f"WindowsVmRuntime(lab_dir={str(self.lab_dir)!r}, running={self.running()})"

    def running(self) -> list[str]:
        with self._lock:
            return sorted(self._running)

    def knows(self, name: str) -> bool:
        with self._lock:
            return name in self._running or name in self.problems

    def node(self, name: str) -> WindowsNode | None:
        with self._lock:
            vm = self._running.get(name)
            return vm.node if vm else None

    def start(
        self,
        event: VMEvent,
        seed_iso: Path | None,
        *,
        reachable_at: float | None = None,
        cancel: threading.Event | None = None,
    ) -> str | None:
        """Boot the VM; its address, or None when it booted into nothing (the reason logged).

        reachable_at: the time.monotonic() instant before which its listener does not start;
        cancel: set by another thread to abandon the boot (BootCancelled).
        """
        with self._lock:
            if event.name in self._running:
                return self._running[event.name].address
            self.problems.pop(event.name, None)
            try:
                seed, mac, address = self._read_boot_inputs(event, seed_iso)
            except (AksNetError, ValueError) as problem:
                self.problems[event.name] = str(problem)
                log.warning("aksnet lab: Windows VM %r boots into nothing: %s", event.name, problem)
                return None
            record = self.networks.attach(event.name, mac, address)
        try:
            _wait_until(event.name, reachable_at, cancel)
            with self._lock:
                vm = self._boot(event, seed, record, address)
                self._running[event.name] = vm
        except BaseException:
            self.networks.detach(event.name)
            raise
        log.debug("lab: Windows VM %s listens at %s", event.name, vm.server.url)
        return vm.address

    def _read_boot_inputs(
        self, event: VMEvent, seed_iso: Path | None
    ) -> tuple[winseed.WindowsSeed, str, cloudinit.NodeAddress]:
        """The seed, the MAC (colon form) and the address; raises when a piece is missing."""
        if not _NAME.match(event.name):
            raise winseed.SeedIncomplete(
                f"VM name {event.name!r}: the lab boots Windows VMs named with 1-40 of A-Z, a-z, "
                "0-9 and '-'"
            )
        if seed_iso is None:
            raise winseed.SeedIncomplete("no NoCloud seed ISO (volume cidata) in its DVD drives")
        if not event.adapters:
            raise winseed.SeedIncomplete("the VM has no network adapter")
        seed = winseed.windows_seed(cloudinit.load_seed(seed_iso))
        mac = _colon(event.adapters[0].mac_address)
        address = self.networks.address_for(seed.network_config, mac, seed.hostname)
        return seed, mac, address

    def _boot(
        self,
        event: VMEvent,
        seed: winseed.WindowsSeed,
        record: dict[str, Any],
        address: cloudinit.NodeAddress,
    ) -> WindowsVm:
        ip, mac = str(address.interface.ip), event.adapters[0].mac_address
        node = self._nodes.get(event.vm_id)
        if node is None:
            root = self.lab_dir / "windows-vms" / event.vm_id
            node = WindowsNode(event.name, root, mac_address=_dashed(mac), lab_dir=self.lab_dir)
            self._nodes[event.vm_id] = node
        else:
            node.reboot()
        node.ip_address, node.prefix_length = ip, address.interface.network.prefixlen
        tls_files = _install_files(node, seed)
        server = WSManServer(
            node,
            users={seed.username: seed.password},
            auth="any",
            host=ip,
            port=WINRM_HTTPS_PORT,
            netns=str(record["netns"]),
            tls_files=tls_files,
        )
        return WindowsVm(event.name, event.vm_id, ip, node, server.start())

    def stop(self, name: str) -> None:
        """Stop the VM's listener and remove its namespace (idempotent)."""
        with self._lock:
            self.problems.pop(name, None)
            vm = self._running.pop(name, None)
            if vm is not None:
                vm.server.stop()
            self.networks.detach(name)

    def stop_all(self) -> None:
        for name in self.running():
            self.stop(name)

    def status(self) -> dict[str, dict[str, Any]]:
        """What lab.json shows of each Windows VM (never its password)."""
        with self._lock:
            shown: dict[str, dict[str, Any]] = {
                name: {"address": vm.address, "url": vm.server.url, "emulated": True}
                for name, vm in self._running.items()
            }
            for name, problem in self.problems.items():
                shown[name] = {"address": None, "url": None, "booted_into_nothing": problem}
            return shown


def _wait_until(name: str, instant: float | None, cancel: threading.Event | None) -> None:
    """Wait for the end of the emulated boot; BootCancelled when cancel is set first."""
    pause = cancel or threading.Event()
    ahead = (instant or 0.0) - time.monotonic()
    if (ahead > 0 and pause.wait(ahead)) or pause.is_set():
        raise BootCancelled(name)


def _install_files(node: WindowsNode, seed: winseed.WindowsSeed) -> TlsFiles:
    """Put the seeded files on the node's C: drive, as cloudbase-init would; the stand-in
    kubeadm.exe the image carries. Returns the TLS files the listener serves."""
    cert, key = node.fs.real(winseed.CERT_PATH), node.fs.real(winseed.KEY_PATH)
    cert.parent.mkdir(parents=True, exist_ok=True)
    cert.write_bytes(seed.cert_pem)
    key.touch(mode=0o600)
    key.chmod(0o600)
    key.write_bytes(seed.key_pem)
    kubeadm = node.fs.real(kubeadm_exe.PATH)
    if not kubeadm.exists():
        kubeadm.parent.mkdir(parents=True, exist_ok=True)
        kubeadm.write_text(_STAND_IN)
    # The certificate is self-signed (CA:TRUE): it is its own trust anchor.
    return TlsFiles(ca_cert=cert, server_cert=cert, server_key=key)


def _digits(mac: str) -> str:
    return mac.replace(":", "").replace("-", "").lower()


def _colon(mac: str) -> str:
    digits = _digits(mac)
    if not re.fullmatch(r"[0-9a-f]{12}", digits):
        raise winseed.SeedIncomplete(f"MAC address {mac!r} is not set")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _dashed(mac: str) -> str:
    digits = _digits(mac).upper()
    return "-".join(digits[i : i + 2] for i in range(0, 12, 2))
