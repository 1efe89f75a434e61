"""Kubernetes artifacts of a cluster rendered from templates/: the kubeadm configuration of each
node and the CNI manifests (flannel or Calico) applied through the first control-plane node.

Every value comes from the validated ClusterSpec and the plugin data (aksnet.network.plugins), so
Linux and Windows nodes agree on the overlay: VXLAN, VNI 4096, UDP 4789 (reference §6). A kubeadm
configuration carries the join token, so it is returned as a KubeadmConfig whose repr and
``redacted()`` text show the secrets only as ``<N characters>``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Any, Literal

import yaml

from aksnet.errors import InvalidInput, mask
from aksnet.infra.jointoken import CertificateKey, JoinToken, Secret
from aksnet.infra.templates import render
from aksnet.model.cluster import ClusterSpec
from aksnet.network.plugins import get_plugin

log = logging.getLogger(__name__)

API_SERVER_PORT = 6443
DNS_DOMAIN = "cluster.local"
DEFAULT_TOKEN_TTL = "2h0m0s"  # long enough for a cluster creation, short enough to be harmless
LINUX_CRI_SOCKET = "unix:///var/run/containerd/containerd.sock"
WINDOWS_CRI_SOCKET = "npipe:////./pipe/containerd-containerd"
MIN_KUBEADM_V1BETA3 = (1, 22)
FLANNEL_NAMESPACE = "kube-flannel"
FLANNEL_IMAGE = "ghcr.io/flannel-io/flannel:v0.28.9"
FLANNEL_CNI_PLUGIN_IMAGE = "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3"
CALICO_BLOCK_SIZES = range(20, 33)  # IPPool blockSize for IPv4 (reference §4.3)

NodeRole = Literal["init", "control-plane", "worker"]
ROLES: tuple[NodeRole, ...] = ("init", "control-plane", "worker")
_CA_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAINT = re.compile(r"^(?P<key>[A-Za-z0-9./_-]+)(=(?P<value>[A-Za-z0-9._-]*))?:(?P<effect>\w+)$")
_DURATION = re.compile(r"^([0-9]+(ns|us|ms|s|m|h))+$")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


@dataclass(frozen=True)
class KubeadmNode:
    """One node as kubeadm sees it. address is None when DHCP assigns it."""

    name: str
    role: NodeRole
    address: str | None = None
    os_type: str = "Linux"
    max_pods: int | None = None
    taints: tuple[str, ...] | None = None  # "key=value:Effect"; None = kubeadm's default


@dataclass(frozen=True)
class KubeadmConfig:
    """A rendered kubeadm configuration; its text holds secrets, so it is not shown."""

    node: str
    role: NodeRole
    _text: str = field(repr=False)
    _secrets: tuple[Secret, ...] = field(repr=False, default=())

    def reveal(self) -> str:
        """The full text, for the one step that writes it to the node (never to a log)."""
        return self._text

    def redacted(self) -> str:
        """The text with each secret replaced by ``<N characters>``: safe for logs and plans."""
        text = self._text
        for secret in self._secrets:
            text = text.replace(secret.reveal(), mask(secret.reveal()))
        return text

    def __repr__(self) -> str:
        return f"KubeadmConfig(node={self.node!r}, role={self.role!r}, text={mask(self._text)})"

    __str__ = __repr__


def render_kubeadm_config(
    spec: ClusterSpec,
    api_vip: str,
    node: KubeadmNode,
    token: JoinToken,
    *,
    ca_cert_hashes: Sequence[str] = (),
    certificate_key: CertificateKey | None = None,
    extra_sans: Sequence[str] = (),
    token_ttl: str = DEFAULT_TOKEN_TTL,
) -> KubeadmConfig:
    """The kubeadm configuration for node: InitConfiguration + ClusterConfiguration for the
    first control-plane node, JoinConfiguration for the others (pinned to the cluster CA)."""
    _check_version(spec.kubernetes_version)
    vip = _ipv4("api_vip", api_vip)
    _check_node(node, ca_cert_hashes, certificate_key)
    if not _DURATION.match(str(token_ttl)):
        raise InvalidInput("token_ttl", token_ttl, "give a Go duration such as 2h0m0s or 30m.")
    endpoint = f"{vip}:{API_SERVER_PORT}"
    cluster = {
        "name": spec.name,
        "kubernetes_version": spec.kubernetes_version,
        "control_plane_endpoint": endpoint,
        "pod_subnet": spec.pod_cidr,
        "service_subnet": spec.service_cidr,
        "dns_domain": DNS_DOMAIN,
        "cert_sans": list(dict.fromkeys([vip, *(_san(s) for s in extra_sans)])),
    }
    text = render(
        "kubeadm-config.yaml.j2",
        cluster=cluster,
        node=_node_context(node),
        token=token.reveal(),
        token_ttl=token_ttl,
        ca_cert_hashes=list(ca_cert_hashes),
        certificate_key=certificate_key.reveal() if certificate_key else None,
        api_port=API_SERVER_PORT,
    )
    secrets = tuple(s for s in (token, certificate_key) if s is not None)
    log.debug(
        "rendered kubeadm %s configuration for %s (endpoint %s)", node.role, node.name, endpoint
    )
    return KubeadmConfig(node.name, node.role, text, secrets)


def render_cni_text(spec: ClusterSpec) -> str:
    """The CNI manifests of the cluster's plugin as one multi-document YAML text."""
    if get_plugin(spec.primary_network_plugin).name == "flannel":
        return render("flannel.yaml.j2", **_flannel_context(spec))
    return render("calico.yaml.j2", **_calico_context(spec), service_cidr=spec.service_cidr)


def render_cni(spec: ClusterSpec) -> list[dict[str, Any]]:
    """The CNI manifests as parsed YAML documents, in the order they are applied."""
    return [d for d in yaml.safe_load_all(render_cni_text(spec)) if d]


