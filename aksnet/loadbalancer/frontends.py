"""What the load balancer serves: frontends (a VIP and a port) and the backends behind them.

The one data shape shared by the code that decides frontends (the API server's, and one per
LoadBalancer Service port from the cluster's Services) and the code that renders and applies the
HAProxy configuration. TCP only: AksHci's HAProxy balances at layer 4.
"""

from __future__ import annotations

from dataclasses import dataclass

API_SERVER_PORT = 6443
API_FRONTEND = "api-server"  # the API server's frontend, rendered by create and by the sync


@dataclass(frozen=True, order=True)
class Backend:
    """One server behind a frontend: a node's name, its address and the port it listens on."""

    name: str
    address: str
    port: int


@dataclass(frozen=True, order=True)
class Frontend:
    """One VIP:port the load balancer listens on, and where it sends the connections.

    name is unique per configuration and safe as an HAProxy section name, for example
    "api-server" or "svc-default-web-80".
    """

    name: str
    vip: str
    port: int
    backends: tuple[Backend, ...]
