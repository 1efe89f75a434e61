"""The `aksnet` command: subcommands follow the AksHci cmdlets, flags are the kebab-case of the
AksHci parameter names. Human tables by default, `--json` for scripts. Exit codes: 0 success,
2 invalid input (nothing written), 3 not found, 4 state conflict, 5 capacity, 1 anything else.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aksnet import api
from aksnet.errors import AksNetError, InvalidInput
from aksnet.model.cluster import (
    DEFAULT_KUBERNETES_VERSION,
    DEFAULT_MAX_PODS,
    DEFAULT_POD_CIDR,
    DEFAULT_SERVICE_CIDR,
)
from aksnet.output import print_kv, print_table
from aksnet.plan.progress import ProgressListener
from aksnet.progressbar import ProgressBars
from aksnet.state.store import Store

if TYPE_CHECKING:
    from aksnet.cluster.create import CreateOptions

Handler = Callable[[argparse.Namespace], Any]


def flag_for(parameter: str) -> str:
    """The CLI flag of an AksHci parameter name: vlanID -> --vlan-id."""
    return "--" + re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", parameter).lower()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        result = args.handler(args)
    except InvalidInput as err:
        print(f"aksnet: error: {err} ({flag_for(err.parameter)})", file=sys.stderr)
        return err.exit_code
    except AksNetError as err:
        print(f"aksnet: error: {err}", file=sys.stderr)
        return err.exit_code
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    elif result is not None:
        args.render(result)
    return int(getattr(args, "exit_code", 0))  # a handler may set it (remediation test: 0/1/2)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    common.add_argument("--store", help="the store file (default: $AKSNET_HOME/aksnet.db)")
    common.add_argument(
        "--no-progress", action="store_true", help="no progress bars on stderr (runs only)"
    )
    parser = argparse.ArgumentParser(prog="aksnet", description=__doc__, parents=[common])
    groups = parser.add_subparsers(title="commands", metavar="COMMAND")
    _network_commands(groups, common)
    _cluster_commands(groups, common)
    _nodepool_commands(groups, common)
    _plugin_commands(groups, common)
    _lab_commands(groups, common)
    _loadbalancer_commands(groups, common)
    _remediation_commands(groups, common)
    vmsize = groups.add_parser("vmsize", parents=[common], help="Get-AksHciVmSize")
    vmsize.set_defaults(handler=_vm_sizes, render=_render_rows(["VmSize", "CPU", "MemoryGB"]))
    return parser


def _store(args: argparse.Namespace) -> Store:
    return api.open_store(args.store)


def _listeners(args: argparse.Namespace) -> list[ProgressListener]:
    """Progress bars on stderr (plain lines when stderr is not a terminal), unless refused."""
    return [] if args.no_progress else [ProgressBars(sys.stderr)]


def _options(args: argparse.Namespace) -> CreateOptions:
    from aksnet.cluster.create import CreateOptions  # SSH, PSRP, templates: only when running

    return CreateOptions(listeners=_listeners(args))


def _network_commands(groups: Any, common: argparse.ArgumentParser) -> None:
    network = groups.add_parser("network", help="network settings (New-AksHciClusterNetwork ...)")
    verbs = network.add_subparsers(title="verbs", metavar="VERB")
    new = verbs.add_parser("new", parents=[common], help="New-AksHciClusterNetwork")
    new.add_argument("--name", required=True)
    new.add_argument("--vswitch-name", required=True)
    new.add_argument("--vlan-id", type=int)
    new.add_argument("--ip-address-prefix")
    new.add_argument("--gateway")
    new.add_argument("--dns-servers", nargs="+", metavar="ADDRESS")
    new.add_argument("--k8s-node-ip-pool-start")
    new.add_argument("--k8s-node-ip-pool-end")
    new.add_argument("--vip-pool-start", required=True)
    new.add_argument("--vip-pool-end", required=True)
    new.set_defaults(handler=_network_new, render=_render_network)
    get = verbs.add_parser("get", parents=[common], help="Get-AksHciClusterNetwork")
    get.add_argument("--name")
    get.set_defaults(handler=_network_get, render=_render_networks)
    remove = verbs.add_parser("remove", parents=[common], help="Remove-AksHciClusterNetwork")
    remove.add_argument("--name", required=True)
    remove.set_defaults(handler=_network_remove, render=lambda r: print(r["Message"]))


def _network_new(args: argparse.Namespace) -> dict[str, Any]:
    with _store(args) as store:
        setting = api.new_network_setting(
            store,
            name=args.name,
            vswitch_name=args.vswitch_name,
            vlan_id=args.vlan_id,
            ip_address_prefix=args.ip_address_prefix,
            gateway=args.gateway,
            dns_servers=args.dns_servers,
            k8s_node_ip_pool_start=args.k8s_node_ip_pool_start,
            k8s_node_ip_pool_end=args.k8s_node_ip_pool_end,
            vip_pool_start=args.vip_pool_start,
            vip_pool_end=args.vip_pool_end,
        )
        return setting.to_dict()


def _network_get(args: argparse.Namespace) -> list[dict[str, Any]]:
    with _store(args) as store:
        return [view.to_dict() for view in api.get_network_settings(store, args.name)]


def _network_remove(args: argparse.Namespace) -> dict[str, Any]:
    with _store(args) as store:
        api.remove_network_setting(store, args.name)
    return {"Name": args.name, "Removed": True, "Message": f"Removed network '{args.name}'."}


def _cluster_commands(groups: Any, common: argparse.ArgumentParser) -> None:
    cluster = groups.add_parser("cluster", help="clusters (New-AksHciCluster ...)")
    verbs = cluster.add_subparsers(title="verbs", metavar="VERB")
    plan = verbs.add_parser(
        "plan", parents=[common], help="the address budget and every check; creates nothing"
    )
    _spec_arguments(plan)
    plan.add_argument(
        "--service-port",
        type=int,
        action="append",
        default=[],
        help="aksnet: the port of each planned LoadBalancer Service (repeat)",
    )
    plan.add_argument(
        "--aks-host", action="store_true", help="also reserve the AKS host's addresses"
    )
    plan.set_defaults(handler=_cluster_plan, render=_render_plan)
    _cluster_lifecycle_commands(verbs, common)


def _spec_arguments(parser: argparse.ArgumentParser) -> None:
    """New-AksHciCluster's parameters, shared by `cluster plan` and `cluster new`."""
    parser.add_argument("--name", required=True)
    parser.add_argument("--vnet", required=True)
    parser.add_argument("--primary-network-plugin")
    parser.add_argument("--kubernetes-version", default=DEFAULT_KUBERNETES_VERSION)
    parser.add_argument("--control-plane-node-count", type=int, default=1)
    parser.add_argument("--control-plane-vm-size")
    parser.add_argument("--load-balancer-vm-size")
    parser.add_argument("--load-balancer-sku", default="HAProxy")
    parser.add_argument("--load-balancer-count", type=int, default=1)
    parser.add_argument("--node-pool-name")
    parser.add_argument("--node-count", type=int)
    parser.add_argument("--node-vm-size")
    parser.add_argument("--os-type")
    parser.add_argument("--linux-node-count", type=int)
    parser.add_argument("--windows-node-count", type=int)
    parser.add_argument("--linux-node-vm-size")
    parser.add_argument("--windows-node-vm-size")
    parser.add_argument("--node-max-pod-count", type=int, default=DEFAULT_MAX_PODS)
    parser.add_argument("--pod-cidr", default=DEFAULT_POD_CIDR)
    parser.add_argument("--service-cidr", default=DEFAULT_SERVICE_CIDR)
    parser.add_argument("--network-policies", action="store_true", help="aksnet: require them")
    parser.add_argument("--ipv6", action="store_true", help="aksnet: require IPv6")


