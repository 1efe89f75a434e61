"""The Services' frontends of a cluster's last load-balancer sync, kept for cluster create.

Create renders the load balancer's configuration too (the API server's frontend, after every
control-plane change or repair), and it does not read the cluster's Services: the API may not
answer yet, and create must not depend on it. Without the Services' frontends it would drop
every Service's VIP from HAProxy until the next sync. So each applied sync saves the Services'
frontends here, and create serves them beside the API frontend, keeping those whose VIP the
store still holds. Their backends are as the last sync saw the nodes; the next sync (or a
running watch) refreshes them, and HAProxy's health checks skip a node that has gone.

The file lives in the cluster's own folder beside the store (aksnet.cluster.keys), written
atomically; it holds addresses and ports, no secret.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Sequence
from pathlib import Path

from aksnet.loadbalancer.frontends import Backend, Frontend
from aksnet.loadbalancer.services import OWNER_KIND
from aksnet.model.cluster import ClusterSpec
from aksnet.state.store import Store

FILE_NAME = "service-frontends.json"


def save_service_frontends(folder: Path, frontends: Sequence[Frontend], api_frontend: str) -> None:
    """Keep every frontend but the API server's (create renders that one itself)."""
    kept = [f for f in frontends if f.name != api_frontend]
    document = [
        {
            "name": f.name,
            "vip": f.vip,
            "port": f.port,
            "backends": [[b.name, b.address, b.port] for b in f.backends],
        }
        for f in sorted(kept)
    ]
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = folder / f".{FILE_NAME}.tmp"
    tmp.write_text(json.dumps(document, indent=2))
    os.replace(tmp, folder / FILE_NAME)


def load_service_frontends(folder: Path, held_vips: Collection[str]) -> list[Frontend]:
    """The saved Services' frontends whose VIP is in held_vips; none when nothing was saved."""
    try:
        document = json.loads((folder / FILE_NAME).read_text())
    except FileNotFoundError:
        return []
    return [
        Frontend(
            str(item["name"]),
            str(item["vip"]),
            int(item["port"]),
            tuple(Backend(str(n), str(a), int(p)) for n, a, p in item["backends"]),
        )
        for item in document
        if str(item["vip"]) in held_vips
    ]


def held_service_vips(store: Store, spec: ClusterSpec) -> set[str]:
    """The VIPs the store holds for the cluster's Services."""
    held = store.allocations(spec.vnet, cluster=spec.name)
    return {str(a.address) for a in held if a.owner_kind == OWNER_KIND}
