"""Get-AksHciCredential: the cluster's admin kubeconfig, fetched and written owner-only.

The kubeconfig is /etc/kubernetes/admin.conf on the first control plane (`<cluster>-cp-0`),
read over SSH with the cluster's admin key and the VM's pinned host key (`sudo -n cat`). It is
written to `<configPath>/config` (default ~/.kube/config, as kubectl reads it) atomically: a
0600 temporary file in the same folder, flushed, then renamed over the target; the folder is
created 0700 when missing.

Overwriting: AksHci overwrites the file silently. aksnet writes when the file is absent or
already holds this kubeconfig (unchanged then), and refuses to replace a file with other content
(it may hold other clusters' credentials) unless `overwrite=True` (the CLI's --force; the
PowerShell cmdlet asks through ShouldProcess, -Confirm:$false or -Force skips the question).

The content never appears in logs, errors or results: only its path, size and API server.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aksnet.cluster.create import CreateOptions
from aksnet.cluster.hosts import HostConnections
from aksnet.cluster.keys import ClusterKeys
from aksnet.cluster.scale import first_control_plane
from aksnet.errors import ProtocolError, RemoteCommandFailed, StateConflict
from aksnet.remote.ssh import SSHSession
from aksnet.state.store import Store

log = logging.getLogger(__name__)

ADMIN_CONF = "/etc/kubernetes/admin.conf"


@dataclass(frozen=True)
class CredentialResult:
    name: str
    path: Path
    server: str | None
    changed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "Path": str(self.path),
            "Server": self.server,
            "Changed": self.changed,
        }


def default_config_dir() -> Path:
    return Path.home() / ".kube"


def get_credential(
    store: Store,
    name: str,
    *,
    config_path: Path | str | None = None,
    overwrite: bool = False,
    admin_user: str = CreateOptions.admin_user,
    hosts: HostConnections | None = None,
) -> CredentialResult:
    """Get-AksHciCredential -name [-configPath]: write `<configPath>/config` (0600). hosts:
    where a DHCP cluster's first control plane reports its address (not needed otherwise)."""
    spec = store.get_cluster(name)  # NotFound first
    target = Path(config_path or default_config_dir()).expanduser() / "config"
    keys = ClusterKeys.beside(store.path, spec.name)
    first = first_control_plane(store, spec, keys, admin_user, hosts)
    try:
        data = _fetch(first.shell, first.name)
    finally:
        first.shell.close()
    server = _server_of(data, first.name)
    changed = _write(target, data, overwrite=overwrite)
    log.debug("kubeconfig of %s (%d bytes) %s", name, len(data), "written" if changed else "same")
    return CredentialResult(spec.name, target, server, changed)


def _fetch(shell: SSHSession, node: str) -> bytes:
    result = shell.run(["sudo", "-n", "cat", ADMIN_CONF], check=False)
    if result.exit_status != 0:  # stdout left out on purpose: it could hold a partial file
        raise RemoteCommandFailed(
            node,
            f"sudo -n cat {ADMIN_CONF}",
            exit_status=result.exit_status,
            stderr=result.stderr.decode("utf-8", "replace"),
        )
    return bytes(result.stdout)


def _server_of(data: bytes, node: str) -> str | None:
    """The API server of the kubeconfig's first cluster; a file that is not YAML is refused
    without quoting it."""
    try:
        document = yaml.safe_load(data)
        return str(document["clusters"][0]["cluster"]["server"])
    except (yaml.YAMLError, KeyError, IndexError, TypeError):
        # from None: a YAML error quotes the text around the problem, and that text is secret
        raise ProtocolError(node, f"{ADMIN_CONF} is not a kubeconfig") from None


def _write(target: Path, data: bytes, *, overwrite: bool) -> bool:
    """Write atomically with mode 0600; False when the file already holds data."""
    if target.exists():
        if target.read_bytes() == data:
            os.chmod(target, 0o600)
            return False
        if not overwrite:
            raise StateConflict(
                f"{target} exists and holds another kubeconfig; not replaced. Give another "
                "configPath, or overwrite it (--force; -Confirm:$false in PowerShell).",
                target=str(target),
            )
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".config-", dir=target.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True
