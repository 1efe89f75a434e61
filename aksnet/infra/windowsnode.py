"""Windows node setup over PSRP: firewall, HNS networks, kube-proxy configuration, services.

Facts are typed reads of one node (a firewall rule, an HNS network by name, a file's SHA-256, a
service's status); every mutation passes `RunContext.wet`, so a second run performs zero actions
and a dry run changes nothing. Steps per node (windows-linux-networking.md §1-2, §6):

1. the firewall rules of the plugin (UDP 4789 for VXLAN, TCP 10250 for the kubelet), aksnet-*;
2. the HNS helper module aksnet brings (aksnet/data/hns.psm1): the inbox HostNetworkingService
   module has no New-HnsNetwork, so the file is shipped and imported in the same round trip as
   every New-HnsNetwork call (a reboot forgets imported modules);
3. the bootstrap overlay network "External" (VSID 9999), only when absent: creating it blips the
   node's network, so a surviving one is never touched;
4. the plugin's pod network ("flannel.4096" or "Calico", Overlay, VNI 4096). aksnet creates it
   itself when absent, with the shape flanneld / Calico would create, then waits for it with a
   deadline: flanneld's ensureNetwork reuses a network of the same type and prefix, so this is
   harmless on a real node, and the lab's emulated services do not create networks;
5. kube-proxy's configuration (kernelspace, WinOverlay, source VIP, network name), restarting
   kube-proxy when it changes or when its network was recreated;
6. the plugin's services, started when not running.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from aksnet.errors import InvalidInput, OperationTimedOut
from aksnet.network.plugins import Plugin
from aksnet.plan import Forecast, RunContext
from aksnet.plan.parallel import HostWork
from aksnet.remote import psfiles
from aksnet.remote.base import Cmdlet, Pipeline, PowerShellSession

log = logging.getLogger(__name__)

HELPER_DIR = "C:\\ProgramData\\AksNet"
HELPER_PATH = HELPER_DIR + "\\hns.psm1"
KUBE_PROXY_CONFIG = HELPER_DIR + "\\kube-proxy.conf"
HELPER_MODULE = Path(__file__).resolve().parent.parent / "data" / "hns.psm1"

NODE_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")

BOOTSTRAP_PREFIX = "192.168.255.0/30"
BOOTSTRAP_GATEWAY = "192.168.255.1"
BOOTSTRAP_VSID = 9999  # the bootstrap network's VSID is not the pods' VNI (reference §1.2)


@dataclass(frozen=True)
class HnsNetworkInfo:
    """What aksnet checks of an HNS network: its type, first subnet and that subnet's VSID."""

    name: str
    type: str
    address_prefix: str | None
    vni: int | None
    id: str = field(default="", compare=False)


def network_info(obj: dict[str, Any]) -> HnsNetworkInfo:
    """An HnsNetwork object (Get-HnsNetwork output) as HnsNetworkInfo."""
    subnets = obj.get("Subnets") or []
    first = subnets[0] if subnets and isinstance(subnets[0], dict) else {}
    vsid = next(
        (p.get("VSID") for p in first.get("Policies") or [] if p.get("Type") == "VSID"), None
    )
    return HnsNetworkInfo(
        name=str(obj.get("Name", "")),
        type=str(obj.get("Type", "")),
        address_prefix=first.get("AddressPrefix"),
        vni=int(vsid) if vsid is not None else None,
        id=str(obj.get("ID") or obj.get("Id") or ""),
    )


def network_document(name: str, prefix: str, gateway: str, vsid: int) -> str:
    """The HNS v1 JSON hns.psm1's New-HnsNetwork POSTs for an overlay subnet with a VSID."""
    subnet = {
        "AddressPrefix": prefix,
        "GatewayAddress": gateway,
        "Policies": [{"Type": "VSID", "VSID": vsid}],
    }
    return json.dumps({"Type": "Overlay", "Name": name, "Subnets": [subnet]})


# ---- facts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirewallRuleFact:
    """The firewall rule called `name` (its Protocol and LocalPort), None when absent."""

    session: PowerShellSession = field(compare=False)
    name: str

    @property
    def key(self) -> str:
        return f"windows.firewall-rule:{self.name.lower()}"

    def read(self, host: str) -> dict[str, Any] | None:
        found = self.session.invoke(
            Cmdlet.of("Get-NetFirewallRule", Name=[self.name], ErrorAction="SilentlyContinue")
        )
        return next((r for r in found if isinstance(r, dict)), None)