def _cluster_lifecycle_commands(verbs: Any, common: argparse.ArgumentParser) -> None:
    lab_dir = argparse.ArgumentParser(add_help=False)
    lab_dir.add_argument(
        "--lab-dir",
        help="the lab whose hosts to use (default: $AKSNET_LAB_DIR, else "
        "$AKSNET_HOME/lab); aksnet reaches only lab hosts so far",
    )
    lab_dir.add_argument("--what-if", action="store_true", help="list every action; change nothing")
    new = verbs.add_parser(
        "new", parents=[common, lab_dir], help="New-AksHciCluster (Linux node pools only)"
    )
    _spec_arguments(new)
    new.set_defaults(handler=_cluster_new, render=_render_run)
    get = verbs.add_parser("get", parents=[common], help="Get-AksHciCluster")
    get.add_argument("--name")
    get.set_defaults(handler=_cluster_get, render=_render_clusters)
    remove = verbs.add_parser("remove", parents=[common, lab_dir], help="Remove-AksHciCluster")
    remove.add_argument("--name", required=True)
    remove.set_defaults(handler=_cluster_remove, render=_render_run)
    scale = verbs.add_parser(
        "set", parents=[common, lab_dir], help="Set-AksHciCluster (scale the control plane)"
    )
    scale.add_argument("--name", required=True)
    scale.add_argument("--control-plane-node-count", type=int, required=True, help="1, 3 or 5")
    scale.set_defaults(handler=_cluster_set, render=_render_run)
    credential = verbs.add_parser("credential", parents=[common], help="Get-AksHciCredential")
    credential.add_argument("--name", required=True)
    credential.add_argument("--config-path", help="the folder of the kubeconfig (default ~/.kube)")
    credential.add_argument(
        "--force", action="store_true", help="replace a config file that holds another kubeconfig"
    )
    credential.add_argument(
        "--lab-dir", help="the lab whose hosts report a DHCP cluster's addresses (as cluster new)"
    )
    credential.set_defaults(handler=_cluster_credential, render=print_kv)


