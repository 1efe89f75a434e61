"""The EMULATED Kubernetes API server: a threaded HTTPS server with client-certificate auth.

TLS uses a server certificate signed by the cluster's CA; clients present a certificate signed
by that CA (the admin kubeconfig carries one). A request without one gets 401, except the
health checks (/healthz, /livez, /readyz) that a load balancer's checks use.
Lab only: product code never imports this module.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aksnet.lab.k8sapi.handler import ApiHandler
from aksnet.lab.k8sapi.resources import EmulatedCluster

log = logging.getLogger(__name__)
API_PORT = 6443


class _TlsServer(ThreadingHTTPServer):
    """The EMULATED API's listening socket: TLS, one thread per connection."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, handler: Any) -> None:
        self._context = context
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, peer = self.socket.accept()
        # The handshake runs in the request's thread (on first read), never in the accept loop.
        return self._context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        ), peer


class ApiServer:
    """The EMULATED API server: serves `cluster` on (address, port) until stop(); port 0
    picks a free port."""

    def __init__(
        self,
        cluster: EmulatedCluster,
        address: str,
        port: int = API_PORT,
        *,
        ca_cert: Path,
        server_cert: Path,
        server_key: Path,
    ) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(server_cert, server_key)
        context.load_verify_locations(cafile=str(ca_cert))
        context.verify_mode = ssl.CERT_OPTIONAL  # checked per request: health checks go without
        self.stopping = threading.Event()
        handler = type(
            "BoundApiHandler", (ApiHandler,), {"cluster": cluster, "stopping": self.stopping}
        )
        self._server = _TlsServer((address, port), context, handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="emulated-kube-apiserver", daemon=True
        )
        self._thread.start()
        log.debug("EMULATED kube-apiserver serving on port %d", self.port)

    def stop(self) -> None:
        """Stop accepting, end open watches and close the socket (once; later calls return)."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        if self._thread is not None:  # shutdown() waits for a serve_forever that must be running
            self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
