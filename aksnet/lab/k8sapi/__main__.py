"""`python -m aksnet.lab.k8sapi serve ...`: run the EMULATED API server until SIGTERM.

Prints READY_LINE on stdout once it listens (start_background waits for it), then detaches
stdout. Lab only: product code never imports this module.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from aksnet.lab.k8sapi.objects import ObjectStore
from aksnet.lab.k8sapi.process import READY_LINE
from aksnet.lab.k8sapi.resources import EmulatedCluster
from aksnet.lab.k8sapi.server import API_PORT, ApiServer


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m aksnet.lab.k8sapi")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the EMULATED API until SIGTERM")
    serve.add_argument("--address", required=True)
    serve.add_argument("--port", type=int, default=API_PORT)
    serve.add_argument("--lab-dir", type=Path, required=True)
    serve.add_argument("--endpoint", required=True, help="controlPlaneEndpoint host:port")
    serve.add_argument("--service-subnet", required=True)
    serve.add_argument("--pki-dir", type=Path, required=True)
    serve.add_argument("--state-file", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    cluster = EmulatedCluster(
        ObjectStore(args.state_file),
        service_subnet=args.service_subnet,
        lab_dir=args.lab_dir,
        endpoint=args.endpoint,
    )
    server = ApiServer(
        cluster,
        args.address,
        args.port,
        ca_cert=args.pki_dir / "ca.crt",
        server_cert=args.pki_dir / "apiserver.crt",
        server_key=args.pki_dir / "apiserver.key",
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    sys.stdout.buffer.write(READY_LINE)
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
