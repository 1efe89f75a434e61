"""Connection settings for the Hyper-V hosts a cluster operation uses.

Design (the simplest honest one): the hosts are those of the running lab. `aksnet lab up` writes
lab.json (each host's WSMan endpoint and the lab CA) and credentials.json (owner-only) into the
lab directory; `HostConnections.from_lab` reads both, so there is no second copy of the
endpoints or the password to drift. Basic authentication over HTTPS with the lab CA is what the
lab accepts (Endpoint(lab=True)). Real hosts (Kerberos/NTLM, a hosts file in AKSNET_HOME) are
not wired yet: asking for them is refused, not guessed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aksnet.errors import InvalidInput
from aksnet.lab import daemon
from aksnet.remote.base import Credential, Endpoint
from aksnet.remote.psrp import PSRPSession

CREDENTIALS_FILE = "credentials.json"


@dataclass(frozen=True)
class HostConnections:
    """Each Hyper-V host's WSMan endpoint and the credential used for all of them."""

    endpoints: Mapping[str, Endpoint]
    credential: Credential = field(repr=False)
    switch_name: str = "LabSwitch"

    @classmethod
    def from_lab(cls, lab_dir: Path | str | None = None) -> HostConnections:
        """The hosts of the lab running in lab_dir (default: $AKSNET_LAB_DIR or AKSNET_HOME/lab)."""
        folder = Path(lab_dir) if lab_dir is not None else daemon.default_lab_dir()
        status = daemon.read_status(folder)
        if status is None or status.get("state") != "running":
            raise daemon.LabNotRunning(
                f"no lab is running in {folder} (start one with `aksnet lab up`)"
            )
        return cls.from_lab_status(status, folder / CREDENTIALS_FILE)

    @classmethod
    def from_lab_status(cls, status: Mapping[str, Any], credentials: Path) -> HostConnections:
        try:
            secret = json.loads(credentials.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise InvalidInput(
                "labDir", str(credentials.parent), f"its {CREDENTIALS_FILE} is unreadable: {error}"
            ) from None
        windows = set(status.get("windows_nodes", ()))
        endpoints = {
            name: Endpoint(
                host["address"],
                port=int(host["port"]),
                ssl=True,
                auth="basic",
                cert_validation=host["ca_path"],
                lab=True,
            )
            for name, host in status["hosts"].items()
            if name not in windows  # Windows nodes are served beside the Hyper-V hosts
        }
        switch = str(status.get("spec", {}).get("switch_name", "LabSwitch"))
        return cls(endpoints, Credential(secret["username"], secret["password"]), switch)

    def open(self) -> dict[str, PSRPSession]:
        """One PSRP session per host (they connect on first use); the caller closes them."""
        return {name: PSRPSession(ep, self.credential) for name, ep in self.endpoints.items()}


def close_all(sessions: Mapping[str, PSRPSession]) -> None:
    """Close the hosts' sessions at once (close_together)."""
    close_together((name, session.close) for name, session in sessions.items())


def close_together(closers: Iterable[tuple[str, Callable[[], None]]]) -> None:
    """Run each (name, close) in a thread of its own and wait for all: closing a session is a
    round trip to its host (WSMan Delete), and one after another they cost a round trip each
    of wall time. The sessions' close never raises (PSRPSession closes quietly)."""
    threads = [
        threading.Thread(target=close, name=f"aksnet-close-{name}", daemon=True)
        for name, close in closers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