_PLAN_PARAMETERS = (
    "name",
    "vnet",
    "primary_network_plugin",
    "kubernetes_version",
    "control_plane_node_count",
    "control_plane_vm_size",
    "load_balancer_vm_size",
    "load_balancer_sku",
    "load_balancer_count",
    "node_pool_name",
    "node_count",
    "node_vm_size",
    "os_type",
    "linux_node_count",
    "windows_node_count",
    "linux_node_vm_size",
    "windows_node_vm_size",
    "node_max_pod_count",
    "pod_cidr",
    "service_cidr",
    "network_policies",
    "ipv6",
)


def _cluster_plan(args: argparse.Namespace) -> dict[str, Any]:
    spec = api.new_cluster_spec(**{p: getattr(args, p) for p in _PLAN_PARAMETERS})
    with _store(args) as store:
        plan = api.plan_cluster(
            store, spec, service_ports=args.service_port, aks_host=args.aks_host
        )
        return plan.to_dict()


def _cluster_new(args: argparse.Namespace) -> dict[str, Any]:
    spec = api.new_cluster_spec(**{p: getattr(args, p) for p in _PLAN_PARAMETERS})
    with _store(args) as store:
        api.check_cluster_supported(store, spec)  # refused before any host is reached
        hosts = api.lab_hosts(args.lab_dir)
        result = api.new_cluster(store, spec, hosts, what_if=args.what_if, options=_options(args))
        return result.to_dict()


def _cluster_get(args: argparse.Namespace) -> list[dict[str, Any]]:
    with _store(args) as store:
        if args.name:
            return [api.get_cluster(store, args.name).to_dict()]
        return [view.to_dict() for view in api.list_clusters(store)]


def _cluster_remove(args: argparse.Namespace) -> dict[str, Any]:
    hosts = api.lab_hosts(args.lab_dir)
    with _store(args) as store:
        listeners = _listeners(args)
        return api.remove_cluster(
            store, args.name, hosts, what_if=args.what_if, listeners=listeners
        ).to_dict()


def _cluster_set(args: argparse.Namespace) -> dict[str, Any]:
    hosts = api.lab_hosts(args.lab_dir)
    with _store(args) as store:
        return api.set_cluster(
            store,
            args.name,
            hosts,
            control_plane_node_count=args.control_plane_node_count,
            what_if=args.what_if,
            options=_options(args),
        ).to_dict()


