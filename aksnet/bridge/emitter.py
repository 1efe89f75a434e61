"""Writing the bridge's answer: one JSON object per line, flushed, one per PowerShell message."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any


class Emitter:
    """Writes one JSON line per message and flushes, so PowerShell sees progress as it happens."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out

    def emit(self, kind: str, **fields: Any) -> None:
        line = json.dumps({"type": kind, **fields}, default=str, separators=(",", ":"))
        self._out.write(line + "\n")
        self._out.flush()

    def progress(
        self, activity: str, status: str, percent: int, *, completed: bool = False
    ) -> None:
        self.emit(
            "progress",
            activity=activity,
            status=status,
            percentComplete=percent,
            completed=completed,
        )

    def verbose(self, message: str) -> None:
        self.emit("verbose", message=message)

    def warning(self, message: str) -> None:
        self.emit("warning", message=message)

    def result(self, type_name: str, obj: Mapping[str, Any]) -> None:
        self.emit("result", typeName=type_name, object=obj)

    def error(
        self, message: str, category: str, error_id: str, target: object, *, terminating: bool
    ) -> None:
        self.emit(
            "error",
            message=message,
            category=category,
            errorId=error_id,
            targetObject=target,
            terminating=terminating,
        )
