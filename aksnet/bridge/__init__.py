"""The PowerShell bridge: `python -m aksnet.bridge` answers one JSON request with JSON lines.

The AksNet PowerShell module writes one request to stdin and maps every line written to stdout
onto a PowerShell stream; aksnet/bridge_protocol.md documents the versioned protocol. Startup must
stay fast: this package imports only the standard library and aksnet.errors up front, and each
command handler imports what its command needs (never kubernetes, pypsrp or paramiko).
"""

from __future__ import annotations

import os
import sys
from typing import IO

from aksnet.bridge.emitter import Emitter
from aksnet.bridge.request import BadRequest, parse_request
from aksnet.bridge.schema import PROTOCOL_VERSION, REQUEST_SCHEMA
from aksnet.errors import AksNetError, NotFound

__all__ = ["EXIT_BAD_REQUEST", "EXIT_INTERNAL", "PROTOCOL_VERSION", "REQUEST_SCHEMA", "main", "run"]

EXIT_BAD_REQUEST = 64  # EX_USAGE: the request itself is malformed
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug in aksnet, reported as an error line


def run(text: str, out: IO[str]) -> int:
    """Answer one request; returns the process exit code. Never lets a traceback out."""
    emitter = Emitter(out)
    try:
        request = parse_request(text)
    except BadRequest as err:
        emitter.error(str(err), "InvalidArgument", err.error_id, err.target, terminating=True)
        return EXIT_BAD_REQUEST
    from aksnet.bridge.commands import HANDLERS
    from aksnet.bridge.lifecycle import HANDLERS as LIFECYCLE_HANDLERS
    from aksnet.bridge.loadbalancer import HANDLERS as LOAD_BALANCER_HANDLERS
    from aksnet.bridge.remediation import HANDLERS as REMEDIATION_HANDLERS

    try:
        handler = (
            HANDLERS.get(request.command)
            or LIFECYCLE_HANDLERS.get(request.command)
            or LOAD_BALANCER_HANDLERS.get(request.command)
            or REMEDIATION_HANDLERS[request.command]
        )
        handler(request, emitter)
    except AksNetError as err:
        # Not found is non-terminating, as for Get-Item: a pipeline goes on with the next name.
        terminating = not isinstance(err, NotFound)
        emitter.error(str(err), err.category, err.error_id, err.target, terminating=terminating)
        return err.exit_code
    except Exception as err:  # a bug: one error line; the traceback only in the debug log
        import logging  # only here and in main: logging costs startup time on every call

        logging.getLogger(__name__).debug("bridge: %s failed", request.command, exc_info=True)
        emitter.error(
            f"Internal error in aksnet ({type(err).__name__}); set AKSNET_DEBUG=1 for details.",
            "NotSpecified",
            "InternalError",
            request.command,
            terminating=True,
        )
        return EXIT_INTERNAL
    return 0


def main() -> int:
    if os.environ.get("AKSNET_DEBUG"):
        import logging

        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    return run(sys.stdin.read(), sys.stdout)
