"""The lab's WSMan server: HTTP(S) listener, authentication, fault injection, dispatch.

One ThreadingHTTPServer per listening period (set_down closes the listener so connections are
refused, set_down(False) binds the same port again). Each keep-alive connection is served by one
thread whose handler keeps the connection's NTLM state. stop() closes the listener and every open
connection, wakes long-polling Receives and joins all threads.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import ssl
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from aksnet.lab.backend import EmulatedMachine
from aksnet.lab.linux import nssocket
from aksnet.lab.wsman import auth, faults, soap, tls
from aksnet.lab.wsman import auth as auth_module  # the parameter `auth` shadows the module
from aksnet.lab.wsman.dispatch import SERVER_MAX_ENVELOPE, Answer, Dispatcher
from aksnet.lab.wsman.faults import FaultPlan
from aksnet.lab.wsman.stats import ServerStats

log = logging.getLogger(__name__)

SERVER_HEADER = "aksnet-lab-wsman"
MAX_BODY = 32 * 1024 * 1024  # refuse absurd bodies before reading them
SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: WSManServer) -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler, bind_and_activate=owner.netns is None)
        if owner.netns is not None:
            # The listener lives in the VM's namespace: made there, already listening.
            self.socket.close()
            self.socket = nssocket.listening_socket(owner.netns, *address)
            self.server_address = self.socket.getsockname()
            self.server_name, self.server_port = address[0], self.server_address[1]

    def get_request(self) -> tuple[Any, Any]:
        conn, addr = super().get_request()
        if self.owner.tls_context is not None:
            conn = self.owner.tls_context.wrap_socket(conn, server_side=True)
        with self.connections_lock:
            self.connections.add(conn)
        return conn, addr

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def drop_connections(self) -> None:
        with self.connections_lock:
            conns = list(self.connections)
        for conn in conns:
            with contextlib.suppress(OSError):  # already closed by the peer
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The status line and headers, then the body, are separate writes: with Nagle's algorithm
    # the body waited for the client's delayed ACK (about 40 ms a request). HTTP.sys sends a
    # response without that stall; so does the lab.
    disable_nagle_algorithm = True
    server_version = SERVER_HEADER
    sys_version = ""
    server: _HTTPServer

    def version_string(self) -> str:
        return SERVER_HEADER  # the lab says it is a lab

    def setup(self) -> None:
        super().setup()
        self.conn_auth = auth.ConnectionAuth()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.client_address[0], *args)

    def do_POST(self) -> None:
        try:
            self.server.owner.handle_post(self)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            self.close_connection = True  # the client went away
        except Exception:  # a server bug answers 500 instead of hanging the client
            log.debug("request failed inside the lab WSMan server", exc_info=True)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.reply(500)

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reply_401(self, offers: list[str]) -> None:
        self.send_response(401)
        for offer in offers:
            self.send_header("WWW-Authenticate", offer)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class WSManServer:
    """An emulated WinRM endpoint of one emulated machine (see the module docstring).

    By default it listens on 127.0.0.0/8. With ``netns`` (the name of an `ip netns` namespace
    of a lab VM) it listens inside that namespace on ``host``, which must then be an address of
    the lab range 198.18.0.0/15. ``tls_files`` serves a given certificate and key (a Windows
    VM's seeded WinRM certificate) instead of generating a CA and certificate in ``tls_dir``.
    """

    def __init__(
        self,
        machine: EmulatedMachine,
        users: Mapping[str, str],
        auth: str = "basic",
        tls_dir: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        netns: str | None = None,
        tls_files: tls.TlsFiles | None = None,
    ) -> None:
        _check_listen_address(host, netns)
        if not 0 <= port <= 65535:
            raise ValueError(f"port {port!r} must be 0 (ephemeral) or 1-65535")
        if tls_dir is not None and tls_files is not None:
            raise ValueError("give tls_dir (generate) or tls_files (given), not both")
        self.machine = machine
        self.host = host
        self.netns = netns
        self._requested_port = port
        self._auth = auth_module.Authenticator(users, auth)
        self.auth_mode = auth
        self.tls_files = tls.generate(Path(tls_dir), host) if tls_dir is not None else tls_files
        self.tls_context: ssl.SSLContext | None = (
            tls.server_context(self.tls_files) if self.tls_files else None
        )
        self.faults = FaultPlan(on_down=self._set_down)
        self.stats = ServerStats()
        self._stopping = threading.Event()
        self._state_lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._retired: list[_HTTPServer] = []  # listeners closed by set_down, joined at stop
        self._thread: threading.Thread | None = None
        self.port = 0
        self._dispatcher: Dispatcher | None = None

    # --- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        scheme = "https" if self.tls_context else "http"
        return f"{scheme}://{self.host}:{self.port}/wsman"

    @property
    def ca_path(self) -> Path | None:
        return self.tls_files.ca_cert if self.tls_files else None

    @property
    def banner(self) -> str:
        return (
            f"aksnet lab WSMan server for emulated machine {self.machine.name!r} at {self.url} "
            f"(auth {self.auth_mode}; a lab, not Windows)"
        )

    def start(self) -> WSManServer:
        with self._state_lock:
            if self._dispatcher is not None:
                raise RuntimeError("WSManServer.start() called twice")
            self._stopping.clear()
            self._auth.open()
            self._dispatcher = Dispatcher(
                self.machine, self.stats
            )  # ready before the first request
            self._listen(self._requested_port)
            self._dispatcher.address = self.url
        log.debug("%s started", self.banner)
        return self

    def _listen(self, port: int) -> None:
        httpd = _HTTPServer((self.host, port), self)
        self.port = httpd.server_address[1]
        thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name=f"wsman-{self.port}"
        )
        self._httpd, self._thread = httpd, thread
        thread.start()

    def _unlisten(self, *, join: bool) -> None:
        """Close the listener and its connections; join the connection threads if asked."""
        httpd, thread = self._httpd, self._thread
        self._httpd, self._thread = None, None
        if httpd is None or thread is None:
            return
        httpd.shutdown()
        thread.join()
        httpd.drop_connections()
        httpd.block_on_close = join  # a long-polling Receive may hold its thread a while
        httpd.server_close()
        if not join:
            self._retired.append(httpd)

    def _set_down(self, down: bool) -> None:
        with self._state_lock:
            if self._dispatcher is None:
                return
            if down and self._httpd is not None:
                self._unlisten(join=False)
            elif not down and self._httpd is None:
                self._listen(self.port)

    def stop(self) -> None:
        with self._state_lock:
            self._stopping.set()
            closed = self._dispatcher.close() if self._dispatcher is not None else []
            self._unlisten(join=True)
            for httpd in self._retired:
                httpd.drop_connections()
                httpd.block_on_close = True
                httpd.server_close()
            self._retired.clear()
            for shell in closed:
                shell.join()
            self._dispatcher = None
            self._auth.close()
        log.debug("WSMan server on port %d stopped", self.port)

    def __enter__(self) -> WSManServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f", netns={self.netns!r}" if self.netns else ""
        return f"WSManServer(url={self.url!r}, auth={self.auth_mode!r}{where})"

    # --- one HTTP request ------------------------------------------------------------------
    def handle_post(self, handler: _Handler) -> None:
        self.stats.count_request()
        if self.faults.down or self._stopping.is_set():
            handler.drop()
            return
        if self.faults.latency:
            self._stopping.wait(self.faults.latency)
        length = int(handler.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            handler.close_connection = True
            handler.reply(413)
            return
        raw = handler.rfile.read(length) if length else b""
        verdict = self._auth.check(handler.headers.get("Authorization"), handler.conn_auth)
        if not verdict.ok:
            handler.reply_401(
                [verdict.reply_token] if verdict.reply_token else self._auth.challenges()
            )
            return
        extra = {"WWW-Authenticate": verdict.reply_token} if verdict.reply_token else {}
        if not raw:  # an authentication round trip with an empty body (NTLM message encryption)
            handler.reply(200, b"", extra)
            return
        self._answer(handler, raw, extra)

    def _answer(self, handler: _Handler, raw: bytes, headers: dict[str, str]) -> None:
        encrypted = handler.headers.get("Content-Type", "").startswith("multipart/")
        try:
            body = auth.unwrap(raw, handler.conn_auth) if encrypted else raw
            if encrypted:
                self.stats.count_encrypted()
            req = soap.parse_request(body)
        except (auth.EncryptionError, soap.SoapError) as exc:
            log.debug("bad request: %s", exc)
            handler.close_connection = True
            handler.reply(400, b"", headers)
            return
        injected = self.faults.take(req.action)
        self.stats.count_action(req.verb)
        answer = self._injected_answer(handler, injected)
        if answer is None:
            return
        if answer.fault_code is None and answer.body == b"":
            answer = self._dispatch(req, len(body))
        status, payload = self._render(req, answer)
        if encrypted:
            payload = auth.wrap(payload, handler.conn_auth)
            headers = {**headers, "Content-Type": auth.ENCRYPTED_CONTENT_TYPE}
        else:
            headers = {**headers, "Content-Type": SOAP_CONTENT_TYPE}
        handler.reply(status, payload, headers)

    def _injected_answer(
        self, handler: _Handler, injected: faults.InjectedFault | None
    ) -> Answer | None:
        """None: the request is already answered (dropped or 401); else the fault or empty."""
        if injected is None:
            return Answer()
        log.debug("injecting fault %s", injected)
        if injected.kind == "drop":
            handler.drop()
            return None
        if injected.kind == "http401":
            handler.conn_auth.reset()
            handler.reply_401(self._auth.challenges())
            return None
        return Answer(fault_code=injected.code)

    def _dispatch(self, req: soap.Request, size: int) -> Answer:
        if size > min(req.max_envelope_size, SERVER_MAX_ENVELOPE):
            return Answer(fault_code=faults.ENVELOPE_TOO_LARGE)
        dispatcher = self._dispatcher
        if dispatcher is None:
            return Answer(fault_code=faults.SHELL_NOT_FOUND, fault_detail=req.shell_id)
        try:
            return dispatcher.answer(req)
        except ValueError as exc:
            return Answer(fault_code=faults.INVALID_REQUEST, fault_detail=str(exc))

    def _render(self, req: soap.Request, answer: Answer) -> tuple[int, bytes]:
        if answer.fault_code is None:
            return 200, answer.body
        self.stats.count_fault(answer.fault_code)
        subcode, message = faults.fault_text(answer.fault_code, answer.fault_detail)
        return 500, soap.fault_envelope(req.message_id, answer.fault_code, message, subcode)


def _check_listen_address(host: str, netns: str | None) -> None:
    """127.0.0.0/8 in the lab's own namespace; 198.18.0.0/15 inside a lab VM's namespace."""
    if netns is None:
        if not (host.startswith("127.") or host == "localhost"):
            raise ValueError(f"host {host!r} is not allowed: the lab listens on 127.0.0.0/8 only")
        return
    try:
        inside = ipaddress.IPv4Address(host) in nssocket.LAB_RANGE
    except ValueError:
        inside = False
    if not inside:
        raise ValueError(
            f"host {host!r} is not allowed in namespace {netns!r}: "
            f"only addresses of {nssocket.LAB_RANGE} (the lab range)"
        )