@dataclass(frozen=True)
class HnsNetworkFact:
    """The HNS network called `name` (case-insensitive, as WaitForNetwork compares), or None."""

    session: PowerShellSession = field(compare=False)
    name: str

    @property
    def key(self) -> str:
        return f"windows.hns-network:{self.name.lower()}"

    def read(self, host: str) -> HnsNetworkInfo | None:
        networks = [n for n in self.session.invoke(Cmdlet.of("Get-HnsNetwork")) if n]
        return next(
            (
                network_info(n)
                for n in networks
                if str(n.get("Name", "")).lower() == self.name.lower()
            ),
            None,
        )


@dataclass(frozen=True)
class FileHashFact:
    """The SHA-256 (upper-case hex) of the file at `path`, None when there is no such file."""

    session: PowerShellSession = field(compare=False)
    path: str

    @property
    def key(self) -> str:
        return f"windows.file-sha256:{self.path.lower()}"

    def read(self, host: str) -> str | None:
        # A missing file is a non-terminating error of Get-FileHash: silenced, it reads as None.
        found = self.session.invoke(
            Cmdlet.of(
                "Get-FileHash",
                LiteralPath=self.path,
                Algorithm="SHA256",
                ErrorAction="SilentlyContinue",
            )
        )
        return next((str(h["Hash"]).upper() for h in found if isinstance(h, dict)), None)


@dataclass(frozen=True)
class ServiceStatusFact:
    """The Status of the service called `name` ("Running", "Stopped", ...), None when absent."""

    session: PowerShellSession = field(compare=False)
    name: str

    @property
    def key(self) -> str:
        return f"windows.service-status:{self.name.lower()}"

    def read(self, host: str) -> str | None:
        found = self.session.invoke(
            Cmdlet.of("Get-Service", Name=[self.name], ErrorAction="SilentlyContinue")
        )
        return next((str(s["Status"]) for s in found if isinstance(s, dict)), None)


# ---- the node and its desired state -------------------------------------------------------


@dataclass(frozen=True)
class WindowsNodeSpec:
    """One Windows node: its name in plans, a session to it, its pod subnet, the cluster's."""

    name: str
    session: PowerShellSession = field(compare=False, repr=False)
    pod_subnet: str  # this node's lease, e.g. 10.244.3.0/24
    cluster_cidr: str  # the cluster's pod CIDR, e.g. 10.244.0.0/16

    def __post_init__(self) -> None:
        if not NODE_NAME.fullmatch(self.name):
            raise InvalidInput(
                "name",
                self.name,
                "it must be a node name of 1 to 63 letters, digits and hyphens, "
                "starting and ending with a letter or digit.",
            )
        subnet = _network("pod_subnet", self.pod_subnet)
        cluster = _network("cluster_cidr", self.cluster_cidr)
        if subnet.num_addresses < 4 or not subnet.subnet_of(cluster):
            raise InvalidInput(
                "pod_subnet",
                self.pod_subnet,
                f"it must be a subnet of cluster_cidr {self.cluster_cidr} of /30 or larger.",
            )

    @property
    def gateway(self) -> str:
        return str(_network("pod_subnet", self.pod_subnet).network_address + 1)

    @property
    def source_vip(self) -> str:
        """kube-proxy's source VIP: the first address host-local hands out after the gateway
        (what GetSourceVip obtains from host-local on a flannel node, reference §1.7)."""
        return str(_network("pod_subnet", self.pod_subnet).network_address + 2)


def _network(parameter: str, value: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise InvalidInput(
            parameter, value, "it must be an IPv4 network such as 10.244.3.0/24."
        ) from None


def kube_proxy_config(plugin: Plugin, node: WindowsNodeSpec) -> bytes:
    """KubeProxyConfiguration for the winkernel proxier in overlay mode (reference §1.7).

    JSON (which kube-proxy's --config accepts, JSON being YAML): every value is quoted by the
    encoder, never pasted into text.
    """
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "kernelspace",
        "hostnameOverride": node.name.lower(),
        "clusterCIDR": node.cluster_cidr,
        "featureGates": {"WinOverlay": True},
        "winkernel": {
            "networkName": plugin.windows.hns_network_name,
            "sourceVip": node.source_vip,
            "enableDSR": False,
        },
    }
    return (json.dumps(config, indent=2) + "\n").encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest().upper()


# ---- the phase ------------------------------------------------------------------------------


