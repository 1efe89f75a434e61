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

Round trips (DESIGN "Scale and speed"): the facts every step decides from are read together in
one pipeline (NodeFacts), as the decisions do not depend on each other's effects; a fact an
action of the run changes is read again, or taken from what the action's own pipeline reported
after its change (NodeView). Actions that are naturally one request are one: all missing
firewall rules; the helper module's Move-Item, Import-Module and New-HnsNetwork External; the
pod network's creation and the Get-HnsNetwork the wait starts from; kube-proxy.conf's Move-Item
and Restart-Service; one Start-Service for the stopped services. A file costs two round trips
(psfiles: its folder and verified content, then Move-Item). A fresh node: 8 round trips; a node
as wanted: 1.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

from aksnet.errors import InvalidInput, OperationTimedOut
from aksnet.infra.provision import poll_delays
from aksnet.network.plugins import Plugin
from aksnet.plan import Fact, Forecast, RunContext
from aksnet.plan.actions import Do
from aksnet.plan.parallel import HostWork
from aksnet.remote import psfiles
from aksnet.remote.base import Cmdlet, Pipeline, PowerShellSession, Statement

log = logging.getLogger(__name__)
T = TypeVar("T")
QUIET = "SilentlyContinue"

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
# Each fact is one statement and picks its value out of a pipeline's output by its shape and its
# name, so that NodeFacts can send several in one round trip and each reads the same alone.


def _named(obj: Any, name: str) -> bool:
    return str(obj.get("Name", "")).lower() == name.lower()


def _path_key(path: str) -> str:
    return path.replace("/", "\\").lower()  # Windows paths: case and separator insensitive


@dataclass(frozen=True)
class FirewallRuleFact:
    """The firewall rule called `name` (its Protocol and LocalPort), None when absent."""

    session: PowerShellSession = field(compare=False)
    name: str

    @property
    def key(self) -> str:
        return f"windows.firewall-rule:{self.name.lower()}"

    def statement(self) -> Cmdlet:
        return Cmdlet.of("Get-NetFirewallRule", Name=[self.name], ErrorAction=QUIET)

    def pick(self, output: Sequence[Any]) -> dict[str, Any] | None:
        """A NetFirewallRule (it has a Direction) of this name."""
        return next(
            (
                r
                for r in output
                if isinstance(r, dict) and "Direction" in r and _named(r, self.name)
            ),
            None,
        )

    def read(self, host: str) -> dict[str, Any] | None:
        return self.pick(self.session.invoke(self.statement()))


@dataclass(frozen=True)
class HnsNetworkFact:
    """The HNS network called `name` (case-insensitive, as WaitForNetwork compares), or None."""

    session: PowerShellSession = field(compare=False)
    name: str

    @property
    def key(self) -> str:
        return f"windows.hns-network:{self.name.lower()}"

    def statement(self) -> Cmdlet:
        return Cmdlet.of("Get-HnsNetwork")

    def pick(self, output: Sequence[Any]) -> HnsNetworkInfo | None:
        """The first HNS network (it has a Type and an ID) of this name in the output."""
        return next(
            (
                network_info(n)
                for n in output
                if isinstance(n, dict) and _is_hns_network(n) and _named(n, self.name)
            ),
            None,
        )

    def read(self, host: str) -> HnsNetworkInfo | None:
        return self.pick(self.session.invoke(self.statement()))


def _is_hns_network(obj: dict[str, Any]) -> bool:
    return "Type" in obj and ("ID" in obj or "Id" in obj)


@dataclass(frozen=True)
class FileHashFact:
    """The SHA-256 (upper-case hex) of the file at `path`, None when there is no such file."""

    session: PowerShellSession = field(compare=False)
    path: str

    @property
    def key(self) -> str:
        return f"windows.file-sha256:{self.path.lower()}"

    def statement(self) -> Cmdlet:
        # A missing file is a non-terminating error of Get-FileHash: silenced, it reads as None.
        return Cmdlet.of(
            "Get-FileHash", LiteralPath=self.path, Algorithm="SHA256", ErrorAction=QUIET
        )

    def pick(self, output: Sequence[Any]) -> str | None:
        """The hash object whose Path is this path."""
        return next(
            (
                str(h["Hash"]).upper()
                for h in output
                if isinstance(h, dict)
                and "Hash" in h
                and _path_key(str(h.get("Path", ""))) == _path_key(self.path)
            ),
            None,
        )

    def read(self, host: str) -> str | None:
        return self.pick(self.session.invoke(self.statement()))


