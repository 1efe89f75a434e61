"""The primary network plugins, calico and flannel, with the documented capability table as data.

Sources: akshci-module.md §4.2 (AKS-Hybrid/concepts-container-networking.md, the newer table) and
windows-linux-networking.md §1, §2, §3, §6 for what each plugin needs on Linux and Windows nodes.
Both plugins use VXLAN with VNI 4096 on UDP 4789 from the start on every cluster: Windows nodes
accept nothing else, a Windows pool may be added later, and a plugin's settings never change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from aksnet.errors import InvalidInput, StateConflict

DEFAULT_PLUGIN = "calico"
VXLAN_VNI = 4096  # Windows requires VNI >= 4096 (windows-linux-networking.md §1.5)
VXLAN_PORT = 4789  # Windows HNS overlay uses the IANA port; Linux flannel's 8472 must change

# Ports every Kubernetes node needs whatever the plugin (windows-linux-networking.md §3.2).
KUBERNETES_PORTS: tuple[tuple[str, str, str], ...] = (
    ("tcp", "6443", "Kubernetes API server (control plane)"),
    ("tcp", "2379-2380", "etcd (control plane)"),
    ("tcp", "10250", "kubelet API"),
    ("tcp", "10257", "kube-controller-manager (control plane)"),
    ("tcp", "10259", "kube-scheduler (control plane)"),
    ("tcp", "30000-32767", "NodePort Services"),
)


@dataclass(frozen=True)
class Capabilities:
    """The documented capability table, one column."""

    network_policies: bool
    ipv6: bool
    layers_used: str
    windows_support: bool
    pod_vm_same_network: bool
    pod_vm_other_network: bool
    deployment: str
    command_line_tool: str | None


@dataclass(frozen=True)
class LinuxNeeds:
    kernel_modules: tuple[str, ...]
    sysctls: tuple[tuple[str, str], ...]
    firewall_ports: tuple[tuple[str, str, str], ...]  # (protocol, port or range, why)


@dataclass(frozen=True)
class WindowsNeeds:
    hns_network_name: str
    hns_network_type: str
    bootstrap_network: str
    firewall_ports: tuple[tuple[str, str, str], ...]
    services: tuple[str, ...]


@dataclass(frozen=True)
class Plugin:
    name: str
    capabilities: Capabilities
    default_encapsulation: str
    encapsulations: tuple[str, ...]  # what a cluster may choose; the first is the default
    windows_encapsulations: tuple[str, ...]
    vxlan_vni: int
    vxlan_port: int
    linux: LinuxNeeds
    windows: WindowsNeeds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_BRIDGE_SYSCTLS = (
    ("net.ipv4.ip_forward", "1"),
    ("net.bridge.bridge-nf-call-iptables", "1"),
    ("net.bridge.bridge-nf-call-ip6tables", "1"),
)
_VXLAN_PORT_RULE = ("udp", str(VXLAN_PORT), "VXLAN overlay between all nodes (VNI 4096)")
_WINDOWS_PORTS = (_VXLAN_PORT_RULE, ("tcp", "10250", "kubelet API"))

FLANNEL = Plugin(
    name="flannel",
    capabilities=Capabilities(
        network_policies=False,
        ipv6=False,
        layers_used="L2 (VxLAN)",
        windows_support=True,
        pod_vm_same_network=False,
        pod_vm_other_network=True,
        deployment="Linux: DaemonSet; Windows: Windows Service",
        command_line_tool=None,
    ),
    default_encapsulation="vxlan",
    encapsulations=("vxlan",),
    windows_encapsulations=("vxlan",),
    vxlan_vni=VXLAN_VNI,
    vxlan_port=VXLAN_PORT,
    linux=LinuxNeeds(
        # flannel needs br_netfilter (kubeadm >= 1.30 no longer checks it) and the vxlan module.
        kernel_modules=("overlay", "br_netfilter", "vxlan"),
        sysctls=_BRIDGE_SYSCTLS,
        firewall_ports=(_VXLAN_PORT_RULE,),
    ),
    windows=WindowsNeeds(
        hns_network_name=f"flannel.{VXLAN_VNI}",
        hns_network_type="Overlay",
        bootstrap_network="External",
        firewall_ports=_WINDOWS_PORTS,
        services=("flanneld", "kubelet", "kube-proxy"),
    ),
)

CALICO = Plugin(
    name="calico",
    capabilities=Capabilities(
        network_policies=True,
        ipv6=True,
        layers_used="L2 (VxLAN)",
        windows_support=True,
        pod_vm_same_network=True,
        pod_vm_other_network=True,
        deployment="Linux: DaemonSet; Windows: Windows Service",
        command_line_tool="calicoctl",
    ),
    # VXLAN, not IP-in-IP, by default: Windows accepts only VXLAN and a Windows pool may come later.
    default_encapsulation="vxlan",
    encapsulations=("vxlan", "ipip"),
    windows_encapsulations=("vxlan",),
    vxlan_vni=VXLAN_VNI,
    vxlan_port=VXLAN_PORT,
    linux=LinuxNeeds(
        kernel_modules=("overlay", "br_netfilter", "vxlan", "ip_set", "xt_set", "ipip"),
        # Older Felix refuses loose reverse-path filtering (value 2); 1 is safe for all versions.
        sysctls=(*_BRIDGE_SYSCTLS, ("net.ipv4.conf.all.rp_filter", "1")),
        firewall_ports=(_VXLAN_PORT_RULE, ("tcp", "5473", "Calico Typha")),
    ),
    windows=WindowsNeeds(
        hns_network_name="Calico",
        hns_network_type="Overlay",
        bootstrap_network="External",
        firewall_ports=_WINDOWS_PORTS,
        services=("CalicoNode", "CalicoFelix", "kubelet", "kube-proxy"),
    ),
)

PLUGINS: dict[str, Plugin] = {p.name: p for p in (CALICO, FLANNEL)}


def get_plugin(name: str | None, parameter: str = "primaryNetworkPlugin") -> Plugin:
    """The plugin called name; calico when None (case-insensitive, as ValidateSet is)."""
    plugin = PLUGINS.get((name or DEFAULT_PLUGIN).lower())
    if plugin is None:
        raise InvalidInput(parameter, name, "it must be one of calico, flannel.")
    return plugin


def check_capabilities(plugin: Plugin, *, network_policies: bool, ipv6: bool) -> None:
    """Refuse a capability the plugin does not have, naming the plugin that has it."""
    wanted = {"networkPolicies": network_policies, "ipv6": ipv6}
    field_of = {"networkPolicies": "network_policies", "ipv6": "ipv6"}
    for capability, asked in wanted.items():
        if asked and not getattr(plugin.capabilities, field_of[capability]):
            others = [
                p.name for p in PLUGINS.values() if getattr(p.capabilities, field_of[capability])
            ]
            raise InvalidInput(
                capability,
                True,
                f"the {plugin.name} network plugin does not support {capability}; "
                f"use -primaryNetworkPlugin {' or '.join(others)}.",
            )


def check_encapsulation(plugin: Plugin, encapsulation: str | None, *, has_windows: bool) -> str:
    """The cluster's encapsulation; Windows pools allow only VXLAN."""
    chosen = (encapsulation or plugin.default_encapsulation).lower()
    if chosen not in plugin.encapsulations:
        allowed = ", ".join(plugin.encapsulations)
        raise InvalidInput(
            "encapsulation", encapsulation, f"{plugin.name} supports only: {allowed}."
        )
    if has_windows and chosen not in plugin.windows_encapsulations:
        raise InvalidInput(
            "encapsulation",
            encapsulation,
            f"Windows nodes support only {', '.join(plugin.windows_encapsulations)} "
            f"with {plugin.name} (no IP-in-IP, no BGP).",
        )
    return chosen


def check_plugin_unchanged(cluster: str, current: str, requested: str | None) -> None:
    """The plugin is chosen at creation and never changed (§4.2)."""
    if requested is not None and requested.lower() != current:
        raise StateConflict(
            f"Cluster '{cluster}' uses the {current} network plugin. The primary network plugin "
            "cannot be changed after the cluster has been deployed; it applies to both Linux and "
            "Windows nodes. Create a new cluster to use another plugin.",
            target=cluster,
        )
