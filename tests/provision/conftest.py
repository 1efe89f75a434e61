"""A two-host lab with the node image in place, a store with its network, PSRP sessions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aksnet.infra.hostkeys import HostKeyPair, generate_host_key
from aksnet.infra.provision import DEFAULT_IMAGE, ProvisionSettings
from aksnet.lab import images
from aksnet.lab.fabric import Lab, LabSpec
from aksnet.lab.linux import sweep
from aksnet.model.network import NetworkSetting, network_setting
from aksnet.remote import psfiles
from aksnet.remote.base import Cmdlet
from aksnet.remote.known_hosts import KnownHosts
from aksnet.remote.psrp import PSRPSession
from aksnet.state.store import Store
from tests.lab import vms
from tests.linuxlab.conftest import _needs_root

SLOTS = range(256, 512)  # 198.19.0.0/16: never a lab someone runs
VLAN = 7


@dataclass
class Fabric:
    lab: Lab
    sessions: dict[str, PSRPSession]
    network: NetworkSetting
    store: Store
    admin: HostKeyPair
    tmp: Path

    def settings(self, **changes: object) -> ProvisionSettings:
        values: dict[str, object] = {
            "switch_name": "LabSwitch",
            "vlan_id": VLAN,
            "admin_user": "clouduser",
            "admin_key": self.admin.to_paramiko(),
            "known_hosts": KnownHosts(self.tmp / "known_hosts"),
            "ssh_timeout": 60.0,
        }
        values.update(changes)
        return ProvisionSettings(**values)  # type: ignore[arg-type]

    def round_trips(self) -> dict[str, int]:
        return {h: self.lab.servers[h].stats.round_trips for h in self.sessions}


def node_image(session: PSRPSession, path: str = DEFAULT_IMAGE, os_name: str = "Linux") -> None:
    """(Re)write the lab's stand-in node image the differencing disks point at: the one line
    marker saying which OS boots from it (the lab writes these itself at start; tests that
    remove one put it back with this)."""
    folder = path.rsplit("\\", 1)[0]
    session.invoke(Cmdlet.of("New-Item", ItemType="Directory", Path=folder, Force=True))
    psfiles.put(session, images.marker(os_name), path)


def lab_network(lab: Lab) -> NetworkSetting:
    subnet, gateway = lab.network.subnet, lab.network.gateway
    return network_setting(
        name="provnet",
        vswitch_name="LabSwitch",
        vlan_id=VLAN,
        ip_address_prefix=str(subnet),
        gateway=str(gateway),
        dns_servers=[str(gateway)],
        k8s_node_ip_pool_start=str(subnet.network_address + 10),
        k8s_node_ip_pool_end=str(subnet.network_address + 40),
        vip_pool_start=str(subnet.network_address + 200),
        vip_pool_end=str(subnet.network_address + 210),
    )


@pytest.fixture
def fabric(tmp_path: Path) -> Iterator[Fabric]:
    _needs_root()
    lab_dir = tmp_path / "lab"
    lab = Lab(lab_dir, LabSpec(hosts=2), prefix="akv", slots=SLOTS)
    sessions: dict[str, PSRPSession] = {}
    store: Store | None = None
    try:
        lab.start()
        for host in ("hci1", "hci2"):
            sessions[host] = vms.psrp_session(lab.endpoints()[host], *lab.credentials())
            node_image(sessions[host])
        store = Store(tmp_path / "store.db")
        network = lab_network(lab)
        store.add_network(network)
        admin = generate_host_key("ed25519")
        yield Fabric(lab, sessions, network, store, admin, tmp_path)
    finally:
        for session in sessions.values():
            session.close()
        if store is not None:
            store.close()
        lab.stop()
        sweep(lab_dir)