def _cluster_credential(args: argparse.Namespace) -> dict[str, Any]:
    with _store(args) as store:
        hosts = api.optional_lab_hosts(args.lab_dir)
        return api.get_credential(
            store, args.name, config_path=args.config_path, overwrite=args.force, hosts=hosts
        ).to_dict()


def _nodepool_commands(groups: Any, common: argparse.ArgumentParser) -> None:
    nodepool = groups.add_parser("nodepool", help="node pools (New-AksHciNodePool ...)")
    verbs = nodepool.add_subparsers(title="verbs", metavar="VERB")
    lab_dir = argparse.ArgumentParser(add_help=False)
    lab_dir.add_argument("--lab-dir", help="the lab whose hosts to use (as for cluster new)")
    lab_dir.add_argument("--what-if", action="store_true", help="list every action; change nothing")
    named = argparse.ArgumentParser(add_help=False)
    named.add_argument("--cluster-name", required=True)
    named.add_argument("--name", required=True)
    new = verbs.add_parser("new", parents=[common, lab_dir, named], help="New-AksHciNodePool")
    new.add_argument("--count", type=int, default=1)
    new.add_argument("--os-type", default="Linux", help="Linux or Windows")
    new.add_argument("--vm-size")
    new.add_argument("--max-pod-count", type=int, default=DEFAULT_MAX_PODS)
    new.add_argument("--taints", action="append", default=[], help="key=value:Effect; repeat")
    new.set_defaults(handler=_nodepool_new, render=_render_run)
    get = verbs.add_parser("get", parents=[common], help="Get-AksHciNodePool")
    get.add_argument("--cluster-name", required=True)
    get.add_argument("--name")
    get.set_defaults(handler=_nodepool_get, render=_render_nodepools)
    scale = verbs.add_parser("set", parents=[common, lab_dir, named], help="Set-AksHciNodePool")
    scale.add_argument("--count", type=int, help="the number of nodes to scale to")
    scale.add_argument("--vm-size", help="the pool's VM size (its VMs are replaced, one by one)")
    scale.set_defaults(handler=_nodepool_set, render=_render_run)
    remove = verbs.add_parser(
        "remove", parents=[common, lab_dir, named], help="Remove-AksHciNodePool"
    )
    remove.set_defaults(handler=_nodepool_remove, render=_render_run)


def _nodepool_new(args: argparse.Namespace) -> dict[str, Any]:
    hosts = api.lab_hosts(args.lab_dir)
    with _store(args) as store:
        return api.new_node_pool(
            store,
            args.cluster_name,
            hosts,
            name=args.name,
            count=args.count,
            os_type=args.os_type,
            vm_size=args.vm_size,
            max_pod_count=args.max_pod_count,
            taints=args.taints,
            what_if=args.what_if,
            options=_options(args),
        ).to_dict()


def _nodepool_get(args: argparse.Namespace) -> list[dict[str, Any]]:
    with _store(args) as store:
        return [v.to_dict() for v in api.get_node_pools(store, args.cluster_name, args.name)]


def _nodepool_set(args: argparse.Namespace) -> dict[str, Any]:
    hosts = api.lab_hosts(args.lab_dir)
    with _store(args) as store:
        return api.set_node_pool(
            store,
            args.cluster_name,
            args.name,
            hosts,
            count=args.count,
            vm_size=args.vm_size,
            what_if=args.what_if,
            options=_options(args),
        ).to_dict()


def _nodepool_remove(args: argparse.Namespace) -> dict[str, Any]:
    hosts = api.lab_hosts(args.lab_dir)
    with _store(args) as store:
        return api.remove_node_pool(
            store, args.cluster_name, args.name, hosts, what_if=args.what_if, options=_options(args)
        ).to_dict()


def _plugin_commands(groups: Any, common: argparse.ArgumentParser) -> None:
    plugin = groups.add_parser("plugin", help="the network plugins and their capabilities")
    verbs = plugin.add_subparsers(title="verbs", metavar="VERB")
    listing = verbs.add_parser("list", parents=[common], help="the capability table")
    listing.set_defaults(handler=_plugin_list, render=_render_plugins)
    show = verbs.add_parser("show", parents=[common], help="one plugin, all its data")
    show.add_argument("name")
    show.set_defaults(handler=lambda a: api.show_plugin(a.name).to_dict(), render=print_kv)


