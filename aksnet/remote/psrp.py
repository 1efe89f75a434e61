"""The PSRP transport: one pypsrp RunspacePool per host, typed cmdlets, one round trip per step.

Every statement of a step goes into ONE PowerShell pipeline (add_cmdlet/add_parameter, with
add_statement between statements), so values never become script text and a step costs one
round trip. Any error record, terminating or not, fails the step: pypsrp's ``had_errors`` is set
only for terminating errors, so the error stream is checked as well.

Retries (only where resending is safe): opening the runspace pool (connection set-up, and a
WSMan operation timeout while the pool opens, which pypsrp does not retry itself; pypsrp already
re-polls a pipeline's Receive on that fault and retries a Receive read timeout 5 times); a busy
service (fault 170) refusing the Command; and the shell quota fault 0x803381A6 on the Command,
after which a new pool is opened and the command that never ran is sent again.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

from psrpcore.types import ErrorCategory
from pypsrp.complex_objects import ErrorRecord as PSRPErrorRecord
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.serializer import TaggedValue
from pypsrp.wsman import WSMan

from aksnet.errors import ErrorRecord, InvalidInput, RemoteCommandFailed, RemoteError
from aksnet.remote.base import Credential, Endpoint, PSValue, Statement, as_pipeline, session_repr
from aksnet.remote.classify import (
    TRANSPORT_ERRORS,
    HostBusy,
    NotResendable,
    QuotaExceeded,
    classify,
)
from aksnet.remote.psvalues import plain
from aksnet.remote.retry import RetryPolicy

log = logging.getLogger(__name__)

DEFAULT_RETRY = RetryPolicy()
AUTH_METHODS = ("negotiate", "ntlm", "kerberos", "basic", "credssp")
# Auth methods that can encrypt the messages themselves (needed over plain HTTP).
_ENCRYPTING_AUTH = ("negotiate", "ntlm", "kerberos")


def check_security(endpoint: Endpoint, credential: Credential) -> None:
    """Refuse an insecure configuration before anything connects (InvalidInput names it).

    HTTPS with certificate validation is the default. Over HTTP only NTLM, Kerberos or
    Negotiate with message encryption are allowed; Basic only over HTTPS, or over HTTP when the
    endpoint is the lab. CredSSP delegates the password to the host, so it is refused unless
    asked for explicitly with ``extra={"allow_credssp": True}`` besides ``auth="credssp"``.
    """
    if endpoint.auth not in AUTH_METHODS:
        raise InvalidInput("auth", endpoint.auth, f"is not one of {', '.join(AUTH_METHODS)}")
    if not credential.username:
        raise InvalidInput("credential", credential.username, "needs a user name")
    if endpoint.auth == "credssp" and endpoint.extra.get("allow_credssp") is not True:
        raise InvalidInput(
            "auth", "credssp", "delegates the password; set extra={'allow_credssp': True}"
        )
    if not endpoint.ssl and endpoint.auth == "basic" and not endpoint.lab:
        raise InvalidInput(
            "auth",
            "basic",
            "sends the password in clear text; over HTTP use negotiate, ntlm "
            "or kerberos (with message encryption), or use ssl=True",
        )
    if not endpoint.ssl and endpoint.auth not in (*_ENCRYPTING_AUTH, "basic"):
        raise InvalidInput("ssl", False, f"is allowed with {', '.join(_ENCRYPTING_AUTH)} only")
    if endpoint.ssl and endpoint.cert_validation is False and not endpoint.lab:
        raise InvalidInput(
            "cert_validation", False, "is allowed for the lab only; give a CA bundle path instead"
        )
    cert = endpoint.cert_validation
    if isinstance(cert, str) and not os.path.isfile(cert):
        raise InvalidInput("cert_validation", cert, "must be True or the path of a CA bundle")
    if endpoint.extra.get("encryption") == "never" and not (endpoint.ssl or endpoint.lab):
        raise InvalidInput("encryption", "never", "is not allowed over HTTP")
    name = endpoint.extra.get("tls_server_name")
    if name is not None and (not endpoint.ssl or endpoint.cert_validation is False):
        raise InvalidInput(
            "tls_server_name", name, "needs ssl=True and certificate validation (a CA path)"
        )


def verify_server_name(wsman: WSMan, name: str) -> None:
    """Match the server certificate against `name` (its DNS SAN) instead of the URL's host, as
    for a node reached at an address its certificate could not name (the DHCP model).

    pypsrp's only TLS setting is requests' `verify` (the trust anchors); requests and urllib3
    can match another name (urllib3's assert_hostname, server_hostname for SNI) but pypsrp
    passes neither. So the requests session pypsrp would build on its first send is built here,
    by pypsrp itself, and its HTTPS pool manager is given the name; chain validation against
    `verify` stays as it was."""
    transport = wsman.transport
    session = transport._build_session()
    adapter = session.get_adapter("https://")
    adapter.poolmanager.connection_pool_kw.update(assert_hostname=name, server_hostname=name)  # type: ignore[attr-defined]
    transport.session = session


def check_timeouts(
    operation_timeout: float, read_timeout: float, connection_timeout: float | None = None
) -> None:
    """WSMan waits operation_timeout on the server, so the HTTP read must wait longer."""
    timeouts = {"operation_timeout": operation_timeout, "read_timeout": read_timeout}
    if connection_timeout is not None:
        timeouts["connection_timeout"] = connection_timeout
    for name, value in timeouts.items():
        if value <= 0:
            raise InvalidInput(name, value, "must be a positive number of seconds")
    if read_timeout <= operation_timeout:
        raise InvalidInput(
            "read_timeout",
            read_timeout,
            f"must be greater than operation_timeout ({operation_timeout})",
        )


def encryption_mode(endpoint: Endpoint) -> str:
    """WSMan message encryption: TLS covers HTTPS; over HTTP the auth method must encrypt."""
    if endpoint.ssl:
        return "auto"
    return "never" if endpoint.auth == "basic" else "always"  # basic: lab only, checked


def describe(statements: Sequence[Statement]) -> str:
    """The step as people read it, command names only: values may be secrets."""
    return "; ".join(" | ".join(c.name for c in as_pipeline(s).commands) for s in statements)


class PSRPSession:
    """A PowerShell session over PSRP: one runspace pool, opened on first use and reused.

    Thread-safe: invokes on one session are serialised (the pool has one runspace).
    """

    def __init__(
        self,
        endpoint: Endpoint,
        credential: Credential,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        operation_timeout: int = 20,
        read_timeout: int = 30,
        connection_timeout: int = 30,
    ) -> None:
        check_security(endpoint, credential)
        check_timeouts(operation_timeout, read_timeout, connection_timeout)
        self.host = endpoint.host
        self._endpoint = endpoint
        self._credential = credential
        self._retry = retry
        self._timeouts = (operation_timeout, read_timeout, connection_timeout)
        self._lock = threading.Lock()
        self._pool: RunspacePool | None = None

    def __repr__(self) -> str:
        return session_repr("PSRPSession", self._endpoint, self._credential)

    def invoke(self, *statements: Statement, input: Sequence[PSValue] = ()) -> list[PSValue]:
        """Run the statements in one pipeline (one round trip) and return their plain output."""
        if not statements:
            raise InvalidInput("statements", (), "needs at least one statement")
        with self._lock:
            ps = self._start(statements, input)
            try:
                ps.end_invoke()
            except TRANSPORT_ERRORS as error:
                self._drop_pool()
                raise self._classify(error) from None
            return self._result(ps, statements)

    def close(self) -> None:
        with self._lock:
            self._drop_pool()

    # -- the pool ---------------------------------------------------------------------------

    def _wsman(self) -> WSMan:
        e, (op, read, conn) = self._endpoint, self._timeouts
        wsman = WSMan(
            e.host,
            port=e.effective_port,
            username=self._credential.username,
            password=self._credential.password,
            ssl=e.ssl,
            auth=e.auth,
            # pypsrp hands this to requests' `verify`, which also takes a CA bundle path
            cert_validation=e.cert_validation,  # type: ignore[arg-type]
            encryption=encryption_mode(e),
            operation_timeout=op,
            read_timeout=read,
            connection_timeout=conn,
            reconnection_retries=0,  # retries are ours: RetryPolicy, safe operations only
        )
        name = e.extra.get("tls_server_name")
        if name is not None:
            verify_server_name(wsman, str(name))
        return wsman

    def _open_pool(self) -> RunspacePool:
        log.debug("opening a runspace pool on %s", self.host)
        wsman = self._wsman()
        pool = RunspacePool(wsman, configuration_name=self._endpoint.configuration_name)
        try:
            pool.open()
        except TRANSPORT_ERRORS as error:
            _close_quietly(pool, wsman)
            raise self._classify(error) from None
        return pool

    def _pool_or_open(self) -> RunspacePool:
        if self._pool is None:
            self._pool = self._retry.call(self._open_pool, safe=True)
        return self._pool

    def _drop_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            _close_quietly(pool, pool.connection)

    # -- one step ---------------------------------------------------------------------------

    def _start(self, statements: Sequence[Statement], input: Sequence[PSValue]) -> PowerShell:
        """Send the Command; a quota fault means the command never ran: new pool, resend once."""
        for attempt in (1, 2):
            pool = self._pool_or_open()
            try:
                return self._retry.call(partial(self._begin, pool, statements, input), safe=True)
            except QuotaExceeded:
                if attempt == 2:
                    raise
                log.debug("shell quota reached on %s: opening a new runspace pool", self.host)
                self._drop_pool()
            except NotResendable as wrapped:
                self._drop_pool()
                raise wrapped.error from None
        raise AssertionError("unreachable")

    def _begin(
        self, pool: RunspacePool, statements: Sequence[Statement], input: Sequence[PSValue]
    ) -> PowerShell:
        ps = _build(PowerShell(pool), statements)
        try:
            ps.begin_invoke(input=_input_stream(input))
        except TRANSPORT_ERRORS as error:
            classified = self._classify(error)
            if isinstance(classified, HostBusy | QuotaExceeded):
                raise classified from None  # refused before it ran: safe to send again
            raise NotResendable(classified) from None
        return ps

    def _result(self, ps: PowerShell, statements: Sequence[Statement]) -> list[PSValue]:
        records = [_record(e, terminating=False) for e in ps.streams.error]
        if ps.had_errors:
            if records:  # pypsrp appends the failed state's record last
                last = records[-1]
                records[-1] = ErrorRecord(
                    last.message, last.category, last.fully_qualified_error_id, last.target, True
                )
            else:
                records.append(ErrorRecord("the pipeline failed", terminating=True))
        if records:
            raise RemoteCommandFailed(self.host, describe(statements), records=records)
        return [plain(o) for o in ps.output]

    def _classify(self, error: BaseException) -> RemoteError:
        return classify(error, self.host, secrets=[self._credential.password])


def _build(ps: PowerShell, statements: Sequence[Statement]) -> PowerShell:
    for index, statement in enumerate(statements):
        if index:
            ps.add_statement()
        for cmdlet in as_pipeline(statement).commands:
            ps.add_cmdlet(cmdlet.name)
            for name, value in cmdlet.parameters:
                ps.add_parameter(name, _typed(value))
    return ps


_INT32 = range(-(2**31), 2**31)
_INT64 = range(-(2**63), 2**63)


def _typed(value: Any) -> Any:
    """Tag integers that do not fit Int32: pypsrp sends every int as <I32>, so 8 GiB of
    MemoryStartupBytes would otherwise be refused (or overflow) on the host."""
    if isinstance(value, bool) or not isinstance(value, int | list | tuple):
        return value
    if isinstance(value, list | tuple):
        return [_typed(v) for v in value]
    if value in _INT32:
        return value
    return TaggedValue("I64" if value in _INT64 else "U64", value)


def _input_stream(values: Sequence[PSValue]) -> Iterator[list[PSValue]] | None:
    # pypsrp sends each item a generator yields as one batch of pipeline input.
    if not values:
        return None
    return (batch for batch in [list(values)])


def _record(error: PSRPErrorRecord, *, terminating: bool) -> ErrorRecord:
    exception: Any = getattr(error, "exception", None)
    message = getattr(exception, "message", None) or str(error)
    try:
        category = ErrorCategory(int(getattr(error, "category", 0) or 0)).name
    except (TypeError, ValueError):
        category = "NotSpecified"
    target = getattr(error, "target_object", None)
    if target is None:
        target = getattr(error, "target_name", None)
    return ErrorRecord(
        message=str(message),
        category=category,
        fully_qualified_error_id=str(error.fq_error or ""),
        target=None if target in (None, "") else str(target),
        terminating=terminating,
    )


def _close_quietly(pool: RunspacePool, wsman: WSMan) -> None:
    """Best effort: the host may be gone, which is often why the pool is closed."""
    try:
        pool.close()
    except Exception as error:  # closing must not hide the first failure
        log.debug("closing the runspace pool failed: %s", type(error).__name__)
    try:
        wsman.close()
    except Exception as error:
        log.debug("closing the WSMan connection failed: %s", type(error).__name__)
