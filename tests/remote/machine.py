"""A small emulated Windows machine for the transport tests: the cmdlets these tests need.

Files live in an in-memory dict. Every statement list the machine receives is recorded, so a
test can assert what arrived (literally) and how many round trips it took.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import Any

from aksnet.lab.backend import CommandCall, PSError


class FakeMachine:
    """Answers Write-Output, Get-Item, the file cmdlets of psfiles and Get-Input."""

    def __init__(self, name: str = "lab-host") -> None:
        self.name = name
        self.files: dict[str, bytes] = {}
        self.received: list[list[list[CommandCall]]] = []  # one entry per invoke (round trip)
        self.tamper_hash = False
        self._lock = threading.Lock()

    def invoke(
        self, pipelines: Sequence[Sequence[CommandCall]], input: Sequence[Any] = ()
    ) -> list[Any]:
        with self._lock:
            self.received.append([list(p) for p in pipelines])
            output: list[Any] = []
            for pipeline in pipelines:
                piped: list[Any] = list(input)
                for call in pipeline:
                    piped = self._call(call, piped)
                output += piped
            return output

    def values(self, parameter: str) -> list[Any]:
        """Every value of a named parameter received so far, in order."""
        return [
            value
            for step in self.received
            for pipeline in step
            for call in pipeline
            for name, value in call.parameters
            if name == parameter
        ]

    def _call(self, call: CommandCall, piped: list[Any]) -> list[Any]:
        params = {name: value for name, value in call.parameters if name is not None}
        handler = getattr(self, "_" + call.name.replace("-", "_").lower(), None)
        if handler is None:
            raise PSError(
                f"The term '{call.name}' is not recognized as the name of a cmdlet, function, "
                "script file, or operable program.",
                category="ObjectNotFound",
                error_id="CommandNotFoundException",
                target=call.name,
                terminating=True,
            )
        result: list[Any] = handler(params, piped)
        return result

    def _write_output(self, params: dict[str, Any], piped: list[Any]) -> list[Any]:
        return [params["InputObject"]] if "InputObject" in params else piped

    def _get_input(self, params: dict[str, Any], piped: list[Any]) -> list[Any]:
        return piped

    def _get_item(self, params: dict[str, Any], piped: list[Any]) -> list[Any]:
        path = params["LiteralPath"]
        if path not in self.files:
            return [_not_found(path, "GetItemCommand")]
        return [{"FullName": path, "Length": len(self.files[path])}]

    def _set_content(self, params: dict[str, Any], piped: list[Any]) -> list[Any]:
        assert params.get("Encoding") == "Byte"
        self.files[params["LiteralPath"]] = bytes(params["Value"])
        return []

    def _add_content(self, params: dict[str, Any], piped: list[Any]) -> list[Any]:
        assert params.get("Encoding") == "Byte"
        path = params["LiteralPath"]
        self.files[path] = self.files.get(path, b"") + bytes(params["Value"])
        return []

    def _get_filehash(self, params: dict[str, Any], piped: list[Any]) -> list[Any]:
        path = params["LiteralPath"]
        if path not in self.files:
            return [_not_found(path, "GetFileHashCommand")]
        digest = hashlib.sha256(self.files[path]).hexdigest().upper()
        if self.tamper_hash:
            digest = "0" * 64
        return [{"Algorithm": params.get("Algorithm", "SHA256"), "Hash": digest, "Path": path}]

    def _get_content(self, params: dict[str, Any], piped: list[Any]) -> list[Any]:
        path = params["LiteralPath"]
        if path not in self.files:
            return [_not_found(path, "GetContentCommand")]
        # Like PowerShell, an empty file gives no output at all (and pypsrp 0.9.1 cannot
        # deserialize an empty <BA/> anyway).
        return [self.files[path]] if self.files[path] else []

    def _move_item(self, params: dict[str, Any], piped: list[Any]) -> list[Any]:
        self.files[params["Destination"]] = self.files.pop(params["LiteralPath"])
        return []

    def _remove_item(self, params: dict[str, Any], piped: list[Any]) -> list[Any]:
        self.files.pop(params["LiteralPath"], None)
        return []


def _not_found(path: str, command: str) -> PSError:
    return PSError(
        f"Cannot find path '{path}' because it does not exist.",
        category="ObjectNotFound",
        error_id=f"PathNotFound,Microsoft.PowerShell.Commands.{command}",
        target=path,
    )
