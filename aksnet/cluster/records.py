"""What the store records about a cluster beyond its spec: its state and its API VIP.

The store's clusters table has a state column ('creating', 'provisioned', 'removing'); the Store
class offers no setter for it, so these helpers run one statement each in a store transaction.
The API VIP is an allocation in the VIP pool owned by ("apiserver", <cluster>): decided once,
reused by every later run.
"""

from __future__ import annotations

from aksnet.errors import NotFound, StateConflict
from aksnet.model.cluster import ClusterSpec
from aksnet.state.store import Store

CREATING, PROVISIONED, REMOVING = "creating", "provisioned", "removing"
API_VIP_OWNER_KIND = "apiserver"


def state_of(store: Store, name: str) -> str | None:
    """The cluster's state, None when the store does not know it."""
    with store.transaction() as tx:
        row = tx.execute("SELECT state FROM clusters WHERE name = ?", (name,)).fetchone()
    return None if row is None else str(row[0])


def set_state(store: Store, name: str, state: str) -> None:
    with store.transaction() as tx:
        if tx.execute("UPDATE clusters SET state = ? WHERE name = ?", (state, name)).rowcount == 0:
            raise NotFound("Cluster", name)


def ensure_recorded(store: Store, spec: ClusterSpec) -> bool:
    """Record the cluster as creating; True when it is new. The same spec again is a resume or
    a re-apply; another spec under the same name is refused (scaling is Set's job)."""
    if state_of(store, spec.name) is None:
        store.add_cluster(spec, state=CREATING)
        return True
    if store.get_cluster(spec.name).to_dict() != spec.to_dict():
        raise StateConflict(
            f"A cluster named '{spec.name}' exists with other settings; remove it first, or "
            "change it with the Set operations.",
            target=spec.name,
        )
    return False


def api_vip(store: Store, spec: ClusterSpec) -> str:
    """The cluster's API server VIP: the one it holds, else a new one from the VIP pool."""
    for allocation in store.allocations(spec.vnet, cluster=spec.name):
        if allocation.owner_kind == API_VIP_OWNER_KIND:
            return str(allocation.address)
    (allocation,) = store.allocate(
        spec.vnet, "vip", owner_kind=API_VIP_OWNER_KIND, owner=spec.name, cluster=spec.name
    )
    return str(allocation.address)
