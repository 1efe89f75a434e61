"""The embedded lab: emulated Hyper-V hosts behind real WSMan endpoints, and Linux VMs that become
network namespaces running a real sshd.

What is real: HTTP(S), WS-Management, WinRS and PSRP (pypsrp and pywinrm talk to the lab
unchanged), TLS with a generated CA, the Linux bridge and namespaces, OpenSSH. What is emulated:
Hyper-V, failover clustering, Windows and HNS (behind the real cmdlet contracts and error texts),
the node images (stand-in files whose marker says which OS boots: aksnet.lab.images), Windows
VMs (an emulated Windows node behind WinRM HTTPS in the VM's namespace: aksnet.lab.winvms),
DHCP (EMULATED DHCP: aksnet.lab.linux.dhcp) and Kubernetes (aksnet.lab.k8sregistry).
Every object the emulation returns carries ``Lab = True``; the banner says the same.

Booting: with a boot_delay, Start-VM returns at once and the VM boots in a thread of its own,
concurrently with other VMs: the boot work (namespace, mounts, seed, lab tools) starts at
Start-VM and the guest's sshd or WinRM listener starts no earlier than boot_delay after it, as a
guest whose whole boot takes boot_delay. Stop-VM or stop() during a boot cancels it and waits
for its thread, which removes what the boot made. Without a delay, Start-VM boots the guest
itself and returns when it answers. The lab's lock only guards its own tables.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aksnet.errors import AksNetError, InvalidInput
from aksnet.infra.provision import DEFAULT_IMAGE, DEFAULT_WINDOWS_IMAGE
from aksnet.infra.seediso import read_seed_iso
from aksnet.lab import images
from aksnet.lab.hyperv import FailoverCluster, HyperVHost, HyperVMachine, VMEvent, WindowsNode
from aksnet.lab.linux.dhcp import EmulatedDhcp
from aksnet.lab.linux.network import LabNetwork
from aksnet.lab.linux.node import START_DEADLINE, BootCancelled, LinuxVmRuntime, LinuxVmSpec
from aksnet.lab.winvms import WindowsVmRuntime
from aksnet.lab.wsman import WSManServer

log = logging.getLogger(__name__)

BANNER = (
    "aksnet LAB: an emulated Azure Stack HCI. Hyper-V, failover clustering, Windows, HNS, DHCP "
    "and Kubernetes are emulated; WSMan/PSRP, TLS, Linux networking and OpenSSH are real. "
    "Not a production host."
)
STATUS_FILE = "lab.json"
CREDENTIALS_FILE = "credentials.json"
GB = 1024**3


@dataclass(frozen=True)
class LabSpec:
    """The shape of the emulated fabric."""

    hosts: int = 2
    failover_cluster: bool = True
    host_memory_gb: int = 64
    host_processors: int = 16
    host_storage_gb: int = 1024
    switch_name: str = "LabSwitch"
    username: str = "labadmin"
    # Seconds from Start-VM until the guest answers (its sshd or WinRM listener starts): 0 boots
    # at once; benchmarks set it to emulate boot time without blocking Start-VM.
    boot_delay: float = 0.0

    def check(self) -> None:
        if not 1 <= self.hosts <= 8:  # AksHci supports at most 8 physical servers per cluster
            raise InvalidInput("hosts", self.hosts, "it must be from 1 to 8.")
        if not 0 <= self.boot_delay <= 3600:
            raise InvalidInput("boot_delay", self.boot_delay, "it must be from 0 to 3600 seconds.")


class LabError(AksNetError):
    error_id = "LabError"


@dataclass
class _Boot:
    """A VM's boot in progress: its thread, and the event that cancels it."""

    thread: threading.Thread
    cancel: threading.Event


