"""A WinRS cmd shell for pywinrm's run_cmd/run_ps.

cmd.exe runs one program here: ``powershell -encodedcommand <base64 UTF-16LE>`` carrying an aksnet
WinRM envelope (aksnet.remote.render). Its statements run on the emulated machine and the answer
is what the envelope template prints: ``{"output":[...]}`` with exit code 0, or
``{"error":{...}}`` with exit code 1 (the template runs with ErrorActionPreference Stop, so a
non-terminating error fails too). Any other command line gets cmd.exe's "not recognized" text.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from aksnet.lab.backend import CommandCall, EmulatedMachine, PSError
from aksnet.lab.wsman.psrp import script_error
from aksnet.lab.wsman.shells import ShellBase
from aksnet.remote.render import decode_script

log = logging.getLogger(__name__)

CMD_LINE_LIMIT = 8191  # cmd.exe's longest command line
POWERSHELL = ("powershell", "powershell.exe")
ENCODED_FLAGS = ("-encodedcommand", "-enc", "-e", "-ec")
NOT_RECOGNIZED = (
    "'{name}' is not recognized as an internal or external command,\r\n"
    "operable program or batch file.\r\n"
)
CLIXML_ERROR = (
    '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
    '<S S="Error">{text}_x000D__x000A_</S></Objs>'
)


def _json_value(value: Any) -> Any:
    """What ConvertTo-Json makes of an output value (bytes: an array of numbers)."""
    if isinstance(value, bytes | bytearray):
        return list(value)
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def _error_document(error: PSError) -> bytes:
    record = {
        "message": error.message,
        "category": error.category,
        "fullyQualifiedErrorId": error.error_id,
        "target": error.target,
    }
    return _compact({"error": record})


def _compact(document: Any) -> bytes:
    # ASCII escapes keep the JSON intact through any console code page
    return (json.dumps(document, separators=(",", ":"), ensure_ascii=True) + "\r\n").encode()


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def encoded_script(line: str) -> str | None:
    """The script of `powershell -encodedcommand X`, or None for any other command line."""
    words = line.split()
    if len(words) < 3 or words[0].lower() not in POWERSHELL:
        return None
    lowered = [w.lower() for w in words]
    for flag in ENCODED_FLAGS:
        if flag in lowered and lowered.index(flag) + 1 < len(words):
            try:
                raw = base64.b64decode(words[lowered.index(flag) + 1], validate=True)
                return raw.decode("utf-16-le")
            except (binascii.Error, UnicodeDecodeError):
                return None
    return None


class CmdShell(ShellBase):
    """One cmd shell; each Command runs to completion and queues stdout, stderr, exit code."""

    kind = "cmd"

    def __init__(
        self,
        shell_id: str,
        resource_uri: str,
        chunk_budget: int,
        machine: EmulatedMachine,
        on_command: Callable[[], None],
    ) -> None:
        super().__init__(shell_id, resource_uri, chunk_budget)
        self.machine = machine
        self._on_command = on_command
        self.workers: list[threading.Thread] = []

    def run(self, command_id: str, command: str, arguments: list[str]) -> None:
        """Start one command line; like WinRS, Command returns while it runs."""
        self._on_command()
        line = " ".join([command, *arguments]).strip()
        worker = threading.Thread(
            target=self._run, args=(command_id, line), name=f"winrs-{command_id}", daemon=True
        )
        with self.cond:
            self.workers = [w for w in self.workers if w.is_alive()]
            self.workers.append(worker)
        worker.start()

    def _run(self, command_id: str, line: str) -> None:
        stdout, stderr, code = self._answer(line)  # no lock held: the machine may be slow
        with self.cond:
            self.queue(command_id, self._split("stdout", stdout) + self._split("stderr", stderr))
            self.finish(command_id, code)

    def join(self) -> None:
        for worker in list(self.workers):
            worker.join()

    def _split(self, stream: str, data: bytes) -> list[tuple[str, bytes]]:
        step = max(self.chunk_budget // 2, 1024)
        return [(stream, data[i : i + step]) for i in range(0, len(data), step)] or [(stream, b"")]

    def _answer(self, line: str) -> tuple[bytes, bytes, int]:
        if len(line) > CMD_LINE_LIMIT:
            return b"", b"The command line is too long.\r\n", 1
        script = encoded_script(line)
        if script is None:
            name = line.split()[0] if line.split() else line
            return b"", NOT_RECOGNIZED.format(name=name).encode(), 1
        statements = decode_script(script)
        if statements is None:
            text = _xml_escape(str(script_error(script)))
            return b"", CLIXML_ERROR.format(text=text).encode("utf-8"), 1
        calls = [
            [CommandCall(name, tuple(params.items())) for name, params in s] for s in statements
        ]
        return self._invoke(calls)

    def _invoke(self, calls: list[list[CommandCall]]) -> tuple[bytes, bytes, int]:
        try:
            outputs = self.machine.invoke(calls)
        except PSError as exc:
            return _error_document(exc), b"", 1
        except Exception as exc:  # a machine bug answers like an unexpected .NET exception
            log.debug("machine %s raised %s", self.machine.name, type(exc).__name__, exc_info=True)
            failure = PSError(f"{type(exc).__name__}: {exc}", error_id="LabMachineFailure")
            return _error_document(failure), b"", 1
        for value in outputs:
            if isinstance(value, PSError):  # ErrorActionPreference Stop: the first error fails
                return _error_document(value), b"", 1
        return _compact({"output": [_json_value(v) for v in outputs]}), b"", 0
