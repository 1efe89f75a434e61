"""Latency per SSH round trip for the benchmarks, and the count of connections and round trips.

The kernel here has no netem (CONFIG_NET_SCH_NETEM is not set), and the machine's own interfaces
are off limits, so the delay sits in the aksnet process instead: while `SshLatency` is active,
every socket aksnet's SSHSession opens is handed to paramiko as one end of a socketpair whose
other end a relay joins to the real TCP connection. The relay forwards each chunk half a round
trip after it arrived, in each direction and in order (a netem-like pipe: delays overlap, they
do not add up per chunk). A round trip is counted each time the client sends after it has
received (the request/answer turns of the conversation), per address; connections are counted
per address when one is established (SSHSession's own count: handshake and authentication done).
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aksnet.remote.ssh import SSHSession

_CHUNK = 65536
_EOF = b""


class _Link:
    """One relayed connection: two pipes, each a reader thread and a delaying writer thread."""

    def __init__(
        self,
        client: socket.socket,
        server: socket.socket,
        one_way: float,
        on_turn: Callable[[], None],
    ) -> None:
        self.client, self.server, self.one_way = client, server, one_way
        self._on_turn = on_turn
        self._lock = threading.Lock()
        self._last_sender = "server"  # so the client's first bytes begin the first round trip
        self._open_pipes = 2

    def start(self) -> None:
        for source, target, sender in (
            (self.client, self.server, "client"),
            (self.server, self.client, "server"),
        ):
            pending: queue.Queue[tuple[float, bytes]] = queue.Queue()
            reader = threading.Thread(
                target=self._read, args=(source, pending, sender), daemon=True, name="ssh-delay"
            )
            writer = threading.Thread(
                target=self._write, args=(target, pending), daemon=True, name="ssh-delay"
            )
            reader.start()
            writer.start()

    def _read(
        self, source: socket.socket, pending: queue.Queue[tuple[float, bytes]], sender: str
    ) -> None:
        while True:
            try:
                data = source.recv(_CHUNK)
            except OSError:
                data = _EOF
            if data and sender == "client":
                with self._lock:
                    turn = self._last_sender == "server"
                    self._last_sender = "client"
                if turn:
                    self._on_turn()
            elif data:
                with self._lock:
                    self._last_sender = "server"
            pending.put((time.monotonic() + self.one_way, data))
            if not data:
                return

    def _write(self, target: socket.socket, pending: queue.Queue[tuple[float, bytes]]) -> None:
        while True:
            due, data = pending.get()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # the emulated wire: this chunk arrives one way's latency later
            if not data:
                break
            try:
                target.sendall(data)
            except OSError:
                break
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)
        with self._lock:
            self._open_pipes -= 1
            last = self._open_pipes == 0
        if last:
            self.client.close()
            self.server.close()


class SshLatency:
    """While active (a context manager), SSHSession connections go through a delaying relay."""

    def __init__(self, round_trip: float) -> None:
        if not 0 <= round_trip < 60:
            raise ValueError(f"round_trip must be from 0 to 60 seconds, got {round_trip!r}")
        self.round_trip = round_trip
        self._lock = threading.Lock()
        self.connections: Counter[str] = Counter()
        self.round_trips: Counter[str] = Counter()
        self._original: Callable[[SSHSession], socket.socket] | None = None
        self._original_connect: Callable[[SSHSession], Any] | None = None

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {"connections": dict(self.connections), "round_trips": dict(self.round_trips)}

    def __enter__(self) -> SshLatency:
        self._original = SSHSession._open_socket
        self._original_connect = SSHSession._connect_once
        relay = self

        def open_socket(session: SSHSession) -> socket.socket:
            return relay._relayed(session)

        def connect_once(session: SSHSession) -> Any:
            assert relay._original_connect is not None
            transport = relay._original_connect(session)
            with relay._lock:
                relay.connections[session.host] += 1
            return transport

        SSHSession._open_socket = open_socket  # type: ignore[method-assign, assignment]
        SSHSession._connect_once = connect_once  # type: ignore[method-assign, assignment]
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._original is not None:
            SSHSession._open_socket = self._original  # type: ignore[method-assign, assignment]
            self._original = None
        if self._original_connect is not None:
            SSHSession._connect_once = self._original_connect  # type: ignore[method-assign, assignment]
            self._original_connect = None

    def _relayed(self, session: SSHSession) -> socket.socket:
        assert self._original is not None
        server = self._original(session)  # HostUnreachable while the guest is still booting
        server.settimeout(None)
        ours, theirs = socket.socketpair()
        theirs.settimeout(None)
        ours.settimeout(session.connect_timeout)

        def turn(host: str = session.host) -> None:
            with self._lock:
                self.round_trips[host] += 1

        _Link(theirs, server, self.round_trip / 2, turn).start()
        return ours


def counts_since(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]
) -> dict[str, Any]:
    """Per-address differences of two snapshots (only addresses that changed)."""
    result: dict[str, dict[str, int]] = {}
    for kind in ("connections", "round_trips"):
        result[kind] = {
            host: count - before[kind].get(host, 0)
            for host, count in after[kind].items()
            if count != before[kind].get(host, 0)
        }
    return result