def _plugin_list(args: argparse.Namespace) -> list[dict[str, Any]]:
    return [p.to_dict() for p in api.list_plugins()]


def _vm_sizes(args: argparse.Namespace) -> list[dict[str, Any]]:
    from aksnet.model.sizes import VM_SIZES

    return [{"VmSize": s.name, "CPU": s.cpu, "MemoryGB": s.memory_gb} for s in VM_SIZES]


def _lab_commands(groups: Any, common: argparse.ArgumentParser) -> None:
    lab = groups.add_parser("lab", help="the embedded lab: an emulated Azure Stack HCI")
    verbs = lab.add_subparsers(title="verbs", metavar="VERB")
    lab_dir = argparse.ArgumentParser(add_help=False)
    lab_dir.add_argument("--lab-dir", help="default: $AKSNET_LAB_DIR, else $AKSNET_HOME/lab")
    up = verbs.add_parser("up", parents=[common, lab_dir], help="start the lab in the background")
    up.add_argument("--hosts", type=int, default=2, help="emulated Hyper-V hosts (1-8)")
    up.add_argument("--standalone", action="store_true", help="hosts without a failover cluster")
    up.set_defaults(handler=_lab_up, render=_render_lab)
    status = verbs.add_parser("status", parents=[common, lab_dir], help="what the lab runs")
    status.set_defaults(handler=_lab_status, render=_render_lab)
    down = verbs.add_parser("down", parents=[common, lab_dir], help="stop it and remove all")
    down.set_defaults(handler=_lab_down, render=print_kv)


def _lab_dir(args: argparse.Namespace) -> Path:
    from aksnet.lab import daemon

    return Path(args.lab_dir) if args.lab_dir else daemon.default_lab_dir()


def _lab_up(args: argparse.Namespace) -> dict[str, Any]:
    from aksnet.lab import daemon

    return daemon.up(_lab_dir(args), hosts=args.hosts, failover_cluster=not args.standalone)


def _lab_status(args: argparse.Namespace) -> dict[str, Any]:
    from aksnet.lab import daemon

    return daemon.status(_lab_dir(args))


def _lab_down(args: argparse.Namespace) -> dict[str, Any]:
    from aksnet.lab import daemon

    return daemon.down(_lab_dir(args))


# Human output


def _render_lab(status: dict[str, Any]) -> None:
    print(status["banner"])
    print_kv({k: status[k] for k in ("state", "pid", "lab_dir", "bridge", "subnet", "gateway")})
    hosts = [{"Host": name, **endpoint} for name, endpoint in status["hosts"].items()]
    print_table(hosts, ["Host", "url", "answering", "ca_path"])
    print(f"Linux nodes: {', '.join(status['linux_nodes']) or 'none'}")
    print(f"Credentials: {status['credentials_file']} (owner-only)")


def _render_rows(columns: list[str]) -> Callable[[list[dict[str, Any]]], None]:
    return lambda rows: print_table(rows, columns)


def _render_network(setting: dict[str, Any]) -> None:
    print_kv(setting)


def _render_networks(views: list[dict[str, Any]]) -> None:
    for view in views:
        print_kv({k: v for k, v in view.items() if k != "Allocations"})
        if view["Allocations"]:
            print_table(view["Allocations"], ["Pool", "Address", "OwnerKind", "Owner", "Cluster"])
        print()


def _render_plan(plan: dict[str, Any]) -> None:
    print_kv({k: v for k, v in plan.items() if k != "NodePools"})
    print_table(plan["NodePools"], ["Name", "OsType", "Count", "VmSize"])
    print("Plan only: nothing was created.")


