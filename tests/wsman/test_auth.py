"""Authentication: NTLM with message encryption, Basic over HTTPS with CA validation, refusals."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import pytest
import requests
import winrm
from pypsrp.exceptions import AuthenticationError
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from aksnet.lab.wsman import WSManServer
from aksnet.remote.base import Cmdlet
from aksnet.remote.render import render_script
from tests.wsman.conftest import PASSWORD, USER, USERS, FakeMachine, basic_wsman, ntlm_wsman


def test_ntlm_with_message_encryption_pypsrp(ntlm_server: WSManServer) -> None:
    with ntlm_wsman(ntlm_server) as wsman, RunspacePool(wsman) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-Item").add_parameter("Name", "vm1")
        out = ps.invoke()
    assert out[0].extended_properties["Parameters"].extended_properties == {"Name": "vm1"}
    # every WSMan message after the handshake travelled encrypted
    assert ntlm_server.stats.encrypted_requests == sum(ntlm_server.stats.by_action.values())
    assert ntlm_server.stats.encrypted_requests >= 4


def test_ntlm_pywinrm_run_ps(ntlm_server: WSManServer) -> None:
    session = winrm.Session(
        ntlm_server.url,
        auth=(USER, PASSWORD),
        transport="ntlm",
        read_timeout_sec=10,
        operation_timeout_sec=5,
    )
    result = session.run_ps(render_script([Cmdlet.of("Get-Item", Name="n1")]))
    assert result.status_code == 0
    assert b'"Name":"n1"' in result.std_out
    assert ntlm_server.stats.encrypted_requests >= 4


def test_ntlm_wrong_password_is_401(ntlm_server: WSManServer, machine: FakeMachine) -> None:
    with (
        pytest.raises(AuthenticationError),
        ntlm_wsman(ntlm_server, password="wrong") as wsman,
        RunspacePool(wsman),
    ):
        pass
    session = winrm.Session(ntlm_server.url, auth=(USER, "wrong"), transport="ntlm")
    with pytest.raises(winrm.exceptions.InvalidCredentialsError):
        session.run_cmd("dir")
    assert machine.calls == []


def test_basic_wrong_password_and_unknown_user(basic_server: WSManServer) -> None:
    with (
        pytest.raises(AuthenticationError),
        basic_wsman(basic_server, password="nope") as wsman,
        RunspacePool(wsman),
    ):
        pass
    session = winrm.Session(basic_server.url, auth=("root", PASSWORD), transport="basic")
    with pytest.raises(winrm.exceptions.InvalidCredentialsError):
        session.run_cmd("dir")
    assert basic_server.stats.by_action == {}  # refused before any WSMan action


def test_basic_server_refuses_ntlm_and_offers_basic(basic_server: WSManServer) -> None:
    reply = requests.post(basic_server.url, data=b"", timeout=5)
    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"] == 'Basic realm="WSMAN"'
    assert reply.headers["Server"] == "aksnet-lab-wsman"
    with pytest.raises(AuthenticationError), ntlm_wsman(basic_server) as wsman, RunspacePool(wsman):
        pass


def test_any_offers_both(machine: FakeMachine) -> None:
    with WSManServer(machine, users=USERS, auth="any") as server:
        reply = requests.post(server.url, data=b"", timeout=5)
        offers = reply.headers["WWW-Authenticate"]
        assert "Negotiate" in offers and "Basic" in offers
        for wsman in (basic_wsman(server), ntlm_wsman(server)):
            with wsman, RunspacePool(wsman) as pool:
                ps = PowerShell(pool)
                ps.add_cmdlet("Get-Item")
                assert len(ps.invoke()) == 1


def test_https_with_ca_validation(tls_server: WSManServer, tmp_path: Path) -> None:
    assert tls_server.url.startswith("https://127.0.0.1:")
    ca = tls_server.ca_path
    assert ca is not None and ca.is_file()
    wsman = WSMan(
        "127.0.0.1",
        port=tls_server.port,
        username=USER,
        password=PASSWORD,
        ssl=True,
        auth="basic",
        cert_validation=str(ca),  # type: ignore[arg-type]  # pypsrp takes a CA path too
        operation_timeout=5,
        read_timeout=10,
    )
    with wsman, RunspacePool(wsman) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-Item").add_parameter("Name", "tls")
        assert ps.invoke()[0].extended_properties["Command"] == "Get-Item"
    session = winrm.Session(
        tls_server.url,
        auth=(USER, PASSWORD),
        transport="basic",
        server_cert_validation="validate",
        ca_trust_path=str(ca),
    )
    assert session.run_ps(render_script([Cmdlet.of("Get-Item")])).status_code == 0
    key = tmp_path / "tls" / "server-key.pem"
    assert os.stat(key).st_mode & 0o077 == 0


def test_https_untrusted_without_ca(tls_server: WSManServer) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.post(tls_server.url, data=b"", timeout=5, verify=True)
    context = ssl.create_default_context(cafile=str(tls_server.ca_path))
    assert context.get_ca_certs()[0]["subject"]  # the CA file is a usable trust anchor


def test_ntlm_user_file_is_private_and_removed(machine: FakeMachine) -> None:
    server = WSManServer(machine, users=USERS, auth="ntlm")
    assert server._auth.ntlm_user_file is None  # nothing is written before start()
    server.start()
    try:
        path = server._auth.ntlm_user_file
        assert path is not None and os.stat(path).st_mode & 0o077 == 0
        assert os.environ.get("NTLM_USER_FILE") != str(path)  # set only during acceptor steps
    finally:
        server.stop()
    assert not path.exists()


def test_password_not_in_repr(basic_server: WSManServer) -> None:
    assert PASSWORD not in repr(basic_server)
    assert PASSWORD not in basic_server.banner
