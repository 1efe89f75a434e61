"""tls_server_name: a WSMan session whose server certificate is matched by a name other than the
URL's host (a DHCP Windows node's DNS SAN). No lab, nothing is contacted."""

from __future__ import annotations

from typing import Any

import pytest
from pypsrp.wsman import WSMan

from aksnet.errors import InvalidInput
from aksnet.remote.base import Credential, Endpoint
from aksnet.remote.psrp import check_security, verify_server_name

CREDENTIAL = Credential("clouduser", "unused-password")


def test_the_session_matches_the_certificate_by_the_given_name_and_keeps_its_anchor() -> None:
    pinned: Any = "/pinned.pem"  # pypsrp types it bool; requests' verify takes a path too
    wsman = WSMan("198.18.0.5", port=5986, ssl=True, auth="ntlm", cert_validation=pinned)
    verify_server_name(wsman, "c1-win-0")
    session = wsman.transport.session
    assert session is not None and session.verify == "/pinned.pem"
    adapter: Any = session.get_adapter("https://198.18.0.5:5986/wsman")
    pool_kw = adapter.poolmanager.connection_pool_kw
    assert (pool_kw["assert_hostname"], pool_kw["server_hostname"]) == ("c1-win-0", "c1-win-0")


@pytest.mark.parametrize(
    "endpoint",
    [
        Endpoint("198.18.0.5", ssl=False, auth="ntlm", extra={"tls_server_name": "n"}),
        Endpoint("198.18.0.5", lab=True, cert_validation=False, extra={"tls_server_name": "n"}),
    ],
)
def test_a_server_name_without_certificate_validation_is_refused(endpoint: Endpoint) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_security(endpoint, CREDENTIAL)
    assert refused.value.parameter == "tls_server_name"