def _render_run(result: dict[str, Any]) -> None:
    for action in result["Actions"]:
        print(f"[{action['Outcome']}] {action['Host']}: {action['Title']}")
    changes = [a for a in result["Actions"] if a["Outcome"] in ("done", "planned")]
    if result["WhatIf"]:
        print(f"What if: {len(changes)} action(s) would run; nothing was changed.")
    elif not changes:
        print("No changes were needed: 0 actions performed.")
    for warning in result.get("Warnings", []):
        print(f"WARNING: {warning}")
    if "Nodes" in result:
        print_table(result["Nodes"], ["Name", "Role", "Address"])
    if result.get("RemovedNodes"):
        print(f"Removed nodes: {', '.join(result['RemovedNodes'])}")
    if "ReleasedAddresses" in result:
        print(f"Released addresses: {', '.join(result['ReleasedAddresses']) or 'none'}")


def _render_clusters(views: list[dict[str, Any]]) -> None:
    for view in views:
        print_kv({k: v for k, v in view.items() if k not in ("NodePools", "Nodes")})
        print_table(view["NodePools"], ["Name", "OsType", "Count", "VmSize"])
        if view["Nodes"]:
            print_table(view["Nodes"], ["Name", "Address", "Mac"])
        print()


def _render_nodepools(views: list[dict[str, Any]]) -> None:
    columns = ["ClusterName", "NodePoolName", "OsType", "NodeCount", "VmSize", "Phase"]
    print_table(views, columns)
    nodes = [dict(n, NodePoolName=v["NodePoolName"]) for v in views for n in v["Nodes"]]
    if nodes:
        print_table(nodes, ["NodePoolName", "Name", "Address", "Mac"])


def _render_plugins(plugins: list[dict[str, Any]]) -> None:
    rows = [
        {
            "Plugin": p["name"],
            "NetworkPolicies": p["capabilities"]["network_policies"],
            "IPv6": p["capabilities"]["ipv6"],
            "Layers": p["capabilities"]["layers_used"],
            "Windows": p["capabilities"]["windows_support"],
            "PodVmSameNetwork": p["capabilities"]["pod_vm_same_network"],
            "PodVmOtherNetwork": p["capabilities"]["pod_vm_other_network"],
            "CLI": p["capabilities"]["command_line_tool"] or "none",
            "VXLAN": f"VNI {p['vxlan_vni']} UDP {p['vxlan_port']}",
        }
        for p in plugins
    ]
    print_table(rows, list(rows[0]))


# Sync-AksHciLoadBalancer


def _loadbalancer_commands(groups: Any, common: argparse.ArgumentParser) -> None:
    lb = groups.add_parser("loadbalancer", help="the HAProxy load balancer (Sync-AksHci...)")
    verbs = lb.add_subparsers(title="verbs", metavar="VERB")
    sync = verbs.add_parser("sync", parents=[common], help="Sync-AksHciLoadBalancer")
    sync.add_argument("--name", required=True, help="the cluster")
    sync.add_argument("--what-if", action="store_true", help="list every action; change nothing")
    sync.add_argument(
        "--watch", action="store_true", help="sync again after every Service change (Ctrl+C ends)"
    )
    sync.add_argument(
        "--lab-dir", help="the lab whose hosts report a DHCP cluster's addresses (as cluster new)"
    )
    sync.set_defaults(handler=_loadbalancer_sync, render=_render_lb_sync)


def _loadbalancer_sync(args: argparse.Namespace) -> dict[str, Any]:
    from aksnet.loadbalancer.apply import LoadBalancerSyncResult

    def show(result: LoadBalancerSyncResult) -> None:  # each run of a watch as it ends
        if args.json:
            print(json.dumps(result.to_dict(), default=str), flush=True)
        else:
            _render_lb_sync(result.to_dict())

    with _store(args) as store:
        hosts = api.optional_lab_hosts(args.lab_dir)
        results = api.sync_load_balancer(
            store,
            args.name,
            hosts,
            what_if=args.what_if,
            watch=args.watch,
            on_result=show if args.watch else None,
            listeners=_listeners(args),
        )
    if args.watch:
        return {"Cluster": args.name, "Watch": "stopped", "Runs": len(results)}
    return results[0].to_dict()


