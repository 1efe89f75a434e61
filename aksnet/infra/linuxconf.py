"""What a Linux node's managed files hold: modules, sysctls, the nftables table, containerd,
/etc/hosts, and the paths aksnet manages (aksnet.infra.linuxnode writes them)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from aksnet.network.plugins import KUBERNETES_PORTS, Plugin

HOSTS_FILE = "/etc/hosts"
HOSTNAME_FILE = "/etc/hostname"
MODULES_FILE = "/etc/modules-load.d/aksnet.conf"
SYSCTL_FILE = "/etc/sysctl.d/90-aksnet.conf"
NFT_FILE = "/etc/nftables.d/aksnet.nft"
NFT_TABLE = ("inet", "aksnet")
CONTAINERD_FILE = "/etc/containerd/config.toml"
KUBEADM_FILE = "/etc/kubernetes/aksnet/kubeadm-config.yaml"
KUBELET_KUBECONFIG = "/etc/kubernetes/kubelet.conf"  # kubeadm writes it on init and on join
CA_CERT = "/etc/kubernetes/pki/ca.crt"
DIRECTORIES = ("/etc/kubernetes/manifests", "/var/lib/kubelet", "/etc/cni/net.d", "/opt/cni/bin")
HOSTS_BEGIN, HOSTS_END = "# BEGIN aksnet cluster nodes", "# END aksnet cluster nodes"
# Only for planning joins in a dry run before the first control plane exists; never written.
PLACEHOLDER_CA_HASH = "sha256:" + "0" * 64

CONTAINERD_CONFIG = """\
# Managed by aksnet: containerd for kubelet with the systemd cgroup driver.
version = 2

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
"""


def modules_text(plugin: Plugin) -> str:
    lines = [f"# Managed by aksnet: kernel modules the {plugin.name} network plugin needs."]
    return "\n".join([*lines, *plugin.linux.kernel_modules]) + "\n"


def sysctl_text(plugin: Plugin) -> str:
    lines = [f"# Managed by aksnet: sysctls the {plugin.name} network plugin needs."]
    return "\n".join([*lines, *(f"{k} = {v}" for k, v in plugin.linux.sysctls)]) + "\n"


def firewall_ports(plugin: Plugin) -> list[tuple[str, str]]:
    """(protocol, port or range) the node must accept: the plugin's, then Kubernetes'."""
    ports = [(p, n) for p, n, _ in (*plugin.linux.firewall_ports, *KUBERNETES_PORTS)]
    return list(dict.fromkeys(ports))


def nft_comment(protocol: str, port: str) -> str:
    return f"aksnet {protocol}/{port}"


def nft_text(plugin: Plugin) -> str:
    """The table, replaced as a whole when loaded (create, delete, define: one transaction).

    The chain accepts and counts the ports; its policy stays accept so that it never cuts a
    node off (nftables: an accept here does not override a drop in another table's chain).
    """
    rules = [_nft_rule(protocol, port) for protocol, port in firewall_ports(plugin)]
    table = " ".join(NFT_TABLE)
    return "\n".join(
        [
            "#!/usr/sbin/nft -f",
            f"# Managed by aksnet: ports for Kubernetes and the {plugin.name} network plugin.",
            f"table {table} {{}}",
            f"delete table {table}",
            f"table {table} {{",
            "    chain input {",
            "        type filter hook input priority filter; policy accept;",
            *rules,
            "    }",
            "}",
            "",
        ]
    )


def _nft_rule(protocol: str, port: str) -> str:
    comment = json.dumps(nft_comment(protocol, port))
    return f"        {protocol} dport {port} counter accept comment {comment}"


def hosts_text(current: str, nodes: Sequence[tuple[str, str]]) -> str:
    """current /etc/hosts with aksnet's block of (address, name) replaced (or appended)."""
    block = [HOSTS_BEGIN, *(f"{address} {name}" for address, name in nodes), HOSTS_END]
    lines = current.splitlines()
    if HOSTS_BEGIN in lines and HOSTS_END in lines:
        start, end = lines.index(HOSTS_BEGIN), lines.index(HOSTS_END)
        lines[start : end + 1] = block
    else:
        lines += block
    return "\n".join(lines) + "\n"


def ca_cert_hash(pem: bytes) -> str:
    """kubeadm's discovery hash: sha256 of the CA certificate's SubjectPublicKeyInfo."""
    public_key = x509.load_pem_x509_certificate(pem).public_key()
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(spki).hexdigest()
