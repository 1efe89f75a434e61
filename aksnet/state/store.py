"""The SQLite store: networks, clusters, node pools, address allocations and the journal.

It records decisions, never observations of hosts. Every change is one transaction taken with
BEGIN IMMEDIATE, and every address is unique per network by primary key, so two processes can
never hand out one address; a request that cannot be met in full writes nothing.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from ipaddress import IPv4Address
from pathlib import Path

from aksnet.errors import CapacityExceeded, InvalidInput, NotFound, StateConflict
from aksnet.model.cluster import (
    CONTROL_PLANE_COUNTS,
    ClusterSpec,
    NodePoolSpec,
    check_cluster_cidrs,
    with_node_pool,
)
from aksnet.model.network import NetworkSetting
from aksnet.network.addressing import AddressRange, parse_address
from aksnet.state.paths import default_store_path
from aksnet.state.schema import migrate

POOL_LABELS = {"node": "Kubernetes node IP pool", "vip": "VIP pool"}
SpecCheck = Callable[[ClusterSpec], None]


@dataclass(frozen=True)
class Allocation:
    network: str
    pool: str
    address: IPv4Address
    owner_kind: str
    owner: str
    cluster: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "Network": self.network,
            "Pool": self.pool,
            "Address": str(self.address),
            "OwnerKind": self.owner_kind,
            "Owner": self.owner,
            "Cluster": self.cluster,
        }


class Store:
    """One store file. Open one per process (or thread); SQLite serialises the writers."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        migrate(self._conn)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # Networks

    def add_network(self, setting: NetworkSetting) -> None:
        with self.transaction() as tx:
            if self._network_row(tx, setting.name) is not None:
                raise StateConflict(
                    f"A network setting named '{setting.name}' already exists.",
                    target=setting.name,
                )
            self._check_no_overlap(tx, setting)
            tx.execute(
                "INSERT INTO networks (name, spec) VALUES (?, ?)",
                (setting.name, json.dumps(setting.to_dict())),
            )

    def update_network(self, setting: NetworkSetting) -> None:
        """Replace a network setting that no cluster uses (§2.1: no change after deployment)."""
        with self.transaction() as tx:
            self._require_network(tx, setting.name)
            self._refuse_if_used(tx, setting.name, "changed")
            self._check_no_overlap(tx, setting)
            tx.execute(
                "UPDATE networks SET spec = ? WHERE name = ?",
                (json.dumps(setting.to_dict()), setting.name),
            )

    def get_network(self, name: str) -> NetworkSetting:
        return self._require_network(self._conn, name)

    def list_networks(self) -> list[NetworkSetting]:
        rows = self._conn.execute("SELECT spec FROM networks ORDER BY name").fetchall()
        return [_parse_network(spec) for (spec,) in rows]

    def remove_network(self, name: str) -> None:
        """§1.9: refused while a cluster uses the network."""
        with self.transaction() as tx:
            self._require_network(tx, name)
            self._refuse_if_used(tx, name, "removed")
            tx.execute("DELETE FROM allocations WHERE network = ?", (name,))
            tx.execute("DELETE FROM networks WHERE name = ?", (name,))

    def network_users(self, name: str) -> list[str]:
        rows = self._conn.execute(
            "SELECT name FROM clusters WHERE network = ? ORDER BY name", (name,)
        ).fetchall()
        return [n for (n,) in rows]

    def _network_row(self, conn: sqlite3.Connection, name: str) -> NetworkSetting | None:
        row = conn.execute("SELECT spec FROM networks WHERE name = ?", (name,)).fetchone()
        return _parse_network(row[0]) if row else None

    def _require_network(self, conn: sqlite3.Connection, name: str) -> NetworkSetting:
        found = self._network_row(conn, name)
        if found is None:
            raise NotFound("Network setting", name)
        return found

    def _refuse_if_used(self, conn: sqlite3.Connection, name: str, verb: str) -> None:
        users = [n for (n,) in conn.execute("SELECT name FROM clusters WHERE network = ?", (name,))]
        if users:
            raise StateConflict(
                f"Network setting '{name}' cannot be {verb}: it is used by cluster(s) "
                f"{', '.join(sorted(users))}. Remove those clusters first.",
                target=name,
            )

    def _check_no_overlap(self, conn: sqlite3.Connection, setting: NetworkSetting) -> None:
        """Overlapping network objects cause duplicate addresses (known issue): refuse them."""
        for (spec,) in conn.execute("SELECT spec FROM networks WHERE name != ?", (setting.name,)):
            other = _parse_network(spec)
            for mine in setting.pool_kinds:
                for theirs in other.pool_kinds:
                    if setting.pool(mine).overlaps(other.pool(theirs)):
                        raise StateConflict(
                            f"The {POOL_LABELS[mine]} {setting.pool(mine)} overlaps the "
                            f"{POOL_LABELS[theirs]} {other.pool(theirs)} of network setting "
                            f"'{other.name}'; overlapping network settings hand out duplicate "
                            "addresses.",
                            target=setting.name,
                        )

    # Clusters

    def add_cluster(self, spec: ClusterSpec, state: str = "planned") -> None:
        with self.transaction() as tx:
            self._require_network(tx, spec.vnet)
            if tx.execute("SELECT 1 FROM clusters WHERE name = ?", (spec.name,)).fetchone():
                raise StateConflict(
                    f"A cluster named '{spec.name}' already exists.", target=spec.name
                )
            tx.execute(
                "INSERT INTO clusters (name, network, plugin, spec, state) VALUES (?, ?, ?, ?, ?)",
                (
                    spec.name,
                    spec.vnet,
                    spec.primary_network_plugin,
                    json.dumps(spec.to_dict()),
                    state,
                ),
            )
            for pool in spec.node_pools:
                tx.execute(
                    "INSERT INTO node_pools (cluster, name, os_type, spec) VALUES (?, ?, ?, ?)",
                    (spec.name, pool.name, pool.os_type, json.dumps(pool.__dict__)),
                )

    def get_cluster(self, name: str) -> ClusterSpec:
        row = self._conn.execute("SELECT spec FROM clusters WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound("Cluster", name)
        return ClusterSpec.from_dict(json.loads(row[0]))

    def list_clusters(self) -> list[ClusterSpec]:
        rows = self._conn.execute("SELECT spec FROM clusters ORDER BY name").fetchall()
        return [ClusterSpec.from_dict(json.loads(spec)) for (spec,) in rows]

    def remove_cluster(self, name: str) -> int:
        """Forget a cluster and return its addresses; returns how many were released."""
        with self.transaction() as tx:
            if not tx.execute("SELECT 1 FROM clusters WHERE name = ?", (name,)).fetchone():
                raise NotFound("Cluster", name)
            released = tx.execute("DELETE FROM allocations WHERE cluster = ?", (name,)).rowcount
            tx.execute("DELETE FROM learnt_addresses WHERE cluster = ?", (name,))
            tx.execute("DELETE FROM clusters WHERE name = ?", (name,))
            return int(released)

    # Node pools and the control plane: how a recorded cluster's spec changes. Each method is
    # one transaction: read the spec, derive and validate the new one (the model's rules, the
    # caller's `check`, and the node IP pool's free addresses for added nodes), then write it.
    # A refusal writes nothing.

    def add_node_pool(
        self, cluster: str, pool: NodePoolSpec, *, check: SpecCheck | None = None
    ) -> ClusterSpec:
        """New-AksHciNodePool: the cluster's spec with one more pool."""
        return self._change_cluster(
            cluster, lambda spec: with_node_pool(spec, pool), "count", pool.count, check
        )

    def set_node_pool(
        self,
        cluster: str,
        name: str,
        *,
        count: int | None = None,
        vm_size: str | None = None,
        check: SpecCheck | None = None,
    ) -> ClusterSpec:
        """Set-AksHciNodePool: a pool's count and/or VM size (already validated values)."""

        def change(spec: ClusterSpec) -> ClusterSpec:
            old = _pool_of(spec, name)
            new = replace(
                old,
                count=old.count if count is None else count,
                vm_size=old.vm_size if vm_size is None else vm_size,
            )
            pools = tuple(new if p.name == name else p for p in spec.node_pools)
            return replace(spec, node_pools=pools)

        parameter, value = ("count", count) if count is not None else ("vmSize", vm_size)
        return self._change_cluster(cluster, change, parameter, value, check)

    def remove_node_pool(self, cluster: str, name: str) -> ClusterSpec:
        """Forget a pool (Remove-AksHciNodePool, once its VMs are gone)."""

        def change(spec: ClusterSpec) -> ClusterSpec:
            _pool_of(spec, name)
            return replace(spec, node_pools=tuple(p for p in spec.node_pools if p.name != name))

        return self._change_cluster(cluster, change, "name", name, None)

    def set_control_plane_count(
        self, cluster: str, count: int, *, check: SpecCheck | None = None
    ) -> ClusterSpec:
        """Set-AksHciCluster -controlPlaneNodeCount."""
        if isinstance(count, bool) or count not in CONTROL_PLANE_COUNTS:
            raise InvalidInput(
                "controlPlaneNodeCount",
                count,
                "it must be 1, 3 or 5 (etcd needs an odd number of members).",
            )
        return self._change_cluster(
            cluster,
            lambda spec: replace(spec, control_plane_node_count=count),
            "controlPlaneNodeCount",
            count,
            check,
        )

    def _change_cluster(
        self,
        cluster: str,
        change: Callable[[ClusterSpec], ClusterSpec],
        parameter: str,
        value: object,
        check: SpecCheck | None,
    ) -> ClusterSpec:
        with self.transaction() as tx:
            row = tx.execute("SELECT spec FROM clusters WHERE name = ?", (cluster,)).fetchone()
            if row is None:
                raise NotFound("Cluster", cluster)
            old = ClusterSpec.from_dict(json.loads(row[0]))
            new = change(old)
            check_cluster_cidrs(new)
            if check is not None:
                check(new)
            self._check_added_nodes(tx, old, new, parameter, value)
            tx.execute(
                "UPDATE clusters SET spec = ? WHERE name = ?", (json.dumps(new.to_dict()), cluster)
            )
            tx.execute("DELETE FROM node_pools WHERE cluster = ?", (cluster,))
            for pool in new.node_pools:
                tx.execute(
                    "INSERT INTO node_pools (cluster, name, os_type, spec) VALUES (?, ?, ?, ?)",
                    (cluster, pool.name, pool.os_type, json.dumps(pool.__dict__)),
                )
        return new

    def _check_added_nodes(
        self,
        tx: sqlite3.Connection,
        old: ClusterSpec,
        new: ClusterSpec,
        parameter: str,
        value: object,
    ) -> None:
        """Refuse more nodes than the network's node IP pool has free addresses for."""
        setting = self._require_network(tx, new.vnet)
        added = _node_count(new) - _node_count(old)
        if added <= 0 or not setting.is_static:
            return
        free = self._free_in(tx, setting, "node")
        if added > free:
            raise CapacityExceeded(
                f"{POOL_LABELS['node']} {setting.pool('node')} of network '{setting.name}'",
                added,
                free,
                f"Parameter {parameter} = {value} adds {added} node(s) to cluster '{new.name}' "
                f"and only {free} address(es) are free.",
            )

    # Allocations

    def allocate(
        self,
        network: str,
        pool: str,
        *,
        owner_kind: str,
        owner: str,
        count: int = 1,
        addresses: Sequence[str] = (),
        cluster: str | None = None,
    ) -> list[Allocation]:
        """Allocate `count` free addresses, or exactly `addresses`, in one transaction."""
        with self.transaction() as tx:
            setting = self._require_network(tx, network)
            rng = setting.pool(pool)
            excluded = setting.never_handed_out()
            if addresses:
                wanted = [self._check_requested(tx, setting, pool, a) for a in addresses]
            else:
                wanted = self._pick_free(tx, setting, pool, rng, excluded, count)
            tx.executemany(
                "INSERT INTO allocations (network, pool, address, owner_kind, owner, cluster) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(network, pool, a, owner_kind, owner, cluster) for a in wanted],
            )
        return [
            Allocation(network, pool, IPv4Address(a), owner_kind, owner, cluster) for a in wanted
        ]

    def allocate_each(
        self,
        network: str,
        pool: str,
        *,
        owner_kind: str,
        owners: Sequence[str],
        cluster: str | None = None,
    ) -> list[Allocation]:
        """One free address for each owner, all in one transaction: all of them or none."""
        if not owners:
            return []
        with self.transaction() as tx:
            setting = self._require_network(tx, network)
            rng = setting.pool(pool)
            picked = self._pick_free(
                tx, setting, pool, rng, setting.never_handed_out(), len(owners)
            )
            rows = list(zip(picked, owners, strict=True))
            tx.executemany(
                "INSERT INTO allocations (network, pool, address, owner_kind, owner, cluster) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(network, pool, a, owner_kind, o, cluster) for a, o in rows],
            )
        return [Allocation(network, pool, IPv4Address(a), owner_kind, o, cluster) for a, o in rows]

    def _check_requested(
        self, tx: sqlite3.Connection, setting: NetworkSetting, pool: str, text: str
    ) -> int:
        address = int(parse_address("address", text))
        rng = setting.pool(pool)
        if address not in rng or address in setting.never_handed_out():
            raise InvalidInput(
                "address",
                text,
                f"it is not an address the {POOL_LABELS[pool]} {rng} of network "
                f"'{setting.name}' hands out.",
            )
        row = tx.execute(
            "SELECT owner_kind, owner FROM allocations WHERE network = ? AND address = ?",
            (setting.name, address),
        ).fetchone()
        if row is not None:
            raise StateConflict(
                f"Address {text} of network '{setting.name}' is already allocated to "
                f"{row[0]} '{row[1]}'.",
                target=text,
            )
        return address

    def _pick_free(
        self,
        tx: sqlite3.Connection,
        setting: NetworkSetting,
        pool: str,
        rng: AddressRange,
        excluded: frozenset[int],
        count: int,
    ) -> list[int]:
        if count < 1:
            raise InvalidInput("count", count, "it must be at least 1.")
        (highest,) = tx.execute(
            "SELECT MAX(address) FROM allocations WHERE network = ? AND address BETWEEN ? AND ?",
            (setting.name, rng.first, rng.last),
        ).fetchone()
        # Next fit: addresses above the highest allocated first, so filling a pool in order
        # costs one query per allocation; the holes below are searched only when needed.
        above = rng.first if highest is None else highest + 1
        picked = _take(range(above, rng.last + 1), excluded, set(), count)
        if len(picked) < count and highest is not None:
            used = {
                a
                for (a,) in tx.execute(
                    "SELECT address FROM allocations WHERE network = ? AND address BETWEEN ? AND ?",
                    (setting.name, rng.first, highest),
                )
            }
            picked += _take(range(rng.first, highest), excluded, used, count - len(picked))
        if len(picked) < count:
            free = self._free_in(tx, setting, pool)
            raise CapacityExceeded(
                f"{POOL_LABELS[pool]} {rng} of network '{setting.name}'", count, free
            )
        return picked

    def free_count(self, network: str, pool: str) -> int:
        setting = self._require_network(self._conn, network)
        return self._free_in(self._conn, setting, pool)

    def _free_in(self, conn: sqlite3.Connection, setting: NetworkSetting, pool: str) -> int:
        rng = setting.pool(pool)
        (used,) = conn.execute(
            "SELECT COUNT(*) FROM allocations WHERE network = ? AND address BETWEEN ? AND ?",
            (setting.name, rng.first, rng.last),
        ).fetchone()
        usable = rng.size - sum(1 for a in setting.never_handed_out() if a in rng)
        return int(usable - used)

    def release(self, network: str, addresses: Sequence[str]) -> int:
        with self.transaction() as tx:
            ints = [(network, int(parse_address("address", a))) for a in addresses]
            cursor = tx.executemany(
                "DELETE FROM allocations WHERE network = ? AND address = ?", ints
            )
            return int(cursor.rowcount)

    def release_owner(self, owner_kind: str, owner: str) -> int:
        with self.transaction() as tx:
            cursor = tx.execute(
                "DELETE FROM allocations WHERE owner_kind = ? AND owner = ?", (owner_kind, owner)
            )
            if owner_kind == "vm":  # the VM's learnt address goes with it (not counted)
                tx.execute("DELETE FROM learnt_addresses WHERE owner = ?", (owner,))
            return int(cursor.rowcount)

    # Addresses learnt from the hosts (DHCP): observations, one per VM, replaced when the host
    # reports another; forgotten with the VM's allocations (release_owner) and the cluster.

    def record_learnt_address(self, cluster: str, owner: str, network: str, address: str) -> bool:
        """Keep the address the VM's host reported; True when it is new or changed."""
        text = str(parse_address("address", address))
        with self.transaction() as tx:
            row = tx.execute(
                "SELECT address FROM learnt_addresses WHERE owner = ?", (owner,)
            ).fetchone()
            if row is not None and row[0] == text:
                return False
            tx.execute(
                "INSERT INTO learnt_addresses (owner, cluster, network, address) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (owner) DO UPDATE SET address = excluded.address,"
                " cluster = excluded.cluster, network = excluded.network, "
                "learnt_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                (owner, cluster, network, text),
            )
            return True

    def learnt_addresses(self, *, cluster: str | None = None) -> dict[str, str]:
        """VM name -> the address its host last reported (the DHCP model)."""
        query, args = "SELECT owner, address FROM learnt_addresses", []
        if cluster is not None:
            query, args = query + " WHERE cluster = ?", [cluster]
        rows = self._conn.execute(query + " ORDER BY owner", args).fetchall()
        return {str(owner): str(address) for owner, address in rows}

    def allocations(
        self, network: str | None = None, *, cluster: str | None = None
    ) -> list[Allocation]:
        query = "SELECT network, pool, address, owner_kind, owner, cluster FROM allocations"
        clauses, args = [], []
        if network is not None:
            clauses.append("network = ?")
            args.append(network)
        if cluster is not None:
            clauses.append("cluster = ?")
            args.append(cluster)
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        rows = self._conn.execute(query + " ORDER BY network, address", args).fetchall()
        return [Allocation(n, p, IPv4Address(a), k, o, c) for n, p, a, k, o, c in rows]


@functools.lru_cache(maxsize=256)
def _parse_network(spec: str) -> NetworkSetting:
    """Parse and re-validate a stored setting once per distinct text: the row is still read in
    every transaction (no stale decisions), only the parsing of unchanged text is skipped."""
    return NetworkSetting.from_dict(json.loads(spec))


def _pool_of(spec: ClusterSpec, name: str) -> NodePoolSpec:
    for pool in spec.node_pools:
        if pool.name == name:
            return pool
    raise NodePoolNotFound(spec.name, name)


def _node_count(spec: ClusterSpec) -> int:
    return spec.control_plane_node_count + spec.worker_count


def _take(candidates: range, excluded: frozenset[int], used: set[int], count: int) -> list[int]:
    picked: list[int] = []
    for address in candidates:
        if len(picked) == count:
            break
        if address not in excluded and address not in used:
            picked.append(address)
    return picked


class NodePoolNotFound(NotFound):
    """NotFound (exit 3, PowerShell's ObjectNotFound) whose message names the pool and its
    cluster: "Node pool 'extra' of cluster 'c1' was not found." (a second Remove-AksHciNodePool
    ends here; a cluster that is not there is the store's "Cluster 'c1' was not found.")."""

    def __init__(self, cluster: str, name: str) -> None:
        super().__init__("Node pool", name)
        self.cluster = cluster
        self.args = (f"Node pool '{name}' of cluster '{cluster}' was not found.",)
