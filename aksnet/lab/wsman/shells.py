"""Per-shell state shared by the PSRP and WinRS shells: output queues and Receive long-polls."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class ReceiveResult:
    """What one Receive answers: stream chunks, and for a command whether it is done."""

    chunks: list[tuple[str, bytes]] = field(default_factory=list)
    done: bool = False
    exit_code: int | None = None


class ShellBase:
    """One WinRS shell (a PSRP runspace pool or a cmd shell) and its output queues.

    Output is queued per command id (None: the shell itself, e.g. runspace pool messages).
    All state changes happen under ``cond``, which also wakes long-polling Receives.
    """

    kind = "shell"

    def __init__(self, shell_id: str, resource_uri: str, chunk_budget: int) -> None:
        self.id = shell_id
        self.resource_uri = resource_uri
        self.chunk_budget = chunk_budget  # raw bytes per Receive that fit the client's envelope
        self.cond = threading.Condition()
        self.closed = False
        self._out: dict[str | None, list[tuple[str, bytes]]] = {}
        self._done: dict[str, int | None] = {}

    # queue side (callers hold cond)
    def queue(self, command_id: str | None, chunks: Iterable[tuple[str, bytes]]) -> None:
        self._out.setdefault(command_id, []).extend(chunks)
        self.cond.notify_all()

    def finish(self, command_id: str, exit_code: int | None = None) -> None:
        self._done.setdefault(command_id, exit_code)
        self.cond.notify_all()

    def has_command(self, command_id: str) -> bool:
        return command_id in self._done or command_id in self._out

    # receive side
    def receive(self, command_id: str | None, timeout: float) -> ReceiveResult | None:
        """Wait up to timeout for output; None when nothing came (the OperationTimeout fault)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self._out.get(command_id) and not self._is_done(command_id):
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self.cond.wait(left)
            chunks = self._take(command_id)
            done = self._is_done(command_id) and not self._out.get(command_id)
            exit_code = self._done.get(command_id) if command_id is not None else None
            return ReceiveResult(chunks, done, exit_code)

    def _is_done(self, command_id: str | None) -> bool:
        return command_id is not None and command_id in self._done

    def _take(self, command_id: str | None) -> list[tuple[str, bytes]]:
        """Take queued chunks up to the budget (always at least one)."""
        queue = self._out.get(command_id, [])
        taken: list[tuple[str, bytes]] = []
        used = 0
        while queue and (not taken or used + len(queue[0][1]) <= self.chunk_budget):
            stream, data = queue.pop(0)
            taken.append((stream, data))
            used += len(data)
        return taken

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def join(self) -> None:
        """Wait for work the shell started on other threads (nothing by default)."""


class ShellRegistry:
    """The open shells of one server, by upper-case shell id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shells: dict[str, ShellBase] = {}

    def add(self, shell: ShellBase) -> None:
        with self._lock:
            self._shells[shell.id] = shell

    def get(self, shell_id: str) -> ShellBase | None:
        with self._lock:
            return self._shells.get(shell_id.upper())

    def remove(self, shell_id: str) -> ShellBase | None:
        with self._lock:
            return self._shells.pop(shell_id.upper(), None)

    def close_all(self) -> list[ShellBase]:
        with self._lock:
            shells, self._shells = list(self._shells.values()), {}
        for shell in shells:
            shell.close()
        return shells

    def __len__(self) -> int:
        with self._lock:
            return len(self._shells)