@dataclass(frozen=True)
class ServiceStatusFact:
    """The Status of the service called `name` ("Running", "Stopped", ...), None when absent."""

    session: PowerShellSession = field(compare=False)
    name: str

    @property
    def key(self) -> str:
        return f"windows.service-status:{self.name.lower()}"

    def statement(self) -> Cmdlet:
        return Cmdlet.of("Get-Service", Name=[self.name], ErrorAction=QUIET)

    def pick(self, output: Sequence[Any]) -> str | None:
        """The Status of a ServiceController (it has a ServiceName) of this name."""
        return next(
            (
                str(s["Status"])
                for s in output
                if isinstance(s, dict) and "ServiceName" in s and _named(s, self.name)
            ),
            None,
        )

    def read(self, host: str) -> str | None:
        return self.pick(self.session.invoke(self.statement()))


NodeFact = FirewallRuleFact | HnsNetworkFact | FileHashFact | ServiceStatusFact


class NodeFacts:
    """Several facts of one Windows node in one round trip: each fact's statement once in one
    pipeline (as aksnet.infra.vms.NewVmFiles reads new VMs' files), each value picked by its
    fact from the output. Read -> {fact key: value}."""

    def __init__(self, session: PowerShellSession, facts: Sequence[NodeFact]) -> None:
        self._session = session
        self.facts = list({f.key: f for f in facts}.values())
        self.key = "windows.node-facts:" + ",".join(sorted(f.key for f in self.facts))

    def statements(self) -> list[Statement]:
        statements: list[Statement] = []
        for fact in self.facts:
            statement = fact.statement()
            if statement not in statements:  # Get-HnsNetwork answers for every network
                statements.append(statement)
        return statements

    def read(self, host: str) -> dict[str, object]:
        output = self._session.invoke(*self.statements())
        return {fact.key: fact.pick(output) for fact in self.facts}


