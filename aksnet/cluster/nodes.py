"""The cluster's nodes as the setup phases reach them, made once each VM's address is known.

In the static model every address is decided before anything runs; in the DHCP model a VM's
address is learnt from its host once it runs (aksnet.infra.provision records it in
ProvisionVMs.addresses). So the nodes (a LinuxNode with its SSH session, a WindowsNode with its
PSRP session, a LoadBalancerVm with its SSH session) are made on first use, after "Provision
VMs", and the phases that need them are built then too (aksnet.cluster.deferred.Later).

Linux nodes: SSH as the admin user with the cluster's key, the VM's generated host key pinned
at its address before the first connection (so a what-if that reads facts of existing VMs
verifies them like an apply). Windows nodes: PSRP over HTTPS 5986 with NTLM, trusting only the
VM's own WinRM certificate, as the admin user with the generated password.
"""

from __future__ import annotations

from collections.abc import Sequence

from aksnet.errors import StateConflict
from aksnet.infra.linuxnode import LinuxNode
from aksnet.infra.manifests import NodeRole
from aksnet.infra.placement import CONTROL_PLANE
from aksnet.infra.provision import NodeVm, ProvisionSettings, ProvisionVMs, winrm_endpoint
from aksnet.infra.windowsjoin import WindowsNode
from aksnet.loadbalancer.setup import LoadBalancerVm
from aksnet.remote.base import Credential
from aksnet.remote.psrp import PSRPSession
from aksnet.remote.ssh import SSHSession


class ClusterNodes:
    """The Linux and Windows nodes and the load-balancer VMs of one run; close() ends every
    session it opened."""

    def __init__(
        self,
        vms: Sequence[NodeVm],
        provision: ProvisionVMs,
        settings: ProvisionSettings,
        credential: Credential | None,
    ) -> None:
        self.vms, self.provision = list(vms), provision
        self.settings, self.credential = settings, credential
        self._linux: dict[str, LinuxNode] = {}
        self._ssh: dict[str, SSHSession] = {}
        self._windows: dict[str, WindowsNode] = {}
        self._sessions: list[PSRPSession] = []

    @property
    def linux_names(self) -> list[str]:
        """The Linux Kubernetes nodes (control planes first), not the load balancers."""
        return [vm.name for vm in self._linux_vms()]

    @property
    def control_plane_names(self) -> list[str]:
        return [vm.name for vm in self.vms if vm.role == CONTROL_PLANE]

    @property
    def load_balancer_names(self) -> list[str]:
        return [vm.name for vm in self.vms if vm.is_load_balancer]

    @property
    def windows_names(self) -> list[str]:
        return [vm.name for vm in self.vms if vm.is_windows]

    @property
    def first_name(self) -> str:
        return self.linux_names[0]  # node_vms lists the control planes first

    def address(self, vm: NodeVm) -> str | None:
        """The decided address, else the one learnt from the host (None: not known yet)."""
        return vm.address or self.provision.addresses.get(vm.name)

    def linux(self) -> list[LinuxNode]:
        return [self._linux_node(vm, _role(vm, i)) for i, vm in enumerate(self._linux_vms())]

    def control_planes(self) -> list[LinuxNode]:
        return [n for n in self.linux() if n.role != "worker"]

    def first(self) -> LinuxNode:
        """The first control plane (kubeadm init; the CNI and kubectl go through it)."""
        return self._linux_node(self._linux_vms()[0], "init")

    def load_balancers(self) -> list[LoadBalancerVm]:
        """The load-balancer VMs, each with its SSH session (the admin user, pinned key)."""
        return [
            LoadBalancerVm(vm.name, self._known_address(vm), self._shell(vm))
            for vm in self.vms
            if vm.is_load_balancer
        ]

    def windows(self) -> list[WindowsNode]:
        return [self._windows_node(vm) for vm in self.vms if vm.is_windows]

    def listed(self) -> list[dict[str, str]]:
        """Each node for the result: name, role, address ('' while unknown) and OS."""
        return [
            {
                "Name": vm.name,
                "Role": vm.role,
                "Address": self.address(vm) or "",
                "OsType": vm.os_type,
            }
            for vm in self.vms
        ]

    def close(self) -> None:
        for shell in self._ssh.values():
            shell.close()
        self.provision.close()  # waited sessions no phase took
        for session in self._sessions:
            session.close()

    def _known_address(self, vm: NodeVm) -> str:
        address = self.address(vm)
        if address is None:
            raise StateConflict(
                f"VM '{vm.name}' reported no IPv4 address (DHCP): start it, or wait until its "
                "host reports the address, then run again.",
                target=vm.name,
            )
        return address

    def _linux_vms(self) -> list[NodeVm]:
        return [vm for vm in self.vms if not vm.is_windows and not vm.is_load_balancer]

    def _linux_node(self, vm: NodeVm, role: NodeRole) -> LinuxNode:
        """The VM's node, made once."""
        if vm.name not in self._linux:
            address = self._known_address(vm)
            self._linux[vm.name] = LinuxNode(vm.name, address, role, self._shell(vm))
        return self._linux[vm.name]

    def _shell(self, vm: NodeVm) -> SSHSession:
        """The VM's SSH session, made once (one per Linux VM for the whole run): the one that
        waited for the VM to answer when "Provision VMs" kept it (one connection per node per
        run), else a new one with the VM's generated host key pinned at its address first."""
        if vm.name not in self._ssh:
            address, s = self._known_address(vm), self.settings
            waited = self.provision.take_ssh(vm.name, address)
            if waited is not None:
                self._ssh[vm.name] = waited
                return waited
            s.known_hosts.pin(address, 22, vm.host_key_line)
            self._ssh[vm.name] = SSHSession(
                address, username=s.admin_user, private_key=s.admin_key, known_hosts=s.known_hosts
            )
        return self._ssh[vm.name]

    def _windows_node(self, vm: NodeVm) -> WindowsNode:
        if vm.name in self._windows:
            return self._windows[vm.name]
        address = self._known_address(vm)
        assert self.credential is not None  # node_vms made Windows VMs: create made one
        session = PSRPSession(winrm_endpoint(vm, address), self.credential)
        self._sessions.append(session)
        self._windows[vm.name] = WindowsNode(vm.name, address, session)
        return self._windows[vm.name]


def _role(vm: NodeVm, index: int) -> NodeRole:
    if vm.role != CONTROL_PLANE:
        return "worker"
    return "init" if index == 0 else "control-plane"  # node_vms lists control planes first
