"""The EMULATED API server's object store: objects, one resourceVersion counter, a watch log.

Like etcd behind a real API server, every change bumps one cluster-wide resourceVersion and is
appended to a bounded log that watches read from; a watch from a version older than the log's
start gets 410 Gone, as after compaction. The document lives in memory, or in a JSON file
under an exclusive flock when several API server processes (one per control-plane node) serve
one cluster, so they all see the same objects.
Lab only: product code never imports this module.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOG_LIMIT = 2000  # watch events kept; older resourceVersions get 410 Gone
POLL_SECONDS = 0.2  # how often a watch looks for changes made by another process

Document = dict[str, Any]


def _empty() -> Document:
    return {"resourceVersion": 1, "objects": {}, "log": []}


class ObjectStore:
    """All objects of one EMULATED cluster, keyed by kind and "namespace/name"."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._memory = _empty()
        self._lock = threading.Lock()
        self._changed = threading.Condition()

    @contextmanager
    def transaction(self) -> Iterator[Document]:
        """The document, exclusively; written back (and watchers woken) when the block succeeds."""
        with self._lock, self._file_lock():
            document = self._load()
            before = document["resourceVersion"]
            yield document
            if document["resourceVersion"] != before:
                del document["log"][:-LOG_LIMIT]
                self._save(document)
        if document["resourceVersion"] != before:
            with self._changed:
                self._changed.notify_all()

    def snapshot(self) -> Document:
        with self.transaction() as document:
            return copy.deepcopy(document)

    def current_version(self) -> int:
        with self.transaction() as document:
            return int(document["resourceVersion"])

    def wait_for_change(self, after: int, timeout: float) -> int:
        """Wait until the resourceVersion is past `after` or timeout passes; the current one."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.current_version()
            remaining = deadline - time.monotonic()
            if current > after or remaining <= 0:
                return current
            with self._changed:
                self._changed.wait(min(POLL_SECONDS, remaining))

    def _load(self) -> Document:
        if self._path is None:
            return self._memory
        try:
            document: Document = json.loads(self._path.read_text())
        except FileNotFoundError:
            document = _empty()
        return document

    def _save(self, document: Document) -> None:
        if self._path is None:
            return
        tmp = self._path.with_name(f".{self._path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(document))
        os.replace(tmp, self._path)

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        if self._path is None:
            yield
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield


def key(namespace: str | None, name: str) -> str:
    return f"{namespace or ''}/{name}"


def objects_of(document: Document, kind: str) -> dict[str, dict[str, Any]]:
    kinds: dict[str, dict[str, dict[str, Any]]] = document["objects"]
    return kinds.setdefault(kind, {})


def record_change(document: Document, kind: str, change: str, obj: dict[str, Any]) -> int:
    """Bump the resourceVersion, stamp it on obj and log the change for watchers."""
    document["resourceVersion"] += 1
    version = int(document["resourceVersion"])
    obj["metadata"]["resourceVersion"] = str(version)
    document["log"].append(
        {"rv": version, "kind": kind, "type": change, "object": copy.deepcopy(obj)}
    )
    return version


def changes_since(
    document: Document, kind: str, since: int, namespace: str | None = None
) -> list[dict[str, Any]] | None:
    """The logged changes of `kind` after version `since`; None when the log no longer holds
    them all (the watcher must list again: 410 Gone)."""
    log: list[dict[str, Any]] = document["log"]
    if log and since < log[0]["rv"] - 1:
        return None
    return [
        entry
        for entry in log
        if entry["rv"] > since
        and entry["kind"] == kind
        and (namespace is None or entry["object"]["metadata"].get("namespace") == namespace)
    ]
