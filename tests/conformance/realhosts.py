"""Real hosts for the conformance suite, named by AKSNET_TEST_* environment variables.

Windows (PSRP and WinRM): AKSNET_TEST_WINRM_HOST, AKSNET_TEST_WINRM_USER,
AKSNET_TEST_WINRM_PASSWORD; optional AKSNET_TEST_WINRM_PORT, AKSNET_TEST_WINRM_AUTH (default
negotiate), AKSNET_TEST_WINRM_CA (a CA bundle path; HTTPS with validation is always used).
Linux (SSH): AKSNET_TEST_SSH_HOST, AKSNET_TEST_SSH_USER, AKSNET_TEST_SSH_KEY (a private key
file), AKSNET_TEST_SSH_HOST_KEY (the host's pinned public key line).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from aksnet.remote.base import Credential, Endpoint

WINRM_REQUIRED = ("AKSNET_TEST_WINRM_HOST", "AKSNET_TEST_WINRM_USER", "AKSNET_TEST_WINRM_PASSWORD")
SSH_REQUIRED = (
    "AKSNET_TEST_SSH_HOST",
    "AKSNET_TEST_SSH_USER",
    "AKSNET_TEST_SSH_KEY",
    "AKSNET_TEST_SSH_HOST_KEY",
)


def _require(names: tuple[str, ...], env: Mapping[str, str]) -> None:
    missing = [name for name in names if not env.get(name)]
    if missing:
        pytest.skip(f"real host not configured: set {', '.join(missing)}")


@dataclass(frozen=True)
class RealWindows:
    endpoint: Endpoint
    credential: Credential = field(repr=False)


@dataclass(frozen=True)
class RealLinux:
    host: str
    username: str
    key_path: str
    host_key_line: str


def real_windows(env: Mapping[str, str] = os.environ) -> RealWindows:
    """The Windows host the variables name; skips the test when they are not set."""
    _require(WINRM_REQUIRED, env)
    port = env.get("AKSNET_TEST_WINRM_PORT")
    endpoint = Endpoint(
        host=env["AKSNET_TEST_WINRM_HOST"],
        port=int(port) if port else None,
        ssl=True,
        auth=env.get("AKSNET_TEST_WINRM_AUTH") or "negotiate",
        cert_validation=env.get("AKSNET_TEST_WINRM_CA") or True,
    )
    credential = Credential(env["AKSNET_TEST_WINRM_USER"], env["AKSNET_TEST_WINRM_PASSWORD"])
    return RealWindows(endpoint, credential)


def real_linux(env: Mapping[str, str] = os.environ) -> RealLinux:
    """The Linux host the variables name; skips the test when they are not set."""
    _require(SSH_REQUIRED, env)
    return RealLinux(
        env["AKSNET_TEST_SSH_HOST"],
        env["AKSNET_TEST_SSH_USER"],
        env["AKSNET_TEST_SSH_KEY"],
        env["AKSNET_TEST_SSH_HOST_KEY"],
    )
