"""The load balancer of a cluster create: the phase each loadBalancerSku adds after "Provision VMs".

HAProxy: "Configure the load balancer" runs aksnet.loadbalancer.setup.LoadBalancerSetup on the
cluster's load-balancer VMs (`<cluster>-lb-<i>`) with the API server's frontend, the API VIP:6443
to port 6443 of every control-plane node. It runs before "Set up Linux nodes": kubeadm init and
the joins reach the control plane through the VIP (controlPlaneEndpoint), so the VIP must answer
as soon as the first API server does; HAProxy's health checks mark a control plane up once it
serves. A control-plane change (Set-AksHciCluster) runs create again, so the frontend's backends
follow the control planes (a reload, which keeps established connections).

none: no load-balancer VM; "Write the kube-vip manifests" puts kube-vip's static pod
(aksnet.loadbalancer.kubevip) into /etc/kubernetes/manifests/ of every control-plane node before
kubeadm runs there, so kube-vip holds the API VIP. LoadBalancer Services get no address, as
AksHci documents for `none` (the create's result says so).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from aksnet.cluster.deferred import AfterVmsExist, Later
from aksnet.cluster.nodes import ClusterNodes
from aksnet.infra.linuxfacts import NodeShell
from aksnet.infra.linuxnode import LinuxNode, NodeSetup
from aksnet.loadbalancer.frontends import API_FRONTEND, API_SERVER_PORT, Backend, Frontend
from aksnet.loadbalancer.heldvips import ApiVipHeld
from aksnet.loadbalancer.kubevip import MANIFEST_PATH, render_kube_vip_manifest
from aksnet.loadbalancer.setup import LoadBalancerSetup
from aksnet.model.cluster import ClusterSpec
from aksnet.plan import Phase
from aksnet.plan.parallel import HostWork
from aksnet.plan.runner import RunContext

log = logging.getLogger(__name__)

NODE_INTERFACE = "eth0"  # the node image's one network interface (the VIPs go on it)
NO_SERVICE_ADDRESSES = (
    "Cluster '{name}' has loadBalancerSku none: kube-vip on the control-plane nodes holds the "
    "API VIP {vip}; LoadBalancer Services get no address."
)


def api_frontend(api_vip: str, control_planes: Sequence[LinuxNode]) -> Frontend:
    """The API server's frontend: VIP:6443 to port 6443 of every control-plane node."""
    backends = tuple(sorted(Backend(n.name, n.address, API_SERVER_PORT) for n in control_planes))
    return Frontend(API_FRONTEND, api_vip, API_SERVER_PORT, backends)


class KubeVipManifests:
    """Writes kube-vip's static pod manifest on every control-plane node (through the gate)."""

    title = "Write the kube-vip manifests"

    def __init__(self, control_planes: Sequence[LinuxNode], api_vip: str) -> None:
        self.nodes, self.api_vip = tuple(control_planes), api_vip

    def prepare(self, ctx: RunContext) -> bool:
        return bool(self.nodes)

    def run(self, ctx: RunContext) -> None:
        ctx.each_host([HostWork(n.name, self._writer(ctx, n)) for n in self.nodes])

    def _writer(self, ctx: RunContext, node: LinuxNode) -> Callable[[], None]:
        text = render_kube_vip_manifest(
            self.api_vip, NODE_INTERFACE, first_control_plane=node.role == "init"
        )

        def write() -> None:
            NodeSetup(ctx, node).ensure_file(MANIFEST_PATH, text.encode(), 0o644)

        return write


def load_balancer_phases(
    spec: ClusterSpec,
    api_vip: str,
    nodes: ClusterNodes,
    service_frontends: Callable[[], Sequence[Frontend]] = tuple,
) -> list[Phase]:
    """The phase of the cluster's loadBalancerSku, built once the VMs run (Later).

    service_frontends: the Services' frontends to keep serving beside the API server's (those
    of the last Sync-AksHciLoadBalancer, aksnet.loadbalancer.saved), so that a create run again
    (a control-plane change, a repair) does not drop the Services' VIPs from HAProxy.
    """
    if spec.load_balancer.sku == "none":

        def kube_vip() -> Phase:
            return KubeVipManifests(nodes.control_planes(), api_vip)

        later = Later(KubeVipManifests.title, kube_vip)
        return [AfterVmsExist(later, nodes.control_plane_names)]
    if not nodes.load_balancer_names:
        return []

    def configure() -> Phase:
        frontend = api_frontend(api_vip, nodes.control_planes())
        log.debug("API frontend of %s: %d control plane(s)", spec.name, len(frontend.backends))
        return LoadBalancerSetup(
            nodes.load_balancers(),
            [frontend, *service_frontends()],
            cluster=spec.name,
            api_vip=api_vip,
            interface=NODE_INTERFACE,
        )

    later = Later(LoadBalancerSetup.title, configure)
    return [AfterVmsExist(later, nodes.load_balancer_names)]


def api_vip_wait(spec: ClusterSpec, api_vip: str, nodes: ClusterNodes) -> list[Phase]:
    """The create's last phase when HAProxy VMs serve the API: wait until keepalived holds the
    API VIP on one of them (kube-vip, for loadBalancerSku none, takes it with the API server)."""
    if spec.load_balancer.sku == "none" or not nodes.load_balancer_names:
        return []

    def shells() -> list[tuple[str, NodeShell]]:
        return [(vm.name, vm.shell) for vm in nodes.load_balancers()]

    return [ApiVipHeld(shells, api_vip)]
