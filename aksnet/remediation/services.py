"""The load balancer of a cluster with LoadBalancer Services: checked and repaired by the sync.

Create configures only the API server's frontend; Sync-AksHciLoadBalancer
(aksnet.loadbalancer.apply) configures it with the Services' frontends as well, which is what
such a cluster requires. So for a cluster whose store holds Service VIPs, the load balancer's
rows come from the sync's what-if (its phase "Configure the load balancer", and its Services
phase when a Service lacks its VIP), create's rows of that phase are dropped, and Repair runs
the sync after create (create's run sets the API frontend only; the sync restores the rest).
"""

from __future__ import annotations

from dataclasses import replace

from aksnet.cluster.create import CreateOptions
from aksnet.cluster.hosts import HostConnections
from aksnet.loadbalancer.services import OWNER_KIND
from aksnet.loadbalancer.setup import LoadBalancerSetup
from aksnet.model.cluster import ClusterSpec
from aksnet.plan.progress import ProgressListener
from aksnet.remediation.converge import PlannedByPhase, rows_of
from aksnet.remediation.names import VmNames
from aksnet.remediation.report import OK, Row
from aksnet.state.store import Store

LB_PHASE = LoadBalancerSetup.title


def has_services(store: Store, spec: ClusterSpec) -> bool:
    """True when the store holds a VIP of one of the cluster's LoadBalancer Services."""
    allocations = store.allocations(spec.vnet, cluster=spec.name)
    return spec.load_balancer.vm_count > 0 and any(a.owner_kind == OWNER_KIND for a in allocations)


def without_lb_rows(rows: list[Row]) -> list[Row]:
    """Create's rows minus those of its load-balancer phase (the sync's replace them)."""
    return [r for r in rows if r.check != LB_PHASE]


def sync_rows(
    store: Store,
    spec: ClusterSpec,
    hosts: HostConnections,
    names: VmNames,
    options: CreateOptions,
    *,
    what_if: bool,
) -> tuple[list[Row], list[tuple[str, str]]]:
    """The sync's rows (its what-if, or what its run did) and its actions (host, title)."""
    from aksnet.loadbalancer.apply import sync_cluster_load_balancer

    listener = PlannedByPhase(outcome="planned" if what_if else "done")
    listeners: list[ProgressListener] = [*options.listeners, listener]
    result = sync_cluster_load_balancer(
        store,
        spec.name,
        what_if=what_if,
        hosts=hosts,
        admin_user=options.admin_user,
        listeners=listeners,
    )
    only_lb = VmNames([], names.load_balancers, [])
    rows = [
        r for r in rows_of(spec.name, listener, only_lb) if r.status != OK or r.check == LB_PHASE
    ]
    rows = [replace(r, observed="differs (the sync's fact)") if r.status != OK else r for r in rows]
    actions = [(phase_host, title) for _phase, phase_host, title in listener.planned]
    assert result.cluster == spec.name
    return rows, actions
