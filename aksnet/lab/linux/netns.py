"""Network namespaces, veth pairs, bridges and addresses, through the `ip` command of iproute2.

Every call is an argv list (no shell). Only links and namespaces that the lab names are touched.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence

from aksnet.errors import AksNetError

log = logging.getLogger(__name__)

IP = "ip"


class IpCommandFailed(AksNetError):
    """An `ip` (or other local lab) command exited non-zero."""

    error_id = "LabCommandFailed"

    def __init__(self, argv: Sequence[str], status: int, stderr: str) -> None:
        self.argv = tuple(argv)
        self.status = status
        self.stderr = stderr
        super().__init__(f"{' '.join(argv)} failed with exit status {status}: {stderr.strip()}")


def run(argv: Sequence[str]) -> str:
    """Run a local command; return its stdout; raise IpCommandFailed on a non-zero status."""
    log.debug("lab: running %s", argv)
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise IpCommandFailed(argv, done.returncode, done.stderr)
    return done.stdout


def try_add_bridge(name: str) -> bool:
    """Create a bridge; False when a link of that name exists already (someone else owns it)."""
    argv = [IP, "link", "add", "name", name, "type", "bridge"]
    log.debug("lab: running %s", argv)
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return True
    if "exists" in done.stderr:
        return False
    raise IpCommandFailed(argv, done.returncode, done.stderr)


def link_exists(name: str, netns: str | None = None) -> bool:
    where = ["-n", netns] if netns else []
    done = subprocess.run(
        [IP, *where, "link", "show", "dev", name], capture_output=True, check=False
    )
    return done.returncode == 0


def delete_link(name: str) -> None:
    """Delete a link in the root namespace; nothing happens when it does not exist."""
    if link_exists(name):
        run([IP, "link", "delete", "dev", name])


def quiet_ipv6(name: str, netns: str | None = None) -> None:
    """No IPv6 link-local address: the lab link then sends no router solicitations."""
    where = ["-n", netns] if netns else []
    run([IP, *where, "link", "set", "dev", name, "addrgenmode", "none"])


def set_up(name: str, netns: str | None = None) -> None:
    where = ["-n", netns] if netns else []
    run([IP, *where, "link", "set", "dev", name, "up"])


def add_address(name: str, cidr: str, netns: str | None = None) -> None:
    where = ["-n", netns] if netns else []
    run([IP, *where, "address", "add", cidr, "dev", name])


def addresses_in_root() -> list[tuple[str, str]]:
    """(link, address/prefix) of every IPv4 address in the root namespace."""
    found: list[tuple[str, str]] = []
    for line in run([IP, "-4", "-o", "address", "show"]).splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] == "inet":
            found.append((parts[1], parts[3]))
    return found


def netns_exists(name: str) -> bool:
    return name in list_netns()


def list_netns() -> list[str]:
    return [line.split()[0] for line in run([IP, "netns", "list"]).splitlines() if line.strip()]


def add_netns(name: str) -> None:
    run([IP, "netns", "add", name])


def delete_netns(name: str) -> None:
    if netns_exists(name):
        run([IP, "netns", "delete", name])


def netns_pids(name: str) -> list[int]:
    """Process ids of every process in the namespace (empty when it does not exist)."""
    if not netns_exists(name):
        return []
    return [int(p) for p in run([IP, "netns", "pids", name]).split()]


def add_veth_into(host_end: str, netns: str, node_end: str, mac: str) -> None:
    """A veth pair: host_end stays in the root namespace, node_end goes into netns with mac."""
    run(
        [
            IP,
            "link",
            "add",
            "name",
            host_end,
            "type",
            "veth",
            "peer",
            "name",
            node_end,
            "address",
            mac,
            "netns",
            netns,
        ]
    )


def attach_to_bridge(name: str, bridge: str) -> None:
    run([IP, "link", "set", "dev", name, "master", bridge])


def add_default_route(netns: str, via: str) -> None:
    run([IP, "-n", netns, "route", "add", "default", "via", via])
