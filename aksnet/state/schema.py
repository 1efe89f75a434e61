"""The store's schema, versioned with PRAGMA user_version; each migration runs once, in order."""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: networks, clusters, node pools, allocations, the operations journal.
    """
    CREATE TABLE networks (
        name TEXT PRIMARY KEY,
        spec TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE TABLE clusters (
        name TEXT PRIMARY KEY,
        network TEXT NOT NULL REFERENCES networks(name),
        plugin TEXT NOT NULL CHECK (plugin IN ('calico', 'flannel')),
        spec TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'planned',
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE TABLE node_pools (
        cluster TEXT NOT NULL REFERENCES clusters(name) ON DELETE CASCADE,
        name TEXT NOT NULL,
        os_type TEXT NOT NULL CHECK (os_type IN ('Linux', 'Windows')),
        spec TEXT NOT NULL,
        PRIMARY KEY (cluster, name)
    );
    CREATE TABLE allocations (
        network TEXT NOT NULL REFERENCES networks(name),
        pool TEXT NOT NULL CHECK (pool IN ('node', 'vip')),
        address INTEGER NOT NULL,
        owner_kind TEXT NOT NULL,
        owner TEXT NOT NULL,
        cluster TEXT,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        PRIMARY KEY (network, address)
    ) WITHOUT ROWID;
    CREATE INDEX allocations_by_owner ON allocations (owner_kind, owner);
    CREATE INDEX allocations_by_cluster ON allocations (cluster);
    CREATE TABLE operations (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'running',
        started_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        finished_at TEXT
    );
    CREATE TABLE journal (
        operation INTEGER NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        host TEXT NOT NULL,
        action TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('started', 'done', 'failed')),
        detail TEXT,
        at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        PRIMARY KEY (operation, seq)
    );
    """,
    # 2: MAC addresses handed out from aksnet's managed pool, one per VM (the owner).
    """
    CREATE TABLE mac_allocations (
        mac INTEGER PRIMARY KEY,
        owner TEXT NOT NULL UNIQUE,
        cluster TEXT,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE INDEX mac_allocations_by_cluster ON mac_allocations (cluster);
    """,
    # 3: run leases (aksnet.state.lease): one holder per target, with an expiry (Unix seconds).
    """
    CREATE TABLE leases (
        target TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        run_id TEXT NOT NULL,
        acquired_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        CHECK (expires_at > acquired_at)
    );
    """,
    # 4: addresses learnt from the hosts (the DHCP model), one per VM: observations kept so Get,
    # a resumed run and a scale-down know them; not reservations (the DHCP server owns the
    # address), so not in allocations, whose primary key and pools are aksnet's decisions.
    """
    CREATE TABLE learnt_addresses (
        owner TEXT PRIMARY KEY,
        cluster TEXT NOT NULL REFERENCES clusters(name) ON DELETE CASCADE,
        network TEXT NOT NULL,
        address TEXT NOT NULL,
        learnt_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE INDEX learnt_addresses_by_cluster ON learnt_addresses (cluster);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to SCHEMA_VERSION; returns the version it was at."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        (found,) = conn.execute("PRAGMA user_version").fetchone()
        if found > SCHEMA_VERSION:
            raise RuntimeError(
                f"the store has schema version {found}, newer than this aksnet "
                f"({SCHEMA_VERSION}); upgrade aksnet"
            )
        for version in range(found, SCHEMA_VERSION):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        conn.execute("COMMIT")
        return int(found)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
