"""A listening TCP socket created inside a named network namespace, for a server in this process.

A socket belongs to the network namespace of the thread that created it, and keeps it for its
life. Python 3.11 has no os.setns, so a short-lived thread enters the namespace with libc's
setns(2) (the network namespace is per thread), creates, binds and listens, and exits; the lab's
own threads never leave the root namespace. The socket then accepts connections that reach the
namespace's address, served by any thread of the process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import ipaddress
import os
import socket
import threading
from pathlib import Path

from aksnet.errors import AksNetError, InvalidInput

CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/run/netns")  # where `ip netns add` mounts named namespaces
LAB_RANGE = ipaddress.IPv4Network("198.18.0.0/15")
BACKLOG = 64


class NamespaceSocketFailed(AksNetError):
    """The socket could not be made inside the namespace (setns, bind or listen failed)."""

    error_id = "LabNamespaceSocketFailed"


def listening_socket(netns_name: str, address: str, port: int) -> socket.socket:
    """A TCP socket listening on address:port inside the named namespace (an address of
    198.18.0.0/15, the lab range; port 0 picks a free one)."""
    if "/" in netns_name or not netns_name or netns_name.startswith("."):
        raise InvalidInput("netns_name", netns_name, "must be the name of an `ip netns` namespace")
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        raise InvalidInput("address", address, "must be an IPv4 address") from None
    if ip not in LAB_RANGE:
        raise InvalidInput("address", address, f"must be inside the lab range {LAB_RANGE}")
    if not 0 <= port <= 65535:
        raise InvalidInput("port", port, "must be 0 (ephemeral) or 1-65535")
    made: list[socket.socket] = []
    failed: list[BaseException] = []

    def in_namespace() -> None:
        try:
            _enter(NETNS_DIR / netns_name)
            made.append(_listen(address, port))
        except BaseException as error:  # reported to the caller below
            failed.append(error)

    thread = threading.Thread(target=in_namespace, name=f"netns-{netns_name}")
    thread.start()
    thread.join()
    if failed:
        raise NamespaceSocketFailed(
            f"cannot listen on {address}:{port} in namespace {netns_name!r}: {failed[0]}"
        ) from failed[0]
    return made[0]


def _enter(path: Path) -> None:
    """Move the calling thread into the network namespace mounted at path."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns({path}): {os.strerror(errno)}")
    finally:
        os.close(fd)


def _listen(address: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock
