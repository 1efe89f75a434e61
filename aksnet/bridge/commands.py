"""One handler per bridge command: map AksHci parameter names onto aksnet.api and emit results.

Parameters arrive already checked against REQUEST_SCHEMA (names and JSON types); the values are
checked by aksnet.api and aksnet.model, which raise InvalidInput naming the AksHci parameter.
Heavy modules are imported inside the handlers that need them, to keep startup fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aksnet.bridge.config import load_config, save_config, store_path
from aksnet.bridge.emitter import Emitter
from aksnet.bridge.request import Request
from aksnet.errors import AksNetError, InvalidInput, NotFound, StateConflict

if TYPE_CHECKING:
    from aksnet.state.store import Store

Handler = Callable[[Request, Emitter], None]

# Documented parameters aksnet accepts for compatibility but does not act on (yet).
_CLUSTER_NO_EFFECT = (
    "enableAdAuth",
    "enableMonitoring",
    "enableAutoScaler",
    "autoScalerProfileName",
)


class NotAvailableYet(AksNetError):
    """A documented operation this version of aksnet does not implement."""

    category = "NotImplemented"
    error_id = "NotAvailableYet"

    def __init__(self, command: str, hint: str) -> None:
        self.command = command
        super().__init__(f"{command} is not available yet in this version of aksnet. {hint}")

    @property
    def target(self) -> str | None:
        return self.command


def snake(name: str) -> str:
    """An AksHci parameter name as an aksnet.api keyword: vipPoolStart -> vip_pool_start."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


@contextmanager
def open_store() -> Iterator[Store]:
    from aksnet.state.store import Store

    with Store(store_path()) as store:
        yield store


# Networks


def _network_arguments(parameters: dict[str, Any]) -> dict[str, Any]:
    return {snake(name): value for name, value in parameters.items()}


def new_network_setting(request: Request, out: Emitter) -> None:
    """New-AksHciNetworkSetting: a validated VirtualNetwork object for Set-AksHciConfig -vnet."""
    from aksnet.model.network import network_setting

    setting = network_setting(**_network_arguments(request.parameters))
    out.result("AksNet.Network", setting.to_dict())


def new_cluster_network(request: Request, out: Emitter) -> None:
    from aksnet import api
    from aksnet.model.network import network_setting

    arguments = _network_arguments(request.parameters)
    with open_store() as store:
        if request.what_if:
            setting = network_setting(**arguments)
            if any(s.name == setting.name for s in store.list_networks()):
                raise StateConflict(f"Network '{setting.name}' exists.", target=setting.name)
            out.verbose(f"What if: the network '{setting.name}' is valid; nothing was stored.")
            return
        setting = api.new_network_setting(store, **arguments)
        out.verbose(f"Stored network '{setting.name}' in {store.path}.")
        out.result("AksNet.Network", setting.to_dict())


def get_cluster_network(request: Request, out: Emitter) -> None:
    from aksnet import api

    name = request.parameters.get("name")
    cluster = request.parameters.get("clusterName")
    with open_store() as store:
        views = api.get_network_settings(store, name)
        if cluster:
            views = [v for v in views if cluster in v.used_by]
            if not views:
                raise NotFound("Cluster network of cluster", cluster)
        for view in views:
            out.result("AksNet.Network", view.to_dict())


def remove_cluster_network(request: Request, out: Emitter) -> None:
    from aksnet import api

    name = request.parameters["name"]
    with open_store() as store:
        if request.what_if:
            store.get_network(name)
            users = store.network_users(name)
            if users:
                raise StateConflict(
                    f"Network '{name}' is used by cluster(s) {', '.join(users)}; remove them "
                    "first.",
                    target=name,
                )
            out.verbose(f"What if: network '{name}' can be removed; nothing was changed.")
            return
        api.remove_network_setting(store, name)
        out.verbose(f"Removed network '{name}'.")


# Load balancer, VM sizes, plugins


