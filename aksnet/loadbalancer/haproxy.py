"""haproxy.cfg of a load-balancer VM, rendered from templates/haproxy.cfg.j2, and checked with the
real `haproxy -c`.

One `frontend` and one `backend` per Frontend (same name: HAProxy keeps frontends and backends
apart), layer 4 (`mode tcp`), `balance roundrobin`, a health check on every server. HAProxy runs
master-worker, and its stats socket passes the listening sockets on (`expose-fd listeners`), so a
reload (SIGUSR2 to the master, `systemctl reload haproxy`) drops no connection. Frontends bind
`transparent`, so HAProxy starts and reloads whether or not keepalived holds the VIPs on this VM
yet (the alternative, the ip_nonlocal_bind sysctl, would be one more thing to set on the VM).

Every name and address is validated before rendering (names from a strict character set,
addresses parsed as IPv4), so no value can change the file's structure; frontends and servers
are sorted, so the same input always renders byte-identical output.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import subprocess
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aksnet.errors import AksNetError, InvalidInput
from aksnet.infra.templates import render
from aksnet.loadbalancer.frontends import Backend, Frontend

log = logging.getLogger(__name__)

TEMPLATE = "haproxy.cfg.j2"
CONFIG_PATH = "/etc/haproxy/haproxy.cfg"
STATS_SOCKET = "/run/haproxy/admin.sock"
HAPROXY = "haproxy"
CHECK_TIMEOUT = 60.0

# HAProxy's proxy and server names: letters, digits, '-', '_', '.', ':' (configuration.txt
# §4); aksnet leaves ':' out and wants a letter or digit first. 253: a Kubernetes node name
# (a DNS subdomain) names a server.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$")


@dataclass(frozen=True)
class HealthCheck:
    """How servers are checked; the defaults take a dead server out within about 3 s."""

    inter: str = "2s"
    fastinter: str = "500ms"
    fall: int = 2
    rise: int = 2


@dataclass(frozen=True)
class Timeouts:
    connect: str = "3s"
    client: str = "1h"  # long-lived connections (kubectl watch, logs -f) through the API VIP
    server: str = "1h"
    check: str = "2s"


class HAProxyConfigRejected(AksNetError):
    """`haproxy -c` refused a configuration; the message carries haproxy's own words."""

    category = "InvalidData"
    error_id = "HAProxyConfigRejected"

    def __init__(self, message: str) -> None:
        self.haproxy_message = message
        super().__init__(f"haproxy -c refused the configuration: {message}")


def render_haproxy_config(
    frontends: Sequence[Frontend],
    *,
    check: HealthCheck = HealthCheck(),
    timeouts: Timeouts = Timeouts(),
    stats_socket: str = STATS_SOCKET,
) -> str:
    """haproxy.cfg for these frontends (validated; sorted by name, servers by name)."""
    ordered = validate_frontends(frontends)
    if not stats_socket.startswith("/") or not re.fullmatch(r"[A-Za-z0-9_./-]+", stats_socket):
        raise InvalidInput("stats_socket", stats_socket, "an absolute path of [A-Za-z0-9_./-].")
    log.debug("rendering haproxy.cfg with %d frontend(s)", len(ordered))
    return render(
        TEMPLATE,
        frontends=ordered,
        check=check,
        timeouts=timeouts,
        stats_socket=stats_socket,
    )


def validate_frontends(frontends: Sequence[Frontend]) -> list[Frontend]:
    """The frontends sorted (servers too), or InvalidInput naming the first bad value."""
    for frontend in frontends:
        if not isinstance(frontend, Frontend):
            raise InvalidInput("frontends", frontend, "each item must be a Frontend.")
        _check_name("frontend.name", frontend.name)
        _check_address("frontend.vip", frontend.vip)
        _check_port("frontend.port", frontend.port)
    _check_backends([b for f in frontends for b in f.backends])
    ordered = [_sorted_servers(f) for f in sorted(frontends, key=lambda f: f.name)]
    _refuse_duplicates("frontends", [f.name for f in ordered], "frontend names")
    _refuse_duplicates("frontends", [f"{f.vip}:{f.port}" for f in ordered], "VIP:port pairs")
    return ordered


def _check_backends(backends: Sequence[Backend]) -> None:
    # Names and addresses repeat over frontends (the same nodes): each distinct one is checked
    # once, which keeps 1,000 frontends over 100 nodes fast.
    for backend in backends:
        if not isinstance(backend, Backend):
            raise InvalidInput("frontend.backends", backend, "each item must be a Backend.")
    for name in sorted({b.name for b in backends}, key=str):
        _check_name("backend.name", name)
    for address in sorted({b.address for b in backends}, key=str):
        _check_address("backend.address", address)
    for port in {b.port for b in backends}:
        _check_port("backend.port", port)


def _sorted_servers(frontend: Frontend) -> Frontend:
    servers = sorted(frontend.backends, key=lambda b: (b.name, b.address, b.port))
    _refuse_duplicates(f"{frontend.name}.backends", [b.name for b in servers], "server names")
    return Frontend(frontend.name, frontend.vip, frontend.port, tuple(servers))


def _check_name(parameter: str, value: object) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidInput(
            parameter,
            value,
            "a name of letters, digits, '-', '_' and '.', starting with a letter or digit, "
            "at most 253 characters.",
        )


def _check_address(parameter: str, value: object) -> None:
    try:
        if isinstance(value, str) and str(ipaddress.IPv4Address(value)) == value:
            return
    except ValueError:
        pass
    raise InvalidInput(parameter, value, "an IPv4 address in dotted form, such as 198.18.0.10.")


def _check_port(parameter: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise InvalidInput(parameter, value, "a whole number from 1 to 65535.")


def _refuse_duplicates(parameter: str, values: Sequence[str], what: str) -> None:
    counts = Counter(values)
    duplicates = sorted(v for v, n in counts.items() if n > 1)
    if duplicates:
        raise InvalidInput(parameter, duplicates, f"{what} must be unique.")


def check_config(text: str, *, haproxy: str = HAPROXY) -> None:
    """Run the real `haproxy -c` on text (in a private temporary file); raise
    HAProxyConfigRejected with haproxy's message when it refuses it."""
    with tempfile.TemporaryDirectory(prefix="aksnet-haproxy-") as directory:
        path = Path(directory) / "haproxy.cfg"
        path.write_text(text)
        try:
            done = subprocess.run(
                [haproxy, "-c", "-f", str(path)],
                capture_output=True,
                text=True,
                timeout=CHECK_TIMEOUT,
            )
        except FileNotFoundError:
            raise InvalidInput(
                "haproxy", haproxy, "the path or name of the haproxy program."
            ) from None
    if done.returncode != 0:
        output = (done.stderr + done.stdout).replace(str(path), "haproxy.cfg").splitlines()
        # haproxy's [NOTICE] lines (version, path) say nothing about the configuration.
        lines = [line for line in output if "[NOTICE]" not in line]
        raise HAProxyConfigRejected("\n".join(lines).strip() or f"exit {done.returncode}")
