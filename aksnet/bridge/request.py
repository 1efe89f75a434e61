"""Parsing one bridge request: protocol version, command, parameters, whatIf and credential.

Every problem becomes a BadRequest that names the field, the value and what is allowed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aksnet.bridge.schema import JSON_TYPES, PROTOCOL_VERSION, REQUEST_SCHEMA, CommandSchema, Param
from aksnet.errors import mask

if TYPE_CHECKING:
    from aksnet.remote.base import Credential


class BadRequest(Exception):
    """The request breaks the protocol: answered with an error line and EXIT_BAD_REQUEST."""

    def __init__(self, error_id: str, message: str, target: str | None = None) -> None:
        self.error_id = error_id
        self.target = target
        super().__init__(message)


REQUEST_FIELDS = ("protocol", "command", "parameters", "whatIf", "credential")
CREDENTIAL_FIELDS = ("username", "password")


@dataclass(frozen=True)
class Request:
    command: str
    parameters: dict[str, Any]
    what_if: bool = False
    credential: Credential | None = None  # the shared contract; password never in repr


def parse_request(text: str) -> Request:
    """The validated request; BadRequest names what is wrong and what is allowed."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise BadRequest("InvalidJson", f"The request is not valid JSON: {err.msg}.") from None
    if not isinstance(data, dict):
        raise BadRequest("InvalidRequest", "The request must be a JSON object.")
    unknown = sorted(set(data) - set(REQUEST_FIELDS))
    if unknown:
        raise BadRequest("InvalidRequest", f"Unknown request fields: {', '.join(unknown)}.")
    if data.get("protocol") != PROTOCOL_VERSION:
        raise BadRequest(
            "UnsupportedProtocol",
            f"Protocol version {data.get('protocol')!r} is not supported; this bridge speaks "
            f"version {PROTOCOL_VERSION}.",
            "protocol",
        )
    command = data.get("command")
    schema = REQUEST_SCHEMA.get(command) if isinstance(command, str) else None
    if schema is None or not isinstance(command, str):
        raise BadRequest(
            "UnknownCommand",
            f"Unknown command {command!r}; known: {', '.join(sorted(REQUEST_SCHEMA))}.",
            str(command),
        )
    what_if = data.get("whatIf", False)
    if not isinstance(what_if, bool) or (what_if and not schema.what_if):
        raise BadRequest("InvalidWhatIf", f"{command} does not take whatIf={what_if!r}.")
    parameters = check_parameters(command, schema, data.get("parameters", {}))
    credential = _parse_credential(command, schema, data.get("credential"))
    return Request(command, parameters, what_if, credential)


def check_parameters(command: str, schema: CommandSchema, given: object) -> dict[str, Any]:
    """Parameters keyed by their schema spelling (PowerShell names are case-insensitive)."""
    if not isinstance(given, dict):
        raise BadRequest("InvalidRequest", "The request's parameters must be a JSON object.")
    by_lower = {name.lower(): name for name in schema.parameters}
    checked: dict[str, Any] = {}
    for key, value in given.items():
        name = by_lower.get(key.lower())
        if name is None:
            allowed = ", ".join(schema.parameters) or "none"
            raise BadRequest(
                "UnknownParameter",
                f"{command} has no parameter '{key}'; its parameters are: {allowed}.",
                key,
            )
        _check_type(name, value, schema.parameters[name])
        checked[name] = value
    missing = [n for n, p in schema.parameters.items() if p.required and n not in checked]
    if missing:
        raise BadRequest(
            "MissingParameter",
            f"{command} needs the parameter(s): {', '.join(missing)}.",
            missing[0],
        )
    return checked


def _check_type(name: str, value: object, param: Param) -> None:
    if value is None and not param.required:
        return
    if not any(JSON_TYPES[t](value) for t in param.types):
        raise BadRequest(
            "InvalidParameterType",
            f"Parameter '{name}': the value {value!r} is a JSON {_json_type(value)}; "
            f"allowed: {' or '.join(param.types)}.",
            name,
        )
    if param.items and isinstance(value, list):
        for item in value:
            if not JSON_TYPES[param.items](item):
                raise BadRequest(
                    "InvalidParameterType",
                    f"Parameter '{name}': the item {item!r} is a JSON {_json_type(item)}; "
                    f"allowed: {param.items}.",
                    name,
                )


def _json_type(value: object) -> str:
    for name, matches in JSON_TYPES.items():
        if matches(value):
            return name
    return "null" if value is None else "number"


def _parse_credential(command: str, schema: CommandSchema, given: object) -> Credential | None:
    if given is None:
        return None
    if not schema.credential:
        raise BadRequest("UnexpectedCredential", f"{command} takes no credential.", "credential")
    if not isinstance(given, dict) or set(given) != set(CREDENTIAL_FIELDS):
        raise BadRequest("InvalidCredential", "credential must be {username, password}.")
    username, password = given["username"], given["password"]
    if not isinstance(username, str) or not isinstance(password, str):
        shown = mask(str(password))
        raise BadRequest("InvalidCredential", f"credential needs strings (password {shown}).")
    from aksnet.remote.base import Credential  # only when a request carries one

    return Credential(username, password)
