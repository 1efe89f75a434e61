"""Bridge handler of Sync-AksHciLoadBalancer -name [-Watch] (aksnet.loadbalancer.apply).

One result line (`AksNet.LoadBalancerSync`) per run, written as the run ends, so a -Watch
streams one object per sync to the pipeline; each Service that got no address (a refused or
exhausted request) is also a warning line, and each note (loadBalancerSku none) an information
line. A watch runs until the module stops the pipeline (Ctrl+C), which ends this process: each
action of a run is atomic on its VM, and the next run converges what one cut short left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aksnet.bridge.commands import Handler, open_store
from aksnet.bridge.emitter import Emitter
from aksnet.bridge.request import Request

if TYPE_CHECKING:
    from aksnet.loadbalancer.apply import LoadBalancerSyncResult

RESULT_TYPE = "AksNet.LoadBalancerSync"


def sync_load_balancer(request: Request, out: Emitter) -> None:
    """Sync-AksHciLoadBalancer -name [-Watch]; -WhatIf lists the actions, changes nothing."""
    from aksnet import api

    p = request.parameters

    def show(result: LoadBalancerSyncResult) -> None:
        shown = result.to_dict()
        for problem in shown["Problems"]:
            service = f"{problem['Namespace']}/{problem['Name']}"
            out.warning(f"{service}: {problem['Problem']['message']}")
        for note in shown["Notes"]:
            out.emit("information", message=str(note))
        out.result(RESULT_TYPE, shown)

    with open_store() as store:
        store.get_cluster(p["name"])  # NotFound before any host is reached
        hosts = api.optional_lab_hosts(None)  # a DHCP cluster's address comes from its host
        api.sync_load_balancer(
            store,
            p["name"],
            hosts,
            what_if=request.what_if,
            watch=bool(p.get("watch")),
            on_result=show,
        )


HANDLERS: dict[str, Handler] = {"Sync-AksHciLoadBalancer": sync_load_balancer}
