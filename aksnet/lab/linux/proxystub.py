"""The lab's EMULATED kube-proxy and pods on a Linux worker node: one HTTP server per NodePort.

A real worker forwards each NodePort of a NodePort or LoadBalancer Service to the Service's
pods (kube-proxy). The lab has neither pods nor kube-proxy, so the emulated `kubeadm join` of a
worker starts this process in the background inside the node (its network namespace is the
node's, so it listens on the node's address; the lab kills it with the node's other
processes when the VM stops). It follows the cluster's Services in the API server's shared
state file (aksnet.lab.k8sapi.process.state_file) and serves every TCP NodePort with a small
HTTP server that answers each GET with the node's name.

Tests stop one node's servers without stopping the node (to see HAProxy's health checks take
it out) with pause(): while the flag file exists the node serves no port, as a node whose
kube-proxy died; resume() removes the flag. Lab only: product code never imports this module.
"""

from __future__ import annotations

import argparse
import http.server
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aksnet.lab.k8sapi import process

log = logging.getLogger(__name__)

PID_FILE = Path("/var/lib/aksnet-lab/proxystub.pid")
POLL_SECONDS = 0.2  # how often the Services and the pause flag are looked at
SERVED_TYPES = ("NodePort", "LoadBalancer")


def pause_flag(lab_dir: Path | str, node: str) -> Path:
    """The file whose presence stops node's servers (tests create it from the machine)."""
    return Path(lab_dir) / "k8s" / f"proxy-{node}.paused"


def pause(lab_dir: Path | str, node: str) -> None:
    flag = pause_flag(lab_dir, node)
    flag.parent.mkdir(parents=True, exist_ok=True)
    flag.write_text("paused by a test\n")


def resume(lab_dir: Path | str, node: str) -> None:
    pause_flag(lab_dir, node).unlink(missing_ok=True)


def node_ports(state_path: Path) -> set[int]:
    """The TCP NodePorts of the cluster's NodePort and LoadBalancer Services."""
    try:
        document: dict[str, Any] = json.loads(state_path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):  # no Service yet (replaced atomically)
        return set()
    services = (document.get("objects") or {}).get("services") or {}
    ports = set()
    for service in services.values():
        spec = service.get("spec") or {}
        if spec.get("type") not in SERVED_TYPES:
            continue
        for port in spec.get("ports") or []:
            if port.get("nodePort") and port.get("protocol", "TCP") == "TCP":
                ports.add(int(port["nodePort"]))
    return ports


def _handler(node: str) -> type[http.server.BaseHTTPRequestHandler]:
    body = node.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request would fill the log under a stream of requests

    return Handler


class NodePortServers:
    """The running servers, one per port, each in its own thread."""

    def __init__(self, node: str, address: str) -> None:
        self.node, self.address = node, address
        self.servers: dict[int, http.server.ThreadingHTTPServer] = {}

    def converge(self, wanted: set[int]) -> None:
        for port in sorted(set(self.servers) - wanted):
            self._stop(port)
        for port in sorted(wanted - set(self.servers)):
            try:
                server = http.server.ThreadingHTTPServer((self.address, port), _handler(self.node))
            except OSError as error:  # taken by something else on the node: try again later
                log.warning("NodePort %d on %s: %s", port, self.address, error)
                continue
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers[port] = server

    def _stop(self, port: int) -> None:
        server = self.servers.pop(port)
        server.shutdown()
        server.server_close()


class ServicePorts:
    """node_ports of the state file, parsed again only when the file was replaced (it is
    replaced atomically: a new inode): a node polls five times a second, and a cluster's state
    file holds every object of the emulated API."""

    def __init__(self, state_path: Path) -> None:
        self.state_path = state_path
        self._seen: tuple[int, int, int] | None = None
        self._ports: set[int] = set()

    def current(self) -> set[int]:
        try:
            stat = self.state_path.stat()
        except FileNotFoundError:
            self._seen, self._ports = None, set()
            return set()
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if stamp != self._seen:  # replaced after the stat: the next poll sees another stamp
            self._seen, self._ports = stamp, node_ports(self.state_path)
        return set(self._ports)


def serve(state_path: Path, node: str, address: str, flag: Path) -> None:
    """Follow the Services until killed."""
    servers = NodePortServers(node, address)
    ports = ServicePorts(state_path)
    print("EMULATED kube-proxy ready", flush=True)
    while True:
        servers.converge(set() if flag.exists() else ports.current())
        time.sleep(POLL_SECONDS)


def start_after_join(lab_dir: Path, address: str, endpoint: str, node: str) -> None:
    """Inside a worker node after its join: the background process (one per node)."""
    if _running():
        return
    argv = [
        *(sys.executable, "-m", "aksnet.lab.linux.proxystub", "serve"),
        f"--state-file={process.state_file(lab_dir, endpoint)}",
        f"--node={node}",
        f"--address={address}",
        f"--pause-flag={pause_flag(lab_dir, node)}",
    ]
    package_root = str(Path(__file__).resolve().parents[3])
    log_path = Path(lab_dir) / "k8s" / f"proxy-{node}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as out:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env=dict(os.environ, PYTHONPATH=package_root),
            start_new_session=True,  # outlives the SSH session of the join, as kube-proxy does
        )
    PID_FILE.parent.mkdir(parents=True, exist_ok=True)
    PID_FILE.write_text(f"{child.pid}\n")


def _running() -> bool:
    try:
        os.kill(int(PID_FILE.read_text()), 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    return True


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m aksnet.lab.linux.proxystub")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--state-file", required=True, type=Path)
    parser.add_argument("--node", required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--pause-flag", required=True, type=Path)
    args = parser.parse_args(argv)
    serve(args.state_file, args.node, args.address, args.pause_flag)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