class WindowsNodeSetup:
    """Set up every Windows node for `plugin`, nodes in parallel; idempotent.

    create_pod_network: aksnet creates the plugin's HNS network itself before starting the
    services (the default; the lab's emulated flanneld and Calico services create nothing). With
    False, aksnet only starts the services and waits for them to create it, as the scripted
    flows of reference §1.1 do on a real node.
    """

    title = "Set up Windows nodes"

    def __init__(
        self,
        plugin: Plugin,
        nodes: list[WindowsNodeSpec],
        *,
        network_timeout: float = 60.0,
        poll_interval: float = 0.5,
        create_pod_network: bool = True,
    ) -> None:
        if network_timeout <= 0:
            raise InvalidInput("network_timeout", network_timeout, "it must be positive seconds.")
        if poll_interval <= 0:
            raise InvalidInput("poll_interval", poll_interval, "it must be positive seconds.")
        names = [n.name.lower() for n in nodes]
        if len(set(names)) != len(names):
            raise InvalidInput("nodes", names, "each Windows node may appear only once.")
        self.plugin = plugin
        self.nodes = list(nodes)
        self.network_timeout = network_timeout
        self.poll_interval = poll_interval
        self.create_pod_network = create_pod_network

    def prepare(self, ctx: RunContext) -> bool:
        return bool(self.nodes)

    def run(self, ctx: RunContext) -> None:
        ctx.each_host([HostWork(n.name, partial(self.setup_node, ctx, n)) for n in self.nodes])

    def setup_node(self, ctx: RunContext, node: WindowsNodeSpec) -> None:
        self._firewall(ctx, node)
        self._helper_module(ctx, node)
        self._bootstrap_network(ctx, node)
        if self.create_pod_network:
            recreated = self._plugin_network(ctx, node)
            self._wait_for_network(ctx, node)
            self._kube_proxy(ctx, node, restart=recreated)
            self._services(ctx, node)
        else:
            self._services(ctx, node)  # the plugin's service creates the network
            self._wait_for_network(ctx, node)
            self._kube_proxy(ctx, node, restart=False)

    def _firewall(self, ctx: RunContext, node: WindowsNodeSpec) -> None:
        for protocol, port, why in self.plugin.windows.firewall_ports:
            name = f"aksnet-{protocol}-{port}"
            fact = FirewallRuleFact(node.session, name)
            if ctx.fact(node.name, fact) is not None:
                continue
            rule = Cmdlet.of(
                "New-NetFirewallRule",
                Name=name,
                DisplayName=f"aksnet {protocol.upper()} {port}: {why}",
                Description=why,
                Direction="Inbound",
                Action="Allow",
                Protocol=protocol.upper(),
                LocalPort=[port],
                Enabled="True",
            )
            ctx.wet(
                node.name,
                f"New-NetFirewallRule {name} ({protocol.upper()} {port}) on {node.name}",
                do=partial(node.session.invoke, rule),
                simulate=_predict(node.name, fact, {"Name": name}),
                kind="create",
            )

    def _helper_module(self, ctx: RunContext, node: WindowsNodeSpec) -> None:
        data = HELPER_MODULE.read_bytes()
        fact = FileHashFact(node.session, HELPER_PATH)
        if ctx.fact(node.name, fact) == _sha256(data):
            return
        ctx.wet(
            node.name,
            f"Copy the HNS helper module to {HELPER_PATH} on {node.name}",
            do=partial(_put_file, node.session, data, HELPER_PATH),
            simulate=_predict(node.name, fact, _sha256(data)),
        )

    def _bootstrap_network(self, ctx: RunContext, node: WindowsNodeSpec) -> None:
        name = self.plugin.windows.bootstrap_network
        fact = HnsNetworkFact(node.session, name)
        if ctx.fact(node.name, fact) is not None:
            return  # never recreated: creating it blips the node's network
        document = network_document(name, BOOTSTRAP_PREFIX, BOOTSTRAP_GATEWAY, BOOTSTRAP_VSID)
        ctx.wet(
            node.name,
            f"New-HnsNetwork {name} (Overlay {BOOTSTRAP_PREFIX}, VSID {BOOTSTRAP_VSID}) "
            f"on {node.name}; the node's network blips",
            do=partial(_new_network, node.session, document),
            simulate=_predict(
                node.name, fact, HnsNetworkInfo(name, "Overlay", BOOTSTRAP_PREFIX, BOOTSTRAP_VSID)
            ),
            kind="create",
        )

    def _wanted_network(self, node: WindowsNodeSpec) -> HnsNetworkInfo:
        windows = self.plugin.windows
        return HnsNetworkInfo(
            windows.hns_network_name,
            windows.hns_network_type,
            node.pod_subnet,
            self.plugin.vxlan_vni,
        )

    def _plugin_network(self, ctx: RunContext, node: WindowsNodeSpec) -> bool:
        """Create the pod network when absent or different; True when this run (re)created it."""
        wanted = self._wanted_network(node)
        fact = HnsNetworkFact(node.session, wanted.name)
        found = ctx.fact(node.name, fact)
        if found == wanted:
            return False
        document = network_document(wanted.name, node.pod_subnet, node.gateway, wanted.vni or 0)
        verb = "New-HnsNetwork" if found is None else "Replace HNS network"
        ctx.wet(
            node.name,
            f"{verb} {wanted.name} (Overlay {node.pod_subnet}, VNI {wanted.vni}) on {node.name}",
            do=partial(_replace_network, node.session, found, document),
            simulate=_predict(node.name, fact, wanted),
            kind="create" if found is None else "change",
        )
        return True

    def _wait_for_network(self, ctx: RunContext, node: WindowsNodeSpec) -> None:
        """Poll until the pod network is there as wanted (WaitForNetwork), within the deadline.

        A dry run does not wait: nothing it planned has happened, so there is nothing to see.
        """
        if ctx.dry_run:
            return
        wanted = self._wanted_network(node)
        fact = HnsNetworkFact(node.session, wanted.name)
        deadline = time.monotonic() + self.network_timeout
        while True:
            found = ctx.fact(node.name, fact)
            if found == wanted:
                return
            if time.monotonic() >= deadline:
                raise OperationTimedOut(
                    node.name,
                    f"HNS network {wanted.name} did not appear as {wanted} within "
                    f"{self.network_timeout:g} s (last seen: {found})",
                )
            log.debug("waiting for HNS network %s on %s", wanted.name, node.name)
            time.sleep(self.poll_interval)

    def _kube_proxy(self, ctx: RunContext, node: WindowsNodeSpec, *, restart: bool) -> None:
        data = kube_proxy_config(self.plugin, node)
        fact = FileHashFact(node.session, KUBE_PROXY_CONFIG)
        restart_kube_proxy = Cmdlet.of("Restart-Service", Name=["kube-proxy"])
        if ctx.fact(node.name, fact) != _sha256(data):
            ctx.wet(
                node.name,
                f"Write {KUBE_PROXY_CONFIG} (kernelspace, WinOverlay, source VIP "
                f"{node.source_vip}) and restart kube-proxy on {node.name}",
                do=partial(_put_then, node.session, data, KUBE_PROXY_CONFIG, restart_kube_proxy),
                simulate=_predict_all(
                    (node.name, fact, _sha256(data)),
                    (node.name, ServiceStatusFact(node.session, "kube-proxy"), "Running"),
                ),
            )
        elif restart:
            # kube-proxy reads its network at start: a recreated network needs a restart.
            ctx.wet(
                node.name,
                f"Restart-Service kube-proxy on {node.name} (its HNS network was recreated)",
                do=partial(node.session.invoke, restart_kube_proxy),
            )

    def _services(self, ctx: RunContext, node: WindowsNodeSpec) -> None:
        for service in self.plugin.windows.services:
            fact = ServiceStatusFact(node.session, service)
            if ctx.fact(node.name, fact) == "Running":
                continue
            ctx.wet(
                node.name,
                f"Start-Service {service} on {node.name}",
                do=partial(node.session.invoke, Cmdlet.of("Start-Service", Name=[service])),
                simulate=_predict(node.name, fact, "Running"),
            )