def _render_lb_sync(result: dict[str, Any]) -> None:
    if "Runs" in result:
        print(f"Watch of {result['Cluster']} stopped after {result['Runs']} run(s).")
        return
    for title in result["Actions"]:
        print(f"[{'planned' if result['WhatIf'] else 'done'}] {title}")
    if result["WhatIf"]:
        print(f"What if: {result['ActionCount']} action(s) would run; nothing was changed.")
    elif not result["Actions"]:
        print("No changes were needed: 0 actions performed.")
    print_table(result["Services"], ["Namespace", "Name", "Type", "Vip", "Ports", "DnsName"])
    for problem in result["Problems"]:
        print(f"WARNING: {problem['Namespace']}/{problem['Name']}: {problem['Problem']['message']}")
    for note in result["Notes"]:
        print(f"NOTE: {note}")


# Test-/Repair-AksHciClusterNetwork and their scheduled runs


def _remediation_commands(groups: Any, common: argparse.ArgumentParser) -> None:
    group = groups.add_parser("remediation", help="Test-/Repair-AksHciClusterNetwork, timers")
    verbs = group.add_subparsers(title="verbs", metavar="VERB")
    test = verbs.add_parser(
        "test", parents=[common], help="Test-AksHciClusterNetwork (exit 0 clean, 1 drift, 2 error)"
    )
    repair = verbs.add_parser("repair", parents=[common], help="Repair-AksHciClusterNetwork")
    repair.add_argument("--what-if", action="store_true", help="list the repairs; change nothing")
    for verb in (test, repair):
        verb.add_argument("--name", help="the cluster (default: every cluster)")
        verb.add_argument("--deadline", type=float, default=600.0, help="seconds (default 600)")
        verb.add_argument("--lab-dir", help="the lab whose hosts to use (default: the running one)")
    test.set_defaults(handler=_remediation_run, render=_render_remediation)
    repair.set_defaults(handler=_remediation_run, render=_render_remediation)
    install = verbs.add_parser("install-timer", parents=[common], help="a systemd timer of Repair")
    remove = verbs.add_parser("remove-timer", parents=[common], help="remove that timer")
    for verb in (install, remove):
        verb.add_argument("--name", help="the cluster (default: every cluster)")
        verb.add_argument("--directory", help="the unit directory (default /etc/systemd/system)")
    install.add_argument("--interval", type=float, default=900.0, help="seconds (default 900)")
    install.add_argument("--deadline", type=float, default=600.0, help="seconds (default 600)")
    install.add_argument("--log-file", help="append the runs' output to this file")
    install.set_defaults(handler=_remediation_install, render=print_kv)
    remove.set_defaults(handler=_remediation_remove, render=print_kv)


def _remediation_run(args: argparse.Namespace) -> dict[str, Any]:
    with _store(args) as store:
        hosts, options = api.lab_hosts(args.lab_dir), _options(args)
        if "what_if" in args:
            report = api.repair_cluster_network(
                store, hosts, args.name, what_if=args.what_if, deadline=args.deadline,
                options=options,
            )  # fmt: skip
            args.exit_code = 2 if report.exit_code == 2 else 0  # drift found and repaired: 0
        else:
            report = api.test_cluster_network(
                store, hosts, args.name, deadline=args.deadline, options=options
            )
            args.exit_code = report.exit_code
    return report.to_dict()


def _render_remediation(result: dict[str, Any]) -> None:
    from aksnet.remediation.report import Report, Row, format_report

    rows = [
        Row(r["Cluster"], r["Node"], r["Check"], r["Status"], r["Observed"], r["Desired"])
        for r in result["Rows"]
    ]
    actions = [(a["Host"], a["Title"]) for a in result["Actions"]]
    print(format_report(Report(rows, actions, result["WhatIf"], result["Refused"])))


def _remediation_install(args: argparse.Namespace) -> dict[str, Any]:
    units = api.install_remediation_timer(
        args.name,
        directory=args.directory,
        interval=args.interval,
        deadline=args.deadline,
        store_path=str(Path(args.store).resolve()) if args.store else None,
        log_file=args.log_file,
    )
    return {"Service": str(units.service), "Timer": str(units.timer)}


def _remediation_remove(args: argparse.Namespace) -> dict[str, Any]:
    return {"Removed": api.remove_remediation_timer(args.name, directory=args.directory)}


if __name__ == "__main__":
    sys.exit(main())
