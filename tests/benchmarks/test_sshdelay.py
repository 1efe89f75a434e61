"""The SSH latency relay: bytes pass in order both ways, round trips are counted as the
conversation turns, and SSHSession is restored when the relay is left."""

from __future__ import annotations

import socket

import pytest

from aksnet.remote.ssh import SSHSession
from benchmarks.sshdelay import SshLatency, _Link


def read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def test_the_link_relays_both_ways_in_order_and_counts_turns() -> None:
    client, client_end = socket.socketpair()
    server_end, server = socket.socketpair()
    turns: list[int] = []
    for sock in (client, server):
        sock.settimeout(10)
    _Link(client_end, server_end, 0.0, lambda: turns.append(1)).start()
    try:
        for i in range(3):  # three request/answer exchanges
            client.sendall(b"ask%d" % i)
            assert read_exactly(server, 4) == b"ask%d" % i
            server.sendall(b"answer%d" % i)
            assert read_exactly(client, 7) == b"answer%d" % i
        client.shutdown(socket.SHUT_WR)
        assert server.recv(10) == b""  # the end of the stream is relayed too
    finally:
        client.close()
        server.close()
    assert len(turns) == 3


def test_the_relay_replaces_and_restores_the_session_socket() -> None:
    original = SSHSession._open_socket, SSHSession._connect_once
    with SshLatency(0.01) as relay:
        assert SSHSession._open_socket is not original[0]
        assert relay.snapshot() == {"connections": {}, "round_trips": {}}
    assert (SSHSession._open_socket, SSHSession._connect_once) == original


def test_the_round_trip_is_checked() -> None:
    with pytest.raises(ValueError, match="round_trip"):
        SshLatency(-0.1)
