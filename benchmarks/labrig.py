"""What the lab benchmarks share: a store with a static network on the lab's subnet, the hosts,
the lab process's counters as deltas, and SSH checks of the created nodes."""

from __future__ import annotations

import ipaddress
import os
import resource
import time
from pathlib import Path
from typing import Any

from aksnet.cluster.hosts import HostConnections
from aksnet.cluster.keys import ClusterKeys
from aksnet.model.network import network_setting
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.ssh import SSHSession
from aksnet.state.store import Store
from benchmarks.labproc import LabProcess

VNET = "benchnet"
WINDOWS_SIZE = "Standard_D2s_v3"
ADMIN_USER = "clouduser"


def open_store(home: Path, lab: LabProcess) -> Store:
    """A fresh store whose network is the lab's /24: nodes from .10 to .180, VIPs .200-.250."""
    status = lab.status()
    subnet = ipaddress.ip_network(status["subnet"])
    base = subnet.network_address
    store = Store(home / "aksnet.db")
    store.add_network(
        network_setting(
            name=VNET,
            vswitch_name="LabSwitch",
            ip_address_prefix=str(subnet),
            gateway=status["gateway"],
            dns_servers=[status["gateway"]],
            k8s_node_ip_pool_start=str(base + 10),
            k8s_node_ip_pool_end=str(base + 180),
            vip_pool_start=str(base + 200),
            vip_pool_end=str(base + 250),
        )
    )
    return store


def hosts(lab: LabProcess) -> HostConnections:
    return HostConnections.from_lab(lab.lab_dir)


def delta(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]], key: str
) -> dict[str, int]:
    """after - before of one counter, per server (servers that appeared count from 0)."""
    result = {}
    for name, counters in after.items():
        change = counters[key] - before.get(name, {}).get(key, 0)
        if change:
            result[name] = change
    return result


def check_linux_nodes(store: Store, cluster: str, nodes: list[dict[str, str]]) -> int:
    """SSH to every Linux node with the cluster's admin key, trusting only aksnet's pins; how
    many have joined (kubelet.conf written by the emulated kubeadm)."""
    keys = ClusterKeys.beside(store.path, cluster)
    admin = keys.admin().to_paramiko()
    joined = 0
    for node in nodes:
        if node["OsType"] != "Linux":
            continue
        session = SSHSession(
            node["Address"], username=ADMIN_USER, private_key=admin, known_hosts=_pins(keys)
        )
        try:
            probe = ["sudo", "-n", "test", "-f", "/etc/kubernetes/kubelet.conf"]
            joined += session.run(probe, check=False).exit_status == 0
        finally:
            session.close()
    return joined


def _pins(keys: ClusterKeys) -> KnownHosts:
    return keys.known_hosts


def peak_memory_mb() -> dict[str, float]:
    """This process's peak resident memory: getrusage's ru_maxrss, and VmHWM of /proc (the
    high-water mark of this program's own address space, which a fork before exec can't raise)."""
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    hwm = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) / 1024
    return {"ru_maxrss_mb": round(maxrss, 1), "vm_hwm_mb": round(hwm, 1)}


def summary(values: dict[str, int]) -> dict[str, Any]:
    numbers = list(values.values())
    if not numbers:
        return {"count": 0}
    return {"count": len(numbers), "min": min(numbers), "max": max(numbers)}


class MachineCpu:
    """The machine's busy CPU seconds (all processes: aksnet, the lab, sshd, the emulated node
    tools; and whatever else runs) and this process's own, over a block. busy / cores is the
    shortest wall time the block's CPU work allows: when it is near the wall, the run was
    CPU-bound and no orchestration could have waited less."""

    def __enter__(self) -> MachineCpu:
        self._started = (_busy_seconds(), time.process_time())
        return self

    def __exit__(self, *exc: object) -> None:
        busy, own = self._started
        self.busy_s = round(_busy_seconds() - busy, 2)
        self.aksnet_s = round(time.process_time() - own, 2)
        self.cores = os.cpu_count() or 1
        self.floor_s = round(self.busy_s / self.cores, 2)

    def to_dict(self) -> dict[str, float]:
        return {"machine_busy_cpu_s": self.busy_s, "aksnet_cpu_s": self.aksnet_s,
                "cores": self.cores, "cpu_floor_s": self.floor_s}  # fmt: skip


def _busy_seconds() -> float:
    """/proc/stat's first line: every CPU's time in user, nice, system, irq, softirq, steal."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
