"""keepalived.conf of a load-balancer VM, rendered from templates/keepalived.conf.j2.

One VRRP instance per cluster holds every VIP of the cluster (the API server's, and the Service
VIPs) on the VMs' interface, so the VIPs move together to another load-balancer VM when HAProxy
or the VM fails. The same configuration serves one VM and several: VM 0 starts as MASTER with
the highest priority, the others as BACKUP with priorities by index. The virtual_router_id is
derived from the cluster's name (clusters sharing a network get different ids, unless two names
collide: then pass one explicitly). VRRP authentication is off: VRRPv2's password travels in
clear text, so it would protect nothing and could leak.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from collections.abc import Sequence

from aksnet.errors import InvalidInput
from aksnet.infra.templates import render
from aksnet.model.cluster import check_cluster_name

log = logging.getLogger(__name__)

TEMPLATE = "keepalived.conf.j2"
CONFIG_PATH = "/etc/keepalived/keepalived.conf"
HAPROXY_PIDFILE = "/run/haproxy.pid"  # Debian's haproxy.service writes the master's PID here
MAX_VMS = 100  # priorities 150 down to 51 keep clear of 255 (address owner) and 0 (resign)
_INTERFACE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")  # Linux IFNAMSIZ, no '/' or spaces


def virtual_router_id(cluster: str) -> int:
    """The VRRP router id (1..255) of a cluster: stable, derived from its name."""
    digest = hashlib.sha256(check_cluster_name(cluster).encode()).digest()
    return int.from_bytes(digest[:4], "big") % 255 + 1


def priority(index: int) -> int:
    """VRRP priority of load-balancer VM `index` (0 is preferred)."""
    return 150 - index


def render_keepalived_config(
    *,
    cluster: str,
    interface: str,
    api_vip: str,
    service_vips: Sequence[str] = (),
    index: int = 0,
    address: str | None = None,
    peers: Sequence[str] = (),
    router_id: int | None = None,
) -> str:
    """keepalived.conf for load-balancer VM `index` of `cluster`.

    peers: the other load-balancer VMs' addresses, for unicast VRRP (address is then this VM's
    own); empty: multicast on the interface's link. service_vips are sorted and deduplicated.
    """
    check_cluster_name(cluster)
    if not isinstance(interface, str) or not _INTERFACE.match(interface):
        raise InvalidInput("interface", interface, "a Linux interface name, such as eth0.")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < MAX_VMS:
        raise InvalidInput("index", index, f"a whole number from 0 to {MAX_VMS - 1}.")
    vrid = virtual_router_id(cluster) if router_id is None else router_id
    if isinstance(vrid, bool) or not isinstance(vrid, int) or not 1 <= vrid <= 255:
        raise InvalidInput("router_id", vrid, "a whole number from 1 to 255.")
    api = _ipv4("api_vip", api_vip)
    services = sorted({_ipv4("service_vips", v) for v in service_vips} - {api})
    unicast = [_ipv4("peers", p) for p in peers]
    if unicast and address is None:
        raise InvalidInput("address", address, "this VM's address, needed with peers.")
    log.debug("rendering keepalived.conf of %s VM %d: %d VIP(s)", cluster, index, 1 + len(services))
    return render(
        TEMPLATE,
        cluster=cluster,
        index=index,
        instance=f"aksnet_{cluster}",
        interface=interface,
        virtual_router_id=vrid,
        priority=priority(index),
        haproxy_pidfile=HAPROXY_PIDFILE,
        api_vip=str(api),
        service_vips=[str(v) for v in services],
        address=_ipv4("address", address) if unicast else None,
        peers=[str(p) for p in unicast],
    )


def _ipv4(parameter: str, value: object) -> ipaddress.IPv4Address:
    try:
        if isinstance(value, str) and str(ipaddress.IPv4Address(value)) == value:
            return ipaddress.IPv4Address(value)
    except ValueError:
        pass
    raise InvalidInput(parameter, value, "an IPv4 address in dotted form, such as 198.18.0.10.")
