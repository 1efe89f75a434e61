"""MAC address allocations in the store: one MAC per owner (a VM), unique by primary key.

A MAC is a decision, like an IP address: it is recorded before the VM exists so that a resumed
run gives the VM the same MAC, and two processes can never hand out one MAC (the table's primary
key, inside a BEGIN IMMEDIATE transaction). MACs are stored as 48-bit integers; formatting and
the pool's bounds belong to aksnet.infra.macpool.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from aksnet.errors import CapacityExceeded, InvalidInput
from aksnet.state.store import Store


@dataclass(frozen=True)
class MacAllocation:
    mac: int
    owner: str
    cluster: str | None


def allocate_mac(
    store: Store, first: int, last: int, *, owner: str, cluster: str | None = None
) -> int:
    """The owner's MAC: the one it holds already, else the lowest free one in [first, last]."""
    if not owner:
        raise InvalidInput("owner", owner, "it must name the VM the MAC is for.")
    if not 0 <= first <= last < 2**48:
        raise InvalidInput("pool", f"{first:#x}-{last:#x}", "it must be a range of 48-bit MACs.")
    with store.transaction() as tx:
        row = tx.execute("SELECT mac FROM mac_allocations WHERE owner = ?", (owner,)).fetchone()
        if row is not None:
            return int(row[0])
        mac = _lowest_free(tx, first, last)
        if mac is None:
            raise CapacityExceeded(f"MAC pool {first:012x}-{last:012x}", 1, 0)
        tx.execute(
            "INSERT INTO mac_allocations (mac, owner, cluster) VALUES (?, ?, ?)",
            (mac, owner, cluster),
        )
        return mac


def _lowest_free(tx: sqlite3.Connection, first: int, last: int) -> int | None:
    """The lowest MAC in [first, last] without an owner (one ordered scan of the used ones)."""
    candidate = first
    for (used,) in tx.execute(
        "SELECT mac FROM mac_allocations WHERE mac BETWEEN ? AND ? ORDER BY mac", (first, last)
    ):
        if used > candidate:
            break
        candidate = used + 1
    return candidate if candidate <= last else None


def macs_of(store: Store, *, cluster: str | None = None) -> list[MacAllocation]:
    """Every MAC allocation, or those of one cluster, by MAC."""
    with store.transaction() as tx:
        query = "SELECT mac, owner, cluster FROM mac_allocations"
        args: tuple[str, ...] = ()
        if cluster is not None:
            query, args = query + " WHERE cluster = ?", (cluster,)
        rows = tx.execute(query + " ORDER BY mac", args).fetchall()
    return [MacAllocation(int(m), str(o), c) for m, o, c in rows]


def release_macs(store: Store, *, owner: str | None = None, cluster: str | None = None) -> int:
    """Return the MACs of one owner or of a whole cluster to the pool; how many were freed."""
    if (owner is None) == (cluster is None):
        raise InvalidInput("owner", owner, "give exactly one of owner and cluster.")
    column, value = ("owner", owner) if owner is not None else ("cluster", cluster)
    with store.transaction() as tx:
        cursor = tx.execute(f"DELETE FROM mac_allocations WHERE {column} = ?", (value,))
        return int(cursor.rowcount)