def new_load_balancer_setting(request: Request, out: Emitter) -> None:
    from aksnet.model.cluster import load_balancer_setting
    from aksnet.model.sizes import DEFAULT_LOAD_BALANCER_SIZE, vm_size

    p = request.parameters
    size = vm_size(p.get("vmSize") or DEFAULT_LOAD_BALANCER_SIZE, "vmSize")
    setting = load_balancer_setting(
        name=p["name"], sku=p["loadBalancerSku"], vm_size_name=size.name,
        count=p.get("loadBalancerCount", 1),
    )  # fmt: skip
    out.result(
        "AksNet.LoadBalancerSetting",
        {
            "Name": setting.name,
            "LoadBalancerSku": setting.sku,
            "VmSize": setting.vm_size,
            "LoadBalancerCount": setting.count,
        },
    )


def get_vm_size(request: Request, out: Emitter) -> None:
    from aksnet.model.sizes import VM_SIZES

    for size in VM_SIZES:
        row = {"VmSize": size.name, "CPU": size.cpu, "MemoryGB": size.memory_gb, "GPU": size.gpu}
        out.result("AksNet.VmSize", row)


def get_plugin(request: Request, out: Emitter) -> None:
    from aksnet import api

    name = request.parameters.get("name")
    plugins = [api.show_plugin(name)] if name else api.list_plugins()
    for plugin in plugins:
        details = plugin.to_dict()
        caps = details["capabilities"]
        out.result(
            "AksNet.Plugin",
            {
                "Name": plugin.name,
                "NetworkPolicies": caps["network_policies"],
                "IPv6": caps["ipv6"],
                "LayersUsed": caps["layers_used"],
                "WindowsSupport": caps["windows_support"],
                "PodVmSameNetwork": caps["pod_vm_same_network"],
                "PodVmOtherNetwork": caps["pod_vm_other_network"],
                "CommandLineTool": caps["command_line_tool"],
                "DefaultEncapsulation": plugin.default_encapsulation,
                "VxlanVni": plugin.vxlan_vni,
                "VxlanPort": plugin.vxlan_port,
                "Details": details,
            },
        )


# Configuration


def set_config(request: Request, out: Emitter) -> None:
    """Set-AksHciConfig: merge the given settings into the configuration file."""
    from aksnet.model.sizes import vm_size

    given = dict(request.parameters)
    working_dir = given.get("workingDir")
    if working_dir is not None and not Path(working_dir).is_absolute():
        raise InvalidInput("workingDir", working_dir, "it must be an absolute path.")
    for name, maker in (("vnet", "New-AksHciNetworkSetting"), ("proxySettings", "a proxy object")):
        _require_object(given, name, maker)
    if "controlPlaneVmSize" in given:
        given["controlPlaneVmSize"] = vm_size(
            given["controlPlaneVmSize"], "controlPlaneVmSize"
        ).name
    if isinstance(given.get("vnet"), dict):
        given["vnet"] = _network_object(given["vnet"], "vnet")
    if isinstance(given.get("proxySettings"), dict):
        given["proxySettings"] = _without_secrets(given["proxySettings"])
    config = {**load_config(), **given}
    if request.what_if:
        out.verbose("What if: the configuration is valid; nothing was written.")
        return
    path = save_config(config)
    out.verbose(f"Wrote the configuration to {path}.")
    out.result("AksNet.Config", _config_view(config))


def get_config(request: Request, out: Emitter) -> None:
    out.result("AksNet.Config", _config_view(load_config()))


def _config_view(config: dict[str, Any]) -> dict[str, Any]:
    return {
        **config,
        "labMode": bool(config.get("labMode", False)),
        "StorePath": str(store_path()),
    }


def _require_object(parameters: dict[str, Any], name: str, maker: str) -> None:
    value = parameters.get(name)
    if value is not None and not isinstance(value, dict):
        raise InvalidInput(name, value, f"pass the object that {maker} returns.")


