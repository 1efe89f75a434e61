"""Insecure configurations are refused before anything connects, naming the parameter."""

from __future__ import annotations

from typing import Any

import pytest

from aksnet.errors import InvalidInput
from aksnet.remote.base import Credential, Endpoint
from aksnet.remote.psrp import PSRPSession, encryption_mode
from aksnet.remote.winrm import WinRMSession

CRED = Credential("admin", "Never-Sh0wn-Secret")
TRANSPORTS = [PSRPSession, WinRMSession]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("endpoint", "parameter"),
    [
        (Endpoint("h", ssl=False, auth="basic"), "auth"),
        (Endpoint("h", auth="credssp"), "auth"),
        (Endpoint("h", auth="digest"), "auth"),
        (Endpoint("h", cert_validation=False), "cert_validation"),
        (Endpoint("h", cert_validation="/nonexistent/ca.pem"), "cert_validation"),
        (Endpoint("h", ssl=False, auth="credssp", extra={"allow_credssp": True}), "ssl"),
        (Endpoint("h", ssl=False, auth="ntlm", extra={"encryption": "never"}), "encryption"),
    ],
)
def test_insecure_configuration_is_refused(
    transport: Any, endpoint: Endpoint, parameter: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        transport(endpoint, CRED)
    assert caught.value.parameter == parameter
    assert CRED.password not in str(caught.value)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    "endpoint",
    [
        Endpoint("h"),  # HTTPS, validated, negotiate: the default
        Endpoint("h", auth="basic"),  # Basic over HTTPS
        Endpoint("h", ssl=False, auth="ntlm"),  # HTTP with message encryption
        Endpoint("h", ssl=False, auth="kerberos"),
        Endpoint("h", ssl=False, auth="basic", lab=True),  # the lab only
        Endpoint("h", cert_validation=False, lab=True),
        Endpoint("h", auth="credssp", extra={"allow_credssp": True}),
    ],
)
def test_secure_configuration_is_accepted(transport: Any, endpoint: Endpoint) -> None:
    session = transport(endpoint, CRED)  # nothing connects until the first invoke
    assert CRED.password not in repr(session)


def test_http_without_tls_always_encrypts_messages() -> None:
    assert encryption_mode(Endpoint("h", ssl=False, auth="negotiate")) == "always"
    assert encryption_mode(Endpoint("h", ssl=False, auth="basic", lab=True)) == "never"
    assert encryption_mode(Endpoint("h")) == "auto"


def test_credential_needs_a_user_name() -> None:
    with pytest.raises(InvalidInput) as caught:
        PSRPSession(Endpoint("h"), Credential("", "pw"))
    assert caught.value.parameter == "credential"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_read_timeout_must_exceed_operation_timeout(transport: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        transport(Endpoint("h"), CRED, operation_timeout=30, read_timeout=30)
    assert caught.value.parameter == "read_timeout"