def _predict(host: str, fact: Any, value: object) -> Callable[[Forecast], None]:
    return lambda forecast: forecast.set(host, fact, value)


def _predict_all(*predictions: tuple[str, Any, object]) -> Callable[[Forecast], None]:
    def simulate(forecast: Forecast) -> None:
        for host, fact, value in predictions:
            forecast.set(host, fact, value)

    return simulate


def _put_file(session: PowerShellSession, data: bytes, path: str) -> None:
    session.invoke(Cmdlet.of("New-Item", Path=HELPER_DIR, ItemType="Directory", Force=True))
    psfiles.put(session, data, path)


def _put_then(session: PowerShellSession, data: bytes, path: str, then: Cmdlet) -> None:
    _put_file(session, data, path)
    session.invoke(then)


def _new_network(session: PowerShellSession, document: str) -> None:
    """Import the helper module and create the network in one round trip."""
    session.invoke(
        Cmdlet.of("Import-Module", Name=[HELPER_PATH]),
        Cmdlet.of("New-HnsNetwork", JsonString=document),
    )


def _replace_network(
    session: PowerShellSession, found: HnsNetworkInfo | None, document: str
) -> None:
    """Remove a network that differs from the wanted one (as flanneld does), then create it."""
    if found is not None:
        session.invoke(
            Pipeline.of(Cmdlet.of("Get-HnsNetwork", Id=found.id), Cmdlet.of("Remove-HnsNetwork"))
        )
    _new_network(session, document)
