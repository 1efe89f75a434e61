"""Bad requests get one clear error line and a documented exit code, never a traceback; a
credential travels on stdin and never shows in the answer; startup imports stay light."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from aksnet.bridge import EXIT_BAD_REQUEST, EXIT_INTERNAL, run
from aksnet.bridge.schema import REQUEST_SCHEMA, CommandSchema
from tests.bridge.conftest import Answer, Bridge, bridge_env

RawBridge = Callable[[str], Answer]


def assert_bad_request(answer: Answer, error_id: str, *words: str) -> None:
    assert answer.exit_code == EXIT_BAD_REQUEST
    assert answer.error["errorId"] == error_id
    assert answer.error["category"] == "InvalidArgument"
    for word in words:
        assert word in answer.error["message"]
    assert "Traceback" not in answer.stdout + answer.stderr


@pytest.mark.parametrize(
    ("text", "error_id", "words"),
    [
        ("{not json", "InvalidJson", ["not valid JSON"]),
        ("[1, 2]", "InvalidRequest", ["JSON object"]),
        ("", "InvalidJson", []),
        ('{"protocol": 2, "command": "Get-AksHciVmSize"}', "UnsupportedProtocol", ["2", "1"]),
        ('{"command": "Get-AksHciVmSize"}', "UnsupportedProtocol", ["None"]),
        ('{"protocol": 1, "command": "Get-Nothing"}', "UnknownCommand", ["Get-Nothing"]),
        ('{"protocol": 1, "command": 5}', "UnknownCommand", ["5"]),
        ('{"protocol": 1, "command": "Get-AksHciVmSize", "x": 1}', "InvalidRequest", ["x"]),
        ('{"protocol": 1, "command": "Get-AksHciVmSize", "parameters": []}', "InvalidRequest", []),
    ],
)
def test_malformed_requests(
    raw_bridge: RawBridge, text: str, error_id: str, words: list[str]
) -> None:
    assert_bad_request(raw_bridge(text), error_id, *words)


def test_unknown_parameter_names_the_allowed_ones(bridge: Bridge) -> None:
    answer = bridge("Remove-AksHciClusterNetwork", {"name": "a", "force": True})
    assert_bad_request(answer, "UnknownParameter", "'force'", "name")
    assert answer.error["targetObject"] == "force"


def test_mistyped_parameter_names_value_and_allowed_type(bridge: Bridge) -> None:
    answer = bridge("Get-AksHciClusterNetwork", {"name": 5})
    assert_bad_request(answer, "InvalidParameterType", "'name'", "5", "string")
    items = bridge("New-AksHciNetworkSetting", {"name": "a", "dnsServers": [1]})
    assert_bad_request(items, "InvalidParameterType", "dnsServers", "string")
    boolean = bridge("New-AksHciClusterNetwork", {"name": "a", "vlanID": True})
    assert_bad_request(boolean, "InvalidParameterType", "vlanID", "integer")


def test_missing_required_parameter(bridge: Bridge) -> None:
    answer = bridge("New-AksHciClusterNetwork", {"name": "a"})
    assert_bad_request(answer, "MissingParameter", "vswitchName", "vipPoolStart")


def test_parameter_names_are_case_insensitive_like_powershell(bridge: Bridge) -> None:
    answer = bridge("Get-AksNetPlugin", {"NAME": "calico"})
    assert answer.exit_code == 0 and answer.results[0]["Name"] == "calico"


def test_what_if_only_where_the_cmdlet_supports_it(bridge: Bridge) -> None:
    assert_bad_request(bridge("Get-AksHciVmSize", what_if=True), "InvalidWhatIf")
    assert_bad_request(bridge("Get-AksHciConfig", what_if="yes"), "InvalidWhatIf")


def test_a_credential_never_shows_in_the_answer(bridge: Bridge) -> None:
    secret = "S3cr3t-Pa55word"
    credential = {"username": "admin", "password": secret}
    refused = bridge("Get-AksHciVmSize", credential=credential)
    assert_bad_request(refused, "UnexpectedCredential")
    malformed = bridge("Get-AksHciVmSize", credential={"username": "a", "password": 5})
    assert malformed.exit_code == EXIT_BAD_REQUEST
    for answer in (refused, malformed):
        assert secret not in answer.stdout + answer.stderr


def test_a_credential_reaches_a_command_that_takes_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """No covered cmdlet takes one yet: a schema entry and a handler stand in for a later one."""
    from aksnet.bridge import commands
    from aksnet.bridge import request as request_module

    seen = []
    schema = {**REQUEST_SCHEMA, "Test-Credential": CommandSchema({}, credential=True)}
    monkeypatch.setattr(request_module, "REQUEST_SCHEMA", schema)
    handlers = {**commands.HANDLERS, "Test-Credential": lambda r, out: seen.append(r.credential)}
    monkeypatch.setattr(commands, "HANDLERS", handlers)
    out = io.StringIO()
    text = json.dumps(
        {
            "protocol": 1,
            "command": "Test-Credential",
            "credential": {"username": "admin", "password": "pw-123456"},
        }
    )
    assert run(text, out) == 0
    assert seen[0].username == "admin" and seen[0].password == "pw-123456"
    assert "pw-123456" not in repr(seen[0]) and out.getvalue() == ""


def test_a_bug_is_an_error_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from aksnet.bridge import commands

    def broken(request: object, out: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(commands, "HANDLERS", {**commands.HANDLERS, "Get-AksHciVmSize": broken})
    out = io.StringIO()
    assert run('{"protocol": 1, "command": "Get-AksHciVmSize"}', out) == EXIT_INTERNAL
    [line] = [json.loads(x) for x in out.getvalue().splitlines()]
    assert line["errorId"] == "InternalError" and "Traceback" not in line["message"]


def test_every_line_is_one_json_object(bridge: Bridge) -> None:
    answer = bridge("Get-AksHciVmSize")
    assert len(answer.stdout.splitlines()) == len(answer.lines) > 0


HEAVY = ("kubernetes", "pypsrp", "paramiko", "psrpcore", "spnego", "jinja2", "cryptography")


def test_startup_imports_no_heavy_modules(tmp_path: Path) -> None:
    """python -X importtime on a Get-AksHciClusterNetwork call: no remoting or template stack."""
    request = json.dumps({"protocol": 1, "command": "Get-AksHciClusterNetwork"})
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "aksnet.bridge"],
        input=request,
        capture_output=True,
        text=True,
        env=bridge_env(tmp_path),
        timeout=60,
        check=True,
    )
    imported = {
        line.split("|")[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "aksnet.state.store" in imported  # the measurement sees the command's own imports
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert heavy == []
    assert not any(m.startswith(("aksnet.remote", "aksnet.lab", "aksnet.infra")) for m in imported)