def calico_ip_pool(spec: ClusterSpec) -> dict[str, Any]:
    """The projectcalico.org/v3 IPPool the Tigera operator makes from the Installation: what a
    check of the applied cluster compares with."""
    if spec.primary_network_plugin != "calico":
        raise InvalidInput(
            "primaryNetworkPlugin", spec.primary_network_plugin, "IP pools exist only with calico."
        )
    document = yaml.safe_load(render("calico-ippool.yaml.j2", **_calico_context(spec)))
    if not isinstance(document, dict):
        raise TypeError(f"calico-ippool.yaml.j2 rendered {type(document).__name__}, not a mapping")
    return document


# The Linux CNI conflist of kube-flannel.yml (reference §4.2).
_FLANNEL_CNI_CONF: dict[str, Any] = {
    "name": "cbr0",
    "cniVersion": "0.3.1",
    "plugins": [
        {"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}},
        {"type": "portmap", "capabilities": {"portMappings": True}},
    ],
}


def _flannel_context(spec: ClusterSpec) -> dict[str, Any]:
    plugin = get_plugin("flannel")
    # VNI 4096 and port 4789 on Linux too, or Windows nodes cannot join the overlay (§1.5).
    net_conf = {
        "Network": spec.pod_cidr,
        "SubnetLen": spec.node_cidr_mask,
        "EnableNFTables": False,
        "Backend": {"Type": "vxlan", "VNI": plugin.vxlan_vni, "Port": plugin.vxlan_port},
    }
    return {
        "namespace": FLANNEL_NAMESPACE,
        "net_conf": net_conf,
        "cni_conf": _FLANNEL_CNI_CONF,
        "flannel_image": FLANNEL_IMAGE,
        "cni_plugin_image": FLANNEL_CNI_PLUGIN_IMAGE,
    }


def _calico_context(spec: ClusterSpec) -> dict[str, Any]:
    # One block per node: the model sizes the pod CIDR and max pods by node_cidr_mask already.
    if spec.node_cidr_mask not in CALICO_BLOCK_SIZES:
        raise InvalidInput(
            "nodeCidrMask", spec.node_cidr_mask, "Calico block sizes are /20 to /32 for IPv4."
        )
    vxlan = spec.has_windows or spec.encapsulation == "vxlan"
    return {
        "pod_cidr": spec.pod_cidr,
        "encapsulation": "VXLAN" if vxlan else "IPIP",
        "block_size": spec.node_cidr_mask,
        "windows": spec.has_windows,
    }


def _node_context(node: KubeadmNode) -> dict[str, Any]:
    extra: dict[str, str] = {}
    if node.address:
        extra["node-ip"] = node.address
    if node.max_pods is not None:
        extra["max-pods"] = str(node.max_pods)
    return {
        "name": node.name,
        "role": node.role,
        "address": node.address,
        "cri_socket": WINDOWS_CRI_SOCKET if node.os_type == "Windows" else LINUX_CRI_SOCKET,
        "kubelet_extra_args": extra,
        "taints": None if node.taints is None else [_taint(t) for t in node.taints],
    }


def _check_node(
    node: KubeadmNode, ca_cert_hashes: Sequence[str], certificate_key: CertificateKey | None
) -> None:
    if node.role not in ROLES:
        raise InvalidInput("role", node.role, f"it must be one of {', '.join(ROLES)}.")
    if node.os_type not in ("Linux", "Windows"):
        raise InvalidInput("osType", node.os_type, "it must be Linux or Windows.")
    if node.os_type == "Windows" and node.role != "worker":
        raise InvalidInput("role", node.role, "Windows nodes can only be workers.")
    if node.address is not None:
        _ipv4("address", node.address)
    if node.role == "init":
        return
    if not ca_cert_hashes:
        raise InvalidInput(
            "ca_cert_hashes", [], "a joining node pins the cluster CA: give sha256:<hex> hashes."
        )
    for value in ca_cert_hashes:
        if not _CA_HASH.match(str(value)):
            raise InvalidInput("ca_cert_hashes", value, "each must be sha256: and 64 hex digits.")
    if node.role == "control-plane" and certificate_key is None:
        raise InvalidInput(
            "certificate_key", None, "a joining control-plane node needs the certificate key."
        )


def _check_version(version: str) -> None:
    major, minor = (int(p) for p in version.lstrip("v").split(".")[:2])
    if (major, minor) < MIN_KUBEADM_V1BETA3:
        raise InvalidInput(
            "kubernetesVersion", version, "kubeadm config v1beta3 needs Kubernetes v1.22 or later."
        )


def _ipv4(parameter: str, value: str) -> str:
    try:
        return str(IPv4Address(str(value)))
    except ValueError:
        raise InvalidInput(parameter, value, "it must be an IPv4 address.") from None


def _san(value: str) -> str:
    """A certificate SAN: an IPv4 address or a DNS name."""
    text = str(value)
    if re.fullmatch(r"[0-9.]+", text):
        return _ipv4("extra_sans", text)
    if not re.fullmatch(r"(?=.{1,253}$)[a-z0-9]([a-z0-9.-]*[a-z0-9])?", text):
        raise InvalidInput("extra_sans", value, "each must be an IPv4 address or a DNS name.")
    return text


def _taint(text: str) -> dict[str, str]:
    found = _TAINT.match(str(text))
    if found is None or found["effect"] not in _TAINT_EFFECTS:
        raise InvalidInput(
            "taints", text, f"a taint is key[=value]:effect with effect in {_TAINT_EFFECTS}."
        )
    taint = {"key": found["key"], "effect": found["effect"]}
    if found["value"]:
        taint["value"] = found["value"]
    return taint