class NodeView:
    """One node's facts during one setup run. They are read together once (NodeFacts), because
    the setup's decisions do not depend on each other's effects, except where an action of this
    run changes a fact: `act` forgets the facts its action changes, so they are read again when
    next asked for (in a dry run: the forecast), unless the action's own pipeline observed them
    after its change (`observe`). In a dry run a forecast value always wins, as in ctx.fact."""

    def __init__(self, ctx: RunContext, host: str, read: NodeFacts) -> None:
        self.ctx, self.host = ctx, host
        self._known: dict[str, object] = dict(ctx.fact(host, read) or {})

    def get(self, fact: Fact[T]) -> T | None:
        if self.ctx.dry_run:
            predicted, value = self.ctx.forecast.lookup(self.host, fact)
            if predicted:
                return value
        if fact.key in self._known:
            # Stored under this key from a fact of the same key, hence of type T.
            return cast("T | None", self._known[fact.key])
        return self.ctx.fact(self.host, fact)

    def observe(self, fact: Fact[T], value: T | None) -> None:
        self._known[fact.key] = value

    def forget(self, fact: Fact[Any]) -> None:
        self._known.pop(fact.key, None)

    def act(
        self, title: str, do: Do, changes: Sequence[tuple[Fact[Any], object]], *, kind: str
    ) -> None:
        """One action through ctx.wet; `changes` are the facts it changes with their values
        after it (the dry run's forecast)."""
        for fact, _value in changes:
            self.forget(fact)
        self.ctx.wet(
            self.host,
            title,
            do,
            _predict_all(*((self.host, fact, value) for fact, value in changes)),
            kind=kind,
        )


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
    flows of reference §1.1 do on a real node. poll_interval: the longest pause between two
    looks at that network (they start at 0.1 s and double).
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
        view = NodeView(ctx, node.name, NodeFacts(node.session, self._facts(node)))
        self._firewall(view, node)
        self._helper_and_bootstrap(view, node)
        if self.create_pod_network:
            recreated = self._plugin_network(view, node)
            self._wait_for_network(view, node)
            self._kube_proxy(view, node, restart=recreated)
            self._services(view, node)
        else:
            self._services(view, node)  # the plugin's service creates the network
            view.forget(self._network_fact(node))  # so it is read again: it may be there now
            self._wait_for_network(view, node)
            self._kube_proxy(view, node, restart=False)

    def _facts(self, node: WindowsNodeSpec) -> list[NodeFact]:
        """Every fact the node's decisions start from (NodeFacts reads them in one round trip)."""
        s, windows = node.session, self.plugin.windows
        return [
            *(FirewallRuleFact(s, _rule_name(p, port)) for p, port, _ in windows.firewall_ports),
            FileHashFact(s, HELPER_PATH),
            HnsNetworkFact(s, windows.bootstrap_network),
            self._network_fact(node),
            FileHashFact(s, KUBE_PROXY_CONFIG),
            *(ServiceStatusFact(s, service) for service in windows.services),
        ]

    def _network_fact(self, node: WindowsNodeSpec) -> HnsNetworkFact:
        return HnsNetworkFact(node.session, self.plugin.windows.hns_network_name)

    def _firewall(self, view: NodeView, node: WindowsNodeSpec) -> None:
        """The missing rules: a New-NetFirewallRule statement each, all in one round trip."""
        wanted = [
            (FirewallRuleFact(node.session, _rule_name(protocol, port)), protocol, port, why)
            for protocol, port, why in self.plugin.windows.firewall_ports
        ]
        missing = [w for w in wanted if view.get(w[0]) is None]
        if not missing:
            return
        rules = [
            Cmdlet.of(
                "New-NetFirewallRule",
                Name=fact.name,
                DisplayName=f"aksnet {protocol.upper()} {port}: {why}",
                Description=why,
                Direction="Inbound",
                Action="Allow",
                Protocol=protocol.upper(),
                LocalPort=[port],
                Enabled="True",
            )
            for fact, protocol, port, why in missing
        ]
        shown = ", ".join(f"{f.name} ({p.upper()} {port})" for f, p, port, _ in missing)
        view.act(
            f"New-NetFirewallRule {shown} on {node.name}",
            partial(node.session.invoke, *rules),
            [(fact, {"Name": fact.name}) for fact, *_ in missing],
            kind="create",
        )

    def _helper_and_bootstrap(self, view: NodeView, node: WindowsNodeSpec) -> None:
        """Ship the helper module when it differs, and create the bootstrap network when absent
        (never recreated: creating it blips the node's network). When both are needed, one
        action: the network is created right behind the module's Move-Item, one round trip."""
        data = HELPER_MODULE.read_bytes()
        helper = FileHashFact(node.session, HELPER_PATH)
        bootstrap = HnsNetworkFact(node.session, self.plugin.windows.bootstrap_network)
        ship = view.get(helper) != _sha256(data)
        create = view.get(bootstrap) is None
        if not ship and not create:
            return
        name = bootstrap.name
        document = network_document(name, BOOTSTRAP_PREFIX, BOOTSTRAP_GATEWAY, BOOTSTRAP_VSID)
        statements = _new_network_statements(document) if create else []
        parts = [f"Copy the HNS helper module to {HELPER_PATH}"] if ship else []
        if create:
            parts.append(
                f"New-HnsNetwork {name} (Overlay {BOOTSTRAP_PREFIX}, VSID {BOOTSTRAP_VSID})"
            )
        changes: list[tuple[Fact[Any], object]] = [(helper, _sha256(data))] if ship else []
        if create:
            info = HnsNetworkInfo(name, "Overlay", BOOTSTRAP_PREFIX, BOOTSTRAP_VSID)
            changes.append((bootstrap, info))
        do: Do = (
            partial(_put_file, node.session, data, HELPER_PATH, statements)
            if ship
            else partial(node.session.invoke, *statements)
        )
        blips = "; the node's network blips" if create else ""
        view.act(
            f"{' and '.join(parts)} on {node.name}{blips}",
            do,
            changes,
            kind="create" if create else "change",
        )

    def _wanted_network(self, node: WindowsNodeSpec) -> HnsNetworkInfo:
        windows = self.plugin.windows
        return HnsNetworkInfo(
            windows.hns_network_name,
            windows.hns_network_type,
            node.pod_subnet,
            self.plugin.vxlan_vni,
        )

    def _plugin_network(self, view: NodeView, node: WindowsNodeSpec) -> bool:
        """Create the pod network when absent or different; True when this run (re)created it.

        Get-HnsNetwork rides behind New-HnsNetwork: what it lists is the wait's first look."""
        wanted = self._wanted_network(node)
        fact = self._network_fact(node)
        found = view.get(fact)
        if found == wanted:
            return False
        document = network_document(wanted.name, node.pod_subnet, node.gateway, wanted.vni or 0)
        verb = "New-HnsNetwork" if found is None else "Replace HNS network"

        def replace() -> None:
            output = _replace_network(node.session, found, document)
            # The last object of that name is Get-HnsNetwork's, read after the change.
            view.observe(fact, fact.pick(output[::-1]))

        view.act(
            f"{verb} {wanted.name} (Overlay {node.pod_subnet}, VNI {wanted.vni}) on {node.name}",
            replace,
            [(fact, wanted)],
            kind="create" if found is None else "change",
        )
        return True

    def _wait_for_network(self, view: NodeView, node: WindowsNodeSpec) -> None:
        """Until the pod network is there as wanted (WaitForNetwork), within the deadline: the
        first look is what this run already knows (the facts read at its start, or what the
        pipeline creating the network listed), then polls back off from 0.1 s to poll_interval.

        A dry run does not wait: nothing it planned has happened, so there is nothing to see.
        """
        if view.ctx.dry_run:
            return
        wanted, fact = self._wanted_network(node), self._network_fact(node)
        deadline = time.monotonic() + self.network_timeout
        delays = poll_delays(first=min(0.1, self.poll_interval), cap=self.poll_interval)
        found = view.get(fact)
        while found != wanted:
            if time.monotonic() >= deadline:
                raise OperationTimedOut(
                    node.name,
                    f"HNS network {wanted.name} did not appear as {wanted} within "
                    f"{self.network_timeout:g} s (last seen: {found})",
                )
            log.debug("waiting for HNS network %s on %s", wanted.name, node.name)
            time.sleep(next(delays))
            found = view.ctx.fact(node.name, fact)
        view.observe(fact, found)

    def _kube_proxy(self, view: NodeView, node: WindowsNodeSpec, *, restart: bool) -> None:
        """Write the configuration when it differs and restart kube-proxy behind its Move-Item
        (one action, two round trips), or only restart it when its network was recreated.
        Restart-Service -PassThru reports the status it left: the services' decision uses it."""
        data = kube_proxy_config(self.plugin, node)
        fact = FileHashFact(node.session, KUBE_PROXY_CONFIG)
        status = ServiceStatusFact(node.session, "kube-proxy")
        restart_kube_proxy = Cmdlet.of("Restart-Service", Name=["kube-proxy"], PassThru=True)

        def observed(output: Sequence[Any]) -> None:
            view.observe(status, status.pick(output))

        if view.get(fact) != _sha256(data):
            put = partial(_put_file, node.session, data, KUBE_PROXY_CONFIG, [restart_kube_proxy])
            view.act(
                f"Write {KUBE_PROXY_CONFIG} (kernelspace, WinOverlay, source VIP "
                f"{node.source_vip}) and restart kube-proxy on {node.name}",
                lambda: observed(put()),
                [(fact, _sha256(data)), (status, "Running")],
                kind="change",
            )
        elif restart:
            # kube-proxy reads its network at start: a recreated network needs a restart.
            view.act(
                f"Restart-Service kube-proxy on {node.name} (its HNS network was recreated)",
                lambda: observed(node.session.invoke(restart_kube_proxy)),
                [(status, "Running")],
                kind="change",
            )

    def _services(self, view: NodeView, node: WindowsNodeSpec) -> None:
        """Start the plugin's services that are not running, in one Start-Service."""
        facts = [ServiceStatusFact(node.session, s) for s in self.plugin.windows.services]
        stopped = [f for f in facts if view.get(f) != "Running"]
        if not stopped:
            return
        names = [f.name for f in stopped]
        view.act(
            f"Start-Service {', '.join(names)} on {node.name}",
            partial(node.session.invoke, Cmdlet.of("Start-Service", Name=names)),
            [(f, "Running") for f in stopped],
            kind="change",
        )


