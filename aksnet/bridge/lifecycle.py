"""Bridge handlers for the cluster lifecycle after creation: Get/Set/Remove-AksHciCluster,
New/Get/Set/Remove-AksHciNodePool and Get-AksHciCredential.

The mutating commands reach the hosts of the running lab (AKSNET_LAB_DIR, else
AKSNET_HOME/lab), as the CLI does: aksnet reaches only lab hosts so far. PowerShell's
ShouldProcess has decided before the request is sent: -WhatIf arrives as `whatIf` and runs the
same code as a plan; anything else is a confirmed change (so Get-AksHciCredential replaces an
existing kubeconfig file, as AksHci does, once -Confirm was answered or not asked).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aksnet.bridge.commands import Handler, NotAvailableYet, open_store
from aksnet.bridge.emitter import Emitter
from aksnet.bridge.request import Request
from aksnet.errors import InvalidInput

if TYPE_CHECKING:
    from aksnet.cluster.hosts import HostConnections

NO_EFFECT = "-{name} is accepted for compatibility; aksnet does not act on it yet."


def _hosts() -> HostConnections:
    from aksnet import api

    return api.lab_hosts(None)


def _run_result(out: Emitter, type_name: str, result: Mapping[str, Any]) -> None:
    for warning in result.get("Warnings", []):
        out.warning(str(warning))
    out.result(type_name, result)


def _no_effect(out: Emitter, parameters: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if parameters.get(name) not in (None, False):
            out.warning(NO_EFFECT.format(name=name))


def get_cluster(request: Request, out: Emitter) -> None:
    """Get-AksHciCluster [-name]."""
    from aksnet import api

    name = request.parameters.get("name")
    with open_store() as store:
        views = [api.get_cluster(store, name)] if name else api.list_clusters(store)
        for view in views:
            out.result("AksNet.Cluster", view.to_dict())


def remove_cluster(request: Request, out: Emitter) -> None:
    """Remove-AksHciCluster -name [-force]: -force changes nothing (no prompt is asked here)."""
    from aksnet import api

    hosts = _hosts()
    with open_store() as store:
        result = api.remove_cluster(
            store, request.parameters["name"], hosts, what_if=request.what_if
        )
    _run_result(out, "AksNet.RunResult", result.to_dict())


def set_cluster(request: Request, out: Emitter) -> None:
    """Set-AksHciCluster -name -controlPlaneNodeCount."""
    from aksnet import api

    p = request.parameters
    if p.get("controlPlaneVmSize"):
        raise NotAvailableYet(
            "Set-AksHciCluster -controlPlaneVmSize", "Scale the count with -controlPlaneNodeCount."
        )
    _no_effect(out, p, "enableAutoScaler", "autoScalerProfileName")
    count = p.get("controlPlaneNodeCount")
    if count is None:
        raise InvalidInput("controlPlaneNodeCount", None, "give the count: 1, 3 or 5.")
    hosts = _hosts()
    with open_store() as store:
        result = api.set_cluster(
            store, p["name"], hosts, control_plane_node_count=count, what_if=request.what_if
        )
    _run_result(out, "AksNet.RunResult", result.to_dict())


def new_node_pool(request: Request, out: Emitter) -> None:
    """New-AksHciNodePool -clusterName -name [-count -osType -vmSize -taints -maxPodCount]."""
    from aksnet import api

    p = dict(request.parameters)
    _no_effect(out, p, "disableAutoScaler")
    taints = p.get("taints") or []
    optional: dict[str, Any] = {
        "count": p.get("count"),
        "os_type": p.get("osType"),
        "vm_size": p.get("vmSize"),
        "max_pod_count": p.get("maxPodCount"),
    }
    hosts = _hosts()
    with open_store() as store:
        result = api.new_node_pool(
            store,
            p["clusterName"],
            hosts,
            name=p["name"],
            taints=[taints] if isinstance(taints, str) else taints,
            what_if=request.what_if,
            **{k: v for k, v in optional.items() if v is not None},
        )
    _run_result(out, "AksNet.RunResult", result.to_dict())


def get_node_pool(request: Request, out: Emitter) -> None:
    """Get-AksHciNodePool -clusterName [-name]."""
    from aksnet import api

    p = request.parameters
    with open_store() as store:
        for view in api.get_node_pools(store, p["clusterName"], p.get("name")):
            out.result("AksNet.NodePool", view.to_dict())


def set_node_pool(request: Request, out: Emitter) -> None:
    """Set-AksHciNodePool -clusterName -name -count | -vmSize."""
    from aksnet import api

    p = request.parameters
    _no_effect(out, p, "autoScaler")
    hosts = _hosts()
    with open_store() as store:
        result = api.set_node_pool(
            store,
            p["clusterName"],
            p["name"],
            hosts,
            count=p.get("count"),
            vm_size=p.get("vmSize"),
            what_if=request.what_if,
        )
    _run_result(out, "AksNet.RunResult", result.to_dict())


def remove_node_pool(request: Request, out: Emitter) -> None:
    """Remove-AksHciNodePool -clusterName -name."""
    from aksnet import api

    p = request.parameters
    hosts = _hosts()
    with open_store() as store:
        result = api.remove_node_pool(
            store, p["clusterName"], p["name"], hosts, what_if=request.what_if
        )
    _run_result(out, "AksNet.RunResult", result.to_dict())


def get_credential(request: Request, out: Emitter) -> None:
    """Get-AksHciCredential -name [-configPath]; -WhatIf names the file and writes nothing."""
    from aksnet import api
    from aksnet.cluster.credential import default_config_dir

    p = request.parameters
    if p.get("adAuth"):
        raise NotAvailableYet("Get-AksHciCredential -adAuth", "Leave out -adAuth.")
    folder = Path(p.get("configPath") or default_config_dir()).expanduser()
    if request.what_if:
        with open_store() as store:
            store.get_cluster(p["name"])  # NotFound for an unknown cluster, also in a plan
        out.result(
            "AksNet.Credential",
            {"Name": p["name"], "Path": str(folder / "config"), "WhatIf": True},
        )
        return
    with open_store() as store:
        hosts = api.optional_lab_hosts(None)  # a DHCP cluster's address comes from its host
        result = api.get_credential(
            store, p["name"], config_path=folder, overwrite=True, hosts=hosts
        )
    out.result("AksNet.Credential", result.to_dict())


HANDLERS: dict[str, Handler] = {
    "Get-AksHciCluster": get_cluster,
    "Remove-AksHciCluster": remove_cluster,
    "Set-AksHciCluster": set_cluster,
    "New-AksHciNodePool": new_node_pool,
    "Get-AksHciNodePool": get_node_pool,
    "Set-AksHciNodePool": set_node_pool,
    "Remove-AksHciNodePool": remove_node_pool,
    "Get-AksHciCredential": get_credential,
}
