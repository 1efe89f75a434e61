"""kube-vip's static pod manifest for the control-plane nodes of a cluster with loadBalancerSku
none (reference §4.1): no load-balancer VM; kube-vip holds the API-server VIP with ARP on the
node's interface, moving it between control-plane nodes by leader election.

The manifest goes to /etc/kubernetes/manifests/kube-vip.yaml of every control-plane node before
`kubeadm init`/`join`, so the VIP answers before kubeadm waits for it. LoadBalancer Services get
no address (kube-vip's Service support stays off), as AksHci documents for `none`.
"""

from __future__ import annotations

import ipaddress
import logging
import re

from aksnet.errors import InvalidInput
from aksnet.infra.templates import render
from aksnet.loadbalancer.frontends import API_SERVER_PORT

log = logging.getLogger(__name__)

TEMPLATE = "kube-vip.yaml.j2"
MANIFEST_PATH = "/etc/kubernetes/manifests/kube-vip.yaml"
DEFAULT_IMAGE = "ghcr.io/kube-vip/kube-vip:v0.8.0"
# kubeadm >= 1.29 gives admin.conf its rights only after init: the first node's kube-vip needs
# super-admin.conf until then; the other nodes use admin.conf.
ADMIN_KUBECONFIG = "/etc/kubernetes/admin.conf"
SUPER_ADMIN_KUBECONFIG = "/etc/kubernetes/super-admin.conf"
_INTERFACE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:-]*(@sha256:[0-9a-f]{64})?$")


def render_kube_vip_manifest(
    api_vip: str,
    interface: str,
    *,
    port: int = API_SERVER_PORT,
    image: str = DEFAULT_IMAGE,
    first_control_plane: bool = False,
) -> str:
    """The kube-vip static pod (YAML) of a control-plane node; first_control_plane: the node
    that runs `kubeadm init` (it uses super-admin.conf)."""
    try:
        if not isinstance(api_vip, str) or str(ipaddress.IPv4Address(api_vip)) != api_vip:
            raise ValueError(api_vip)
    except ValueError:
        raise InvalidInput("api_vip", api_vip, "an IPv4 address, such as 198.18.0.200.") from None
    if not isinstance(interface, str) or not _INTERFACE.match(interface):
        raise InvalidInput("interface", interface, "a Linux interface name, such as eth0.")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidInput("port", port, "a whole number from 1 to 65535.")
    if not isinstance(image, str) or not _IMAGE.match(image):
        raise InvalidInput("image", image, "a container image reference, such as " + DEFAULT_IMAGE)
    kubeconfig = SUPER_ADMIN_KUBECONFIG if first_control_plane else ADMIN_KUBECONFIG
    log.debug("rendering the kube-vip manifest for VIP %s on %s", api_vip, interface)
    return render(
        TEMPLATE,
        api_vip=api_vip,
        interface=interface,
        port=port,
        image=image,
        kubeconfig=kubeconfig,
    )
