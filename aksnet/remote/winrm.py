"""The WinRM transport: typed statements rendered by render.py, run with pywinrm.

pywinrm can only send script text, so each step becomes render.render_script's fixed template
carrying the statements as an encoded document, sent exactly as pywinrm's ``Session.run_ps``
sends it (``powershell -encodedcommand <UTF-16LE base64>`` in a WinRS cmd shell). The shell is
opened on first use and reused; the script answers one JSON document (see render.py).

A script longer than MAX_SCRIPT is never sent: when every statement fits on its own, the step
is split into several scripts, which then costs one round trip per script; a statement that does
not fit alone is refused before anything is sent. Pipeline input is not supported (pass values
as parameters).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
from collections.abc import Sequence
from functools import partial
from typing import Any

from winrm.protocol import Protocol

from aksnet.errors import (
    ErrorRecord,
    InvalidInput,
    ProtocolError,
    RemoteCommandFailed,
    RemoteError,
)
from aksnet.remote.base import Credential, Endpoint, PSValue, Statement, as_pipeline, session_repr
from aksnet.remote.classify import (
    TRANSPORT_ERRORS,
    HostBusy,
    NotResendable,
    QuotaExceeded,
    classify,
)
from aksnet.remote.psrp import (
    DEFAULT_RETRY,
    check_security,
    check_timeouts,
    describe,
    encryption_mode,
)
from aksnet.remote.render import MAX_SCRIPT, render_script
from aksnet.remote.retry import RetryPolicy

log = logging.getLogger(__name__)

# Endpoint.auth -> pywinrm transport name (pywinrm has no "negotiate"; its ntlm is SPNEGO/NTLM).
_TRANSPORTS = {
    "basic": "basic",
    "negotiate": "ntlm",
    "ntlm": "ntlm",
    "kerberos": "kerberos",
    "credssp": "credssp",
}


def split_into_scripts(statements: Sequence[Statement]) -> list[list[Statement]]:
    """The statements grouped into consecutive batches whose scripts fit in MAX_SCRIPT.

    Raises InvalidInput, before anything is sent, when one statement alone does not fit.
    """
    for index, statement in enumerate(statements):
        size = len(render_script([statement]))
        if size > MAX_SCRIPT:
            names = " | ".join(c.name for c in as_pipeline(statement).commands)
            raise InvalidInput(
                f"statements[{index}]",
                names,
                f"renders to a {size}-character script; WinRM run_ps carries at most "
                f"{MAX_SCRIPT}: use PSRP or smaller values",
            )
    batches: list[list[Statement]] = []
    for statement in statements:
        if batches and len(render_script([*batches[-1], statement])) <= MAX_SCRIPT:
            batches[-1].append(statement)
        else:
            batches.append([statement])
    return batches


def command_line(script: str) -> str:
    """What pywinrm's Session.run_ps sends for a script."""
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return f"powershell -encodedcommand {encoded}"