class Lab:
    """One lab in one directory. start() brings everything up; stop() takes all of it down."""

    def __init__(
        self,
        lab_dir: Path | str,
        spec: LabSpec | None = None,
        *,
        prefix: str = "ak",
        slots: range = range(256),
    ) -> None:
        """slots: which /24s of 198.18.0.0/15 the lab may take (see LabNetwork); tests use
        198.19.0.0/16 (slots 256-511) so that they never meet a lab someone runs."""
        self.lab_dir = Path(lab_dir).resolve()
        self.spec = spec or LabSpec()
        self.spec.check()
        self.network = LabNetwork(self.lab_dir, prefix, slots=slots)
        self.runtime: LinuxVmRuntime | None = None
        self.windows_vms: WindowsVmRuntime | None = None
        self.dhcp: EmulatedDhcp | None = None
        self.hosts: dict[str, HyperVHost] = {}
        self.servers: dict[str, WSManServer] = {}
        self.windows_nodes: dict[str, WindowsNode] = {}
        self._password = ""
        self._lock = threading.Lock()  # guards servers, windows_nodes and _booting
        self._status_lock = threading.Lock()  # one writer of lab.json at a time
        self._booting: dict[str, _Boot] = {}  # VM name -> its boot in progress

    def start(self) -> Lab:
        self.lab_dir.mkdir(parents=True, exist_ok=True)
        self._password = secrets.token_urlsafe(18)
        _write_private(
            self.lab_dir / CREDENTIALS_FILE,
            {"username": self.spec.username, "password": self._password},
        )
        try:
            self.network.up()
            self.dhcp = EmulatedDhcp(self.lab_dir, self.network.subnet, self.network.gateway)
            self.runtime = LinuxVmRuntime(self.lab_dir, self.network, self.dhcp)
            self.windows_vms = WindowsVmRuntime(self.lab_dir, self.runtime.networks)
            cluster = FailoverCluster("hcicluster") if self.spec.failover_cluster else None
            for index in range(1, self.spec.hosts + 1):
                self._start_host(f"hci{index}", cluster)
        except BaseException:
            self.stop()
            raise
        self.write_status("running")
        log.info("%s", BANNER)
        return self

    def _start_host(self, name: str, cluster: FailoverCluster | None) -> None:
        host = HyperVHost(
            name,
            self.lab_dir / "hosts" / name,
            memory_bytes=self.spec.host_memory_gb * GB,
            logical_processors=self.spec.host_processors,
            storage_bytes=self.spec.host_storage_gb * GB,
            on_vm_start=self._vm_started,
            on_vm_stop=self._vm_stopped,
            cluster=cluster,
        )
        # The external switch the VMs use; in the lab it is the lab bridge.
        host.new_switch(self.spec.switch_name, "External", self.network.bridge)
        # Stand-ins for the node images that differencing disks start from: one marker line
        # each (the lab's VMs run the machine's own userland, not a disk image).
        images.write_image(host.fs.real(DEFAULT_IMAGE), "Linux")
        images.write_image(host.fs.real(DEFAULT_WINDOWS_IMAGE), "Windows")
        server = WSManServer(
            HyperVMachine(host),
            users={self.spec.username: self._password},
            auth="any",
            tls_dir=self.lab_dir / "tls" / name,
        )
        self.hosts[name] = host
        self.servers[name] = server.start()

    def add_windows_node(self, name: str, ip_address: str, mac_address: str) -> dict[str, Any]:
        """Serve an emulated Windows node (HNS, services, firewall) over WSMan on 127.0.0.1.

        Issue 4 connects this to Windows VMs the hosts start; until then tests and users add
        nodes by hand. Returns the node's endpoint, as `endpoints()` lists it.
        """
        node = WindowsNode(
            name,
            self.lab_dir / "windows" / name,
            ip_address=ip_address,
            mac_address=mac_address,
            lab_dir=self.lab_dir,
        )
        server = WSManServer(
            node,
            users={self.spec.username: self._password},
            auth="any",
            tls_dir=self.lab_dir / "tls" / name,
        )
        with self._lock:
            if name in self.servers:
                raise InvalidInput("name", name, "a lab machine of that name exists already.")
            self.servers[name] = server.start()
            self.windows_nodes[name] = node
        self.write_status("running")
        return self.endpoints()[name]

    def stop(self) -> None:
        """Stop every endpoint and node and remove the bridge; safe to call more than once."""
        with self._lock:
            booting, self._booting = list(self._booting.values()), {}
        _cancel(booting)
        with self._lock:
            servers = list(self.servers.values())
            self.servers.clear()
        for server in servers:
            server.stop()
        if self.windows_vms is not None:
            self.windows_vms.stop_all()
        if self.runtime is not None:
            self.runtime.stop_all()
        self.network.down()
        self.write_status("stopped")

    def _vm_started(self, event: VMEvent) -> None:
        if self.spec.boot_delay <= 0:
            self._boot(event, None, None)
            return
        reachable_at = time.monotonic() + self.spec.boot_delay
        cancel = threading.Event()
        thread = threading.Thread(
            target=self._boot_in_background,
            args=(event, reachable_at, cancel),
            name=f"aksnet-lab-boot-{event.name}",
            daemon=True,
        )
        boot = _Boot(thread, cancel)
        with self._lock:
            earlier = self._booting.pop(event.name, None)
            self._booting[event.name] = boot
        if earlier is not None:
            _cancel([earlier])
        thread.start()

    def _boot_in_background(
        self, event: VMEvent, reachable_at: float, cancel: threading.Event
    ) -> None:
        try:
            self._boot(event, reachable_at, cancel)
        except BootCancelled:
            log.debug("aksnet lab: the boot of VM %r was cancelled", event.name)
        except Exception:  # nobody waits on the thread: the guest simply never answers
            log.exception("aksnet lab: VM %r failed to boot", event.name)
        finally:
            with self._lock:
                boot = self._booting.get(event.name)
                if boot is not None and boot.cancel is cancel:
                    del self._booting[event.name]

    def _boot(
        self, event: VMEvent, reachable_at: float | None, cancel: threading.Event | None
    ) -> None:
        os_name = images.boot_os(event)  # None: no hard disk; a seeded VM then boots Linux
        seed = _seed_iso(event)
        if os_name == "Windows":
            self._windows_started(event, seed, reachable_at, cancel)
            return
        if seed is None:
            return  # no NoCloud seed: nothing to boot into yet
        if not event.adapters:
            raise LabError(f"VM '{event.name}' has a seed but no network adapter")
        assert self.runtime is not None
        mac = event.adapters[0].mac_address
        # The node image has no Kubernetes binaries: the lab brings emulated ones (lab_tools:
        # kubeadm, kubectl, and systemctl for the haproxy/keepalived units of LB VMs).
        self.runtime.start(
            LinuxVmSpec(event.name, mac, seed),
            reachable_at=reachable_at,
            cancel=cancel,
            lab_tools=True,
        )
        address = str(self.runtime.address_of(event.name))
        self.hosts[event.host].set_guest_ips(event.name, mac, [address])

    def _windows_started(
        self,
        event: VMEvent,
        seed: Path | None,
        reachable_at: float | None,
        cancel: threading.Event | None,
    ) -> None:
        assert self.windows_vms is not None
        address = self.windows_vms.start(event, seed, reachable_at=reachable_at, cancel=cancel)
        if address is not None:
            self.hosts[event.host].set_guest_ips(event.name, event.mac_addresses[0], [address])
        self.write_status("running")

    def _vm_stopped(self, event: VMEvent) -> None:
        with self._lock:
            booting = self._booting.pop(event.name, None)
        if booting is not None:
            _cancel([booting])  # its thread has removed whatever the boot had made
        if self.windows_vms is not None and self.windows_vms.knows(event.name):
            self.windows_vms.stop(event.name)
            self.write_status("running")
            return
        if self.runtime is not None:
            self.runtime.stop(event.name)  # nothing happens when it has no node

    def credentials(self) -> tuple[str, str]:
        return self.spec.username, self._password

    def endpoints(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            servers = dict(self.servers)
        return {
            name: {
                "address": server.host,
                "port": server.port,
                "url": server.url,
                "ca_path": str(server.ca_path) if server.ca_path else None,
            }
            for name, server in servers.items()
        }

    def status(self, state: str) -> dict[str, Any]:
        return {
            "lab": True,
            "banner": BANNER,
            "state": state,
            "pid": os.getpid(),
            "lab_dir": str(self.lab_dir),
            "spec": asdict(self.spec),
            "bridge": self.network.bridge if state == "running" else None,
            "subnet": str(self.network.subnet) if state == "running" else None,
            "gateway": str(self.network.gateway) if state == "running" else None,
            "dhcp_range": self.dhcp.range_text if self.dhcp and state == "running" else None,
            "dhcp": self.dhcp.status() if self.dhcp and state == "running" else None,
            "hosts": self.endpoints(),
            "linux_nodes": self.runtime.running() if self.runtime else [],
            "windows_nodes": sorted(self.windows_nodes),
            "windows_vms": self.windows_vms.status() if self.windows_vms else {},
            "credentials_file": str(self.lab_dir / CREDENTIALS_FILE),
        }

    def write_status(self, state: str) -> None:
        with self._status_lock:
            if self.lab_dir.is_dir():
                _write_private(self.lab_dir / STATUS_FILE, self.status(state))

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _cancel(boots: list[_Boot]) -> None:
    """Cancel the boots and wait for their threads (each removes what its boot made)."""
    for boot in boots:
        boot.cancel.set()
    for boot in boots:
        if boot.thread is not threading.current_thread():
            boot.thread.join(timeout=START_DEADLINE)


def _seed_iso(event: VMEvent) -> Path | None:
    """The VM's NoCloud seed among its DVD ISOs, if it has one."""
    for path in event.iso_paths:
        try:
            read_seed_iso(path)
        except AksNetError:
            continue
        return Path(path)
    return None


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically, readable by the owner only (the credentials live beside it)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=2)
    os.replace(tmp, path)