def _network_object(vnet: dict[str, Any], parameter: str) -> dict[str, Any]:
    """A VirtualNetwork object (New-AksHciNetworkSetting output), validated again."""
    from aksnet.model.network import NetworkSetting

    try:
        return NetworkSetting.from_dict(vnet).to_dict()
    except KeyError as err:
        raise InvalidInput(parameter, sorted(vnet), f"a network object needs {err}.") from None


def _without_secrets(settings: dict[str, Any]) -> dict[str, Any]:
    """Proxy settings as stored: strings only, nothing that looks like a secret."""
    secret = re.compile(r"pass|credential|secret|token", re.IGNORECASE)
    return {k: v for k, v in settings.items() if isinstance(v, str) and not secret.search(k)}


# Clusters


def new_cluster(request: Request, out: Emitter) -> None:
    """New-AksHciCluster: -WhatIf returns the plan; creating clusters comes in a later version."""
    if not request.what_if:
        raise NotAvailableYet(
            "New-AksHciCluster", "Use -WhatIf to validate the cluster and see its address plan."
        )
    from aksnet import api

    p = dict(request.parameters)
    for name in _CLUSTER_NO_EFFECT:
        if p.pop(name, None) not in (None, False):
            out.warning(f"-{name} is accepted for compatibility; aksnet does not act on it yet.")
    activity = f"Planning cluster '{p['name']}'"
    out.progress(activity, "Validating the parameters", 0)
    spec = api.new_cluster_spec(**_cluster_arguments(p))
    out.progress(activity, f"Checking network '{spec.vnet}'", 50)
    with open_store() as store:
        plan = api.plan_cluster(store, spec)
    out.progress(activity, "Done", 100, completed=True)
    out.result("AksNet.ClusterPlan", plan.to_dict())


def _cluster_arguments(p: dict[str, Any]) -> dict[str, Any]:
    vnet = p.pop("vnet", None)
    if isinstance(vnet, dict):
        vnet = vnet.get("Name")
    if not isinstance(vnet, str) or not vnet:
        raise InvalidInput("vnet", vnet, "give the name or object of a cluster network.")
    _require_object(p, "loadBalancerSettings", "New-AksHciLoadBalancerSetting")
    lb = p.pop("loadBalancerSettings", None)
    arguments = {snake(name): value for name, value in p.items()}
    arguments["vnet"] = vnet
    if lb is not None:
        arguments.update(_load_balancer_arguments(lb))
    if isinstance(arguments.get("taints"), str):
        arguments["taints"] = [arguments["taints"]]
    return arguments


def _load_balancer_arguments(lb: dict[str, Any]) -> dict[str, Any]:
    """A New-AksHciLoadBalancerSetting object as new_cluster_spec keywords."""
    if "LoadBalancerSku" not in lb:
        raise InvalidInput(
            "loadBalancerSettings",
            sorted(lb),
            "pass the object New-AksHciLoadBalancerSetting made.",
        )
    arguments: dict[str, Any] = {"load_balancer_sku": lb["LoadBalancerSku"]}
    if lb.get("VmSize"):
        arguments["load_balancer_vm_size"] = lb["VmSize"]
    if lb.get("LoadBalancerCount"):
        arguments["load_balancer_count"] = lb["LoadBalancerCount"]
    return arguments


HANDLERS: dict[str, Handler] = {
    "New-AksHciNetworkSetting": new_network_setting,
    "New-AksHciClusterNetwork": new_cluster_network,
    "Get-AksHciClusterNetwork": get_cluster_network,
    "Remove-AksHciClusterNetwork": remove_cluster_network,
    "New-AksHciLoadBalancerSetting": new_load_balancer_setting,
    "Get-AksHciVmSize": get_vm_size,
    "Set-AksHciConfig": set_config,
    "Get-AksHciConfig": get_config,
    "New-AksHciCluster": new_cluster,
    "Get-AksNetPlugin": get_plugin,
}