class WinRMSession:
    """A PowerShell session over WinRM: one WinRS shell, opened on first use and reused."""

    # The largest file chunk psfiles should put in one statement: base64 in JSON in base64
    # must stay inside MAX_SCRIPT next to the template.
    max_file_chunk = 768

    def __init__(
        self,
        endpoint: Endpoint,
        credential: Credential,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        operation_timeout: int = 20,
        read_timeout: int = 30,
    ) -> None:
        check_security(endpoint, credential)
        check_timeouts(operation_timeout, read_timeout)
        self.host = endpoint.host
        self._endpoint = endpoint
        self._credential = credential
        self._retry = retry
        self._timeouts = (operation_timeout, read_timeout)
        self._lock = threading.Lock()
        self._protocol: Protocol | None = None
        self._shell_id: str | None = None

    def __repr__(self) -> str:
        return session_repr("WinRMSession", self._endpoint, self._credential)

    def invoke(self, *statements: Statement, input: Sequence[PSValue] = ()) -> list[PSValue]:
        """Run the statements (one script, or several when too long) and return their output."""
        if not statements:
            raise InvalidInput("statements", (), "needs at least one statement")
        if input:
            raise InvalidInput("input", f"<{len(input)} items>", "is not supported over WinRM")
        batches = split_into_scripts(statements)
        output: list[PSValue] = []
        with self._lock:
            for batch in batches:
                output += self._run(batch)
        return output

    def close(self) -> None:
        with self._lock:
            self._drop_shell()

    # -- the shell --------------------------------------------------------------------------

    def _new_protocol(self) -> Protocol:
        e, (op, read) = self._endpoint, self._timeouts
        scheme = "https" if e.ssl else "http"
        host = f"[{e.host}]" if ":" in e.host else e.host
        return Protocol(
            f"{scheme}://{host}:{e.effective_port}/wsman",
            transport=_TRANSPORTS[e.auth],  # type: ignore[arg-type]
            username=self._credential.username,
            password=self._credential.password,
            server_cert_validation="ignore" if e.cert_validation is False else "validate",
            # None: requests' own CA store, not pywinrm's environment-variable fallback
            ca_trust_path=e.cert_validation if isinstance(e.cert_validation, str) else None,  # type: ignore[arg-type]
            message_encryption=encryption_mode(e),  # type: ignore[arg-type]
            operation_timeout_sec=op,
            read_timeout_sec=read,
        )

    def _open_shell(self) -> str:
        if self._protocol is None:
            self._protocol = self._new_protocol()
        try:
            shell_id: str = self._protocol.open_shell()
        except TRANSPORT_ERRORS as error:
            raise self._classify(error) from None
        return shell_id

    def _shell_or_open(self) -> tuple[Protocol, str]:
        if self._shell_id is None:
            log.debug("opening a WinRS shell on %s", self.host)
            self._shell_id = self._retry.call(self._open_shell, safe=True)
        assert self._protocol is not None
        return self._protocol, self._shell_id

    def _drop_shell(self) -> None:
        protocol, shell_id = self._protocol, self._shell_id
        self._protocol, self._shell_id = None, None
        if protocol is not None and shell_id is not None:
            try:
                protocol.close_shell(shell_id)
            except Exception as error:  # closing must not hide the first failure
                log.debug("closing the WinRS shell failed: %s", type(error).__name__)

    # -- one script -------------------------------------------------------------------------

    def _run(self, statements: list[Statement]) -> list[PSValue]:
        line = command_line(render_script(statements))
        protocol, shell_id, command_id = self._start(line)
        try:
            stdout, stderr, status = protocol.get_command_output(shell_id, command_id)
        except TRANSPORT_ERRORS as error:
            self._drop_shell()
            raise self._classify(error) from None
        try:
            protocol.cleanup_command(shell_id, command_id)
        except TRANSPORT_ERRORS as error:  # the answer is in; a failed cleanup changes nothing
            log.debug("cleaning up the command on %s failed: %s", self.host, type(error).__name__)
        return self._answer(statements, stdout, stderr, status)

    def _start(self, line: str) -> tuple[Protocol, str, str]:
        """Send the command; busy is retried, a quota fault gets a new shell and one resend."""
        for attempt in (1, 2):
            protocol, shell_id = self._shell_or_open()
            try:
                command_id = self._retry.call(
                    partial(self._send, protocol, shell_id, line), safe=True
                )
                return protocol, shell_id, command_id
            except QuotaExceeded:
                if attempt == 2:
                    raise
                log.debug("shell quota reached on %s: opening a new shell", self.host)
                self._drop_shell()
            except NotResendable as wrapped:
                self._drop_shell()
                raise wrapped.error from None
        raise AssertionError("unreachable")

    def _send(self, protocol: Protocol, shell_id: str, line: str) -> str:
        try:
            command_id: str = protocol.run_command(shell_id, line)
        except TRANSPORT_ERRORS as error:
            classified = self._classify(error)
            if isinstance(classified, HostBusy | QuotaExceeded):
                raise classified from None  # refused before it ran: safe to send again
            raise NotResendable(classified) from None
        return command_id

    def _answer(
        self, statements: list[Statement], stdout: bytes, stderr: bytes, status: int
    ) -> list[PSValue]:
        text = stdout.decode("utf-8", "replace").strip().lstrip("\ufeff")
        document: Any = None
        with contextlib.suppress(ValueError):  # not JSON: judged by the exit status below
            document = json.loads(text) if text else None
        if status == 0 and isinstance(document, dict) and "output" in document:
            output = document["output"]
            return list(output) if isinstance(output, list) else [output]
        if isinstance(document, dict) and isinstance(document.get("error"), dict):
            raise RemoteCommandFailed(
                self.host,
                describe(statements),
                records=[_record(document["error"])],
                exit_status=status,
            )
        if status != 0:
            raise RemoteCommandFailed(
                self.host,
                describe(statements),
                exit_status=status,
                stdout=stdout.decode("utf-8", "replace"),
                stderr=stderr.decode("utf-8", "replace"),
            )
        raise ProtocolError(self.host, f"the answer to {describe(statements)} is not JSON")

    def _classify(self, error: BaseException) -> RemoteError:
        return classify(error, self.host, secrets=[self._credential.password])


def _record(error: dict[str, Any]) -> ErrorRecord:
    target = error.get("target")
    return ErrorRecord(
        message=str(error.get("message", "")),
        category=str(error.get("category") or "NotSpecified"),
        fully_qualified_error_id=str(error.get("fullyQualifiedErrorId") or ""),
        target=None if target is None else str(target),
        terminating=True,  # the template runs with ErrorActionPreference Stop
    )
