"""Library exceptions -> aksnet.errors, in one place (DESIGN principle 5).

requests, urllib3, socket, pypsrp and pywinrm each report the same few failures in their own
words. ``classify`` turns any of them into HostUnreachable, AuthenticationFailed,
OperationTimedOut or ProtocolError (WSMan faults keep their code), and masks every secret it is
given, so a password that a library put into its message never reaches a person.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

import pypsrp.exceptions as psrp_exc
import requests.exceptions as req_exc
import urllib3.exceptions as url_exc
import winrm.exceptions as winrm_exc

from aksnet.errors import (
    AuthenticationFailed,
    HostUnreachable,
    OperationTimedOut,
    ProtocolError,
    RemoteError,
    mask,
)

# WSMan fault codes the transports act on.
WSMAN_OPERATION_TIMEOUT = 2150858793  # 0x80338029: a Receive waited OperationTimeout, no data
WSMAN_BUSY = 170  # ERROR_BUSY: the service is busy, the request was not accepted
WSMAN_QUOTA_MAX_OPERATIONS = 0x803381A6  # the shell has run its maximum number of operations


class HostBusy(ProtocolError):
    """The WSMan service refused a request because it is busy; the request never ran."""

    error_id = "HostBusy"
    retryable = True


class QuotaExceeded(ProtocolError):
    """The shell reached its operations quota; a new shell (runspace pool) is needed."""

    error_id = "QuotaExceeded"


class TLSFailure(HostUnreachable):
    """The TLS handshake failed (certificate not trusted, name mismatch): not transient."""

    error_id = "TLSFailure"
    retryable = False


class NotResendable(Exception):
    """Carries a classified error out of a retried operation when sending again is unsafe.

    RetryPolicy retries every retryable RemoteError; wrapped in this, one passes through.
    """

    def __init__(self, error: RemoteError) -> None:
        super().__init__(str(error))
        self.error = error


# Everything a transport call may raise that is about the transport, not about aksnet's code.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # socket errors, requests' RequestException and ssl errors are OSErrors
    url_exc.HTTPError,
    psrp_exc.WinRMError,
    winrm_exc.WinRMError,
    winrm_exc.WinRMTransportError,
    winrm_exc.WinRMOperationTimeoutError,
)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """text with every non-empty secret replaced by its mask."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask(secret))
    return text


def classify(error: BaseException, host: str, *, secrets: Iterable[str] = ()) -> RemoteError:
    """The aksnet error for a library exception raised while talking to host."""
    if isinstance(error, RemoteError):
        return error
    detail = scrub(f"{type(error).__name__}: {error}", list(secrets))
    code = _fault_code(error)
    if code is not None:
        return _for_fault(host, code, detail)
    if isinstance(error, psrp_exc.AuthenticationError | winrm_exc.AuthenticationError):
        return AuthenticationFailed(host, detail)
    status = _http_status(error)
    if status == 401:
        return AuthenticationFailed(host, detail)
    if status is not None:
        return ProtocolError(host, detail, code=status)
    return _for_network(error, host, detail)


def _for_fault(host: str, code: int, detail: str) -> RemoteError:
    if code == WSMAN_OPERATION_TIMEOUT:
        return OperationTimedOut(host, detail)
    if code == WSMAN_BUSY:
        return HostBusy(host, detail, code=code)
    if code == WSMAN_QUOTA_MAX_OPERATIONS:
        return QuotaExceeded(host, detail, code=code)
    return ProtocolError(host, f"WSMan fault {code} (0x{code:08X}): {detail}", code=code)


def _for_network(error: BaseException, host: str, detail: str) -> RemoteError:
    # Order matters: SSLError and ConnectTimeout are ConnectionErrors; ReadTimeout is a Timeout.
    if isinstance(error, req_exc.SSLError | url_exc.SSLError):
        return TLSFailure(host, f"TLS failure: {detail}")
    if isinstance(error, req_exc.ConnectTimeout | url_exc.ConnectTimeoutError):
        return HostUnreachable(host, detail)
    if isinstance(
        error,
        req_exc.Timeout
        | url_exc.ReadTimeoutError
        | socket.timeout
        | winrm_exc.WinRMOperationTimeoutError,
    ):
        return OperationTimedOut(host, detail)
    if isinstance(error, OSError | url_exc.HTTPError):
        return HostUnreachable(host, detail)
    return ProtocolError(host, detail)


def _fault_code(error: BaseException) -> int | None:
    if isinstance(error, psrp_exc.WSManFaultError):
        return int(error.code) if error.code is not None else None
    if isinstance(error, winrm_exc.WSManFaultError):
        code = error.wsman_fault_code if error.wsman_fault_code is not None else error.code
        return int(code) if code is not None else None
    return None


def _http_status(error: BaseException) -> int | None:
    if isinstance(error, psrp_exc.WinRMTransportError | winrm_exc.WinRMTransportError):
        return int(error.code) if error.code is not None else None
    return None