def _rule_name(protocol: str, port: str) -> str:
    return f"aksnet-{protocol}-{port}"


def _predict_all(*predictions: tuple[str, Any, object]) -> Callable[[Forecast], None]:
    def simulate(forecast: Forecast) -> None:
        for host, fact, value in predictions:
            forecast.set(host, fact, value)

    return simulate


def _put_file(
    session: PowerShellSession, data: bytes, path: str, then: Sequence[Statement] = ()
) -> list[Any]:
    """Write the file in two round trips: its folder and content, then Move-Item and `then`."""
    folder = Cmdlet.of("New-Item", Path=HELPER_DIR, ItemType="Directory", Force=True)
    return psfiles.put(session, data, path, before=[folder], after=then)


def _new_network_statements(document: str) -> list[Statement]:
    """Import the helper module and create the network: one round trip (a reboot forgets
    imported modules, so every creation imports it)."""
    return [
        Cmdlet.of("Import-Module", Name=[HELPER_PATH]),
        Cmdlet.of("New-HnsNetwork", JsonString=document),
    ]


def _replace_network(
    session: PowerShellSession, found: HnsNetworkInfo | None, document: str
) -> list[Any]:
    """Remove a network that differs from the wanted one (as flanneld does), create it, and
    list the networks after, in one round trip."""
    removal: list[Statement] = []
    if found is not None:
        removal.append(
            Pipeline.of(Cmdlet.of("Get-HnsNetwork", Id=found.id), Cmdlet.of("Remove-HnsNetwork"))
        )
    return session.invoke(*removal, *_new_network_statements(document), Cmdlet.of("Get-HnsNetwork"))
