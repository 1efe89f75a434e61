"""Library exceptions -> aksnet errors, with every secret masked."""

from __future__ import annotations

import pypsrp.exceptions as psrp_exc
import pytest
import requests.exceptions as req_exc
import winrm.exceptions as winrm_exc

from aksnet.errors import (
    AuthenticationFailed,
    HostUnreachable,
    OperationTimedOut,
    ProtocolError,
    RemoteError,
)
from aksnet.remote.classify import (
    WSMAN_BUSY,
    WSMAN_OPERATION_TIMEOUT,
    WSMAN_QUOTA_MAX_OPERATIONS,
    HostBusy,
    QuotaExceeded,
    TLSFailure,
    classify,
)

SECRET = "Hunter2-Secret!"


def _winrm_fault(code: int) -> winrm_exc.WSManFaultError:
    return winrm_exc.WSManFaultError(500, "fault", "<xml/>", "reason", wsman_fault_code=code)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            psrp_exc.AuthenticationError("Failed to authenticate the user x with basic"),
            AuthenticationFailed,
        ),
        (winrm_exc.InvalidCredentialsError("rejected"), AuthenticationFailed),
        (psrp_exc.WinRMTransportError("http", 401, "Unauthorized"), AuthenticationFailed),
        (psrp_exc.WinRMTransportError("http", 500, "boom"), ProtocolError),
        (
            psrp_exc.WSManFaultError(WSMAN_OPERATION_TIMEOUT, "m", "r", "p", "pm", "pf"),
            OperationTimedOut,
        ),
        (psrp_exc.WSManFaultError(WSMAN_BUSY, "m", "r", "p", "pm", "pf"), HostBusy),
        (
            psrp_exc.WSManFaultError(WSMAN_QUOTA_MAX_OPERATIONS, "m", "r", "p", "pm", "pf"),
            QuotaExceeded,
        ),
        (_winrm_fault(WSMAN_OPERATION_TIMEOUT), OperationTimedOut),
        (_winrm_fault(WSMAN_QUOTA_MAX_OPERATIONS), QuotaExceeded),
        (winrm_exc.WinRMOperationTimeoutError(), OperationTimedOut),
        (req_exc.ConnectionError("refused"), HostUnreachable),
        (req_exc.ConnectTimeout("slow connect"), HostUnreachable),
        (req_exc.ReadTimeout("slow answer"), OperationTimedOut),
        (req_exc.SSLError("certificate verify failed"), TLSFailure),
        (ConnectionRefusedError(111, "Connection refused"), HostUnreachable),
        (TimeoutError("timed out"), OperationTimedOut),
        (psrp_exc.WinRMError("odd"), ProtocolError),
    ],
)
def test_library_errors_are_classified(error: BaseException, expected: type) -> None:
    classified = classify(error, "hv1")
    assert type(classified) is expected
    assert classified.host == "hv1"


def test_unknown_wsman_fault_keeps_its_code() -> None:
    classified = classify(
        psrp_exc.WSManFaultError(2150858843, "m", "shell not found", "p", "pm", "pf"), "hv1"
    )
    assert isinstance(classified, ProtocolError)
    assert classified.code == 2150858843
    assert "0x8033805B" in str(classified)


def test_authentication_failures_are_never_retryable() -> None:
    assert not classify(psrp_exc.AuthenticationError("no"), "hv1").retryable
    assert classify(req_exc.ConnectionError("refused"), "hv1").retryable
    tls = classify(req_exc.SSLError("certificate verify failed"), "hv1")
    assert isinstance(tls, HostUnreachable) and not tls.retryable


def test_secrets_are_masked_in_the_message() -> None:
    error = req_exc.ConnectionError(f"https://admin:{SECRET}@hv1:5986/wsman refused")
    classified = classify(error, "hv1", secrets=[SECRET])
    assert SECRET not in str(classified)
    assert f"<{len(SECRET)} characters>" in str(classified)


def test_an_aksnet_error_passes_through() -> None:
    original = RemoteError("hv1", "already classified")
    assert classify(original, "hv1") is original
