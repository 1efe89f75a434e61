"""HTTP routing of the EMULATED Kubernetes API: discovery, core/v1 reads, writes and watches.

Paths follow kube-apiserver's: /version, /api, /apis, /api/v1 (discovery), /api/v1/<resource>
[/<name>[/status]] and /api/v1/namespaces/<ns>/<resource>[/<name>[/status]]. Lists honour
labelSelector and fieldSelector (equality), answer as a meta.k8s.io Table when the client asks
for one (kubectl does), and stream newline-delimited watch events with chunked encoding when
watch=true. Every response carries X-Aksnet-Lab: EMULATED kube-apiserver.
Lab only: product code never imports this module.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aksnet.lab.k8sapi import discovery, patching
from aksnet.lab.k8sapi.objects import changes_since
from aksnet.lab.k8sapi.resources import ApiError, EmulatedCluster, Obj, not_found
from aksnet.lab.k8sapi.tables import as_table

log = logging.getLogger(__name__)
DEFAULT_WATCH_SECONDS = 1800
LAB_HEADER = ("X-Aksnet-Lab", "EMULATED kube-apiserver")
UNAUTHENTICATED_PATHS = frozenset({"/healthz", "/livez", "/readyz"})


class ApiHandler(BaseHTTPRequestHandler):
    """One connection's requests to the EMULATED API; the server provides `cluster` and
    `stopping`."""

    protocol_version = "HTTP/1.1"
    timeout = 120  # seconds a connection may sit idle (or stall its TLS handshake)
    server_version = "aksnet-lab-EMULATED-kube-apiserver"
    cluster: EmulatedCluster
    stopping: threading.Event

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"  # the client asks for /version/
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            body = self._read_body()
            if path not in UNAUTHENTICATED_PATHS and not self._authenticated():
                raise ApiError(401, "Unauthorized", "Unauthorized: no client certificate")
            if body and "protobuf" in self.headers.get("Content-Type", ""):
                # What a real API server answers for a media type it does not decode.
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    "the lab's EMULATED API server decodes JSON request bodies only, not protobuf "
                    "(use a manifest: kubectl create -f)",
                )
            if method == "GET" and path in discovery.DOCUMENTS:
                self._send(200, discovery.document(path, self.cluster.version))
            elif path.startswith("/api/v1/"):
                self._resource(method, path[len("/api/v1/") :], query, body)
            elif path in UNAUTHENTICATED_PATHS:
                self._send_text(200, "ok")
            else:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
        except ApiError as error:
            self._send(error.code, error.status())
        except (ValueError, KeyError, TypeError) as error:
            self._send(400, ApiError(400, "BadRequest", f"bad request: {error}").status())

    def _resource(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        namespace, resource, name, subresource = _parse_path(path)
        if resource not in discovery.RESOURCES:
            raise ApiError(404, "NotFound", f"the server could not find the resource {resource}")
        cluster = self.cluster
        if name is None and method == "GET":
            if query.get("watch") in ("true", "1", "True"):
                try:
                    self._watch(resource, namespace, query)
                except OSError as error:  # the watcher hung up (ssl.SSLError is an OSError)
                    log.debug("watch of %s ended by the client: %s", resource, error)
                    self.close_connection = True
            else:
                self._list(resource, namespace, query)
        elif name is None and method == "POST":
            self._send(201, cluster.create(resource, namespace, _json(body)))
        elif name is None:
            raise ApiError(405, "MethodNotAllowed", f"{method} on a collection")
        elif method == "GET":
            obj = cluster.get(resource, namespace, name)  # .../status too: the whole object
            if "as=Table" in self.headers.get("Accept", ""):
                obj = as_table(resource, [obj], int(obj["metadata"].get("resourceVersion", 0)))
            self._send(200, obj)
        elif method == "DELETE":
            # The deleted object, as kube-apiserver answers for resources without finalizers.
            self._send(200, cluster.delete(resource, namespace, name))
        elif method in ("PATCH", "PUT"):
            change = patching.change_for(method, self.headers.get("Content-Type", ""), body)
            self._send(200, cluster.update(resource, namespace, name, change, subresource))
        else:
            raise ApiError(405, "MethodNotAllowed", f"{method} on {resource}")

    def _list(self, resource: str, namespace: str | None, query: dict[str, str]) -> None:
        items, version = self.cluster.list_objects(resource, namespace)
        items = [i for i in items if _selected(i, query)]
        if "as=Table" in self.headers.get("Accept", ""):
            self._send(200, as_table(resource, items, version))
            return
        kind = discovery.RESOURCES[resource][0]
        self._send(
            200,
            {
                "kind": f"{kind}List",
                "apiVersion": "v1",
                "metadata": {"resourceVersion": str(version)},
                "items": items,
            },
        )

    def _watch(self, resource: str, namespace: str | None, query: dict[str, str]) -> None:
        if resource == "nodes":
            raise ApiError(405, "MethodNotAllowed", "the EMULATED API does not watch nodes")
        deadline = time.monotonic() + int(query.get("timeoutSeconds") or DEFAULT_WATCH_SECONDS)
        self._start_stream()
        since = int(query.get("resourceVersion") or 0)
        if since == 0:  # no version: the current objects first, as ADDED events
            items, since = self.cluster.list_objects(resource, namespace)
            for item in items:
                if _selected(item, query):
                    self._send_chunk({"type": "ADDED", "object": item})
        while not self.stopping.is_set() and time.monotonic() < deadline:
            document = self.cluster.store.snapshot()
            changes = changes_since(document, resource, since, namespace)
            if changes is None:
                gone = ApiError(410, "Expired", f"too old resource version: {since}")
                self._send_chunk({"type": "ERROR", "object": gone.status()})
                break
            for change in changes:
                if _selected(change["object"], query):
                    self._send_chunk({"type": change["type"], "object": change["object"]})
            since = int(document["resourceVersion"])
            self.cluster.store.wait_for_change(since, min(1.0, deadline - time.monotonic()))
        self._send_raw(b"0\r\n\r\n")

    # I/O

    def _authenticated(self) -> bool:
        getpeercert = getattr(self.connection, "getpeercert", None)
        return bool(getpeercert and getpeercert())

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, code: int, obj: Obj) -> None:
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header(*LAB_HEADER)
        self.end_headers()
        self.wfile.write(data)

    def _send_text(self, code: int, text: str) -> None:
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header(*LAB_HEADER)
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header(*LAB_HEADER)
        self.end_headers()
        self.wfile.flush()

    def _send_chunk(self, event: Obj) -> None:
        data = json.dumps(event).encode() + b"\n"
        self._send_raw(b"%x\r\n%s\r\n" % (len(data), data))

    def _send_raw(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()


def _parse_path(path: str) -> tuple[str | None, str, str | None, str | None]:
    """(namespace, resource, name, subresource) of a path below /api/v1/."""
    parts = path.split("/")
    if parts[0] == "namespaces" and len(parts) >= 3:
        namespace, rest = parts[1], parts[2:]
    else:
        namespace, rest = None, parts
    if len(rest) > 3 or not rest[0]:
        raise ApiError(404, "NotFound", f"the server could not find /api/v1/{path}")
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if subresource not in (None, "status"):
        raise not_found(f"{rest[0]}/{subresource}", name or "")
    return namespace, rest[0], name, subresource


def _json(body: bytes) -> Obj:
    value = json.loads(body or b"{}")
    if not isinstance(value, dict):
        raise ApiError(400, "BadRequest", "the request body must be a JSON object")
    return value


def _selected(obj: Obj, query: dict[str, str]) -> bool:
    """Equality-based labelSelector (k=v, k!=v, k) and fieldSelector (path=v, path!=v)."""
    labels = obj.get("metadata", {}).get("labels") or {}
    for term in filter(None, query.get("labelSelector", "").split(",")):
        if not _matches(term, lambda k: labels.get(k), present=lambda k: k in labels):
            return False
    for term in filter(None, query.get("fieldSelector", "").split(",")):
        if not _matches(term, lambda k: _field(obj, k), present=lambda k: True):
            return False
    return True


def _matches(term: str, value: Any, present: Any) -> bool:
    if "!=" in term:
        k, v = term.split("!=", 1)
        return bool(value(k.strip()) != v.strip())
    if "=" in term:
        k, v = term.replace("==", "=").split("=", 1)
        return bool(value(k.strip()) == v.strip())
    return bool(present(term.strip()))


def _field(obj: Obj, path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)
