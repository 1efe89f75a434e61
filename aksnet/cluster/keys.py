"""The keys a cluster keeps across runs, in <store folder>/clusters/<name>/ (owner-only).

A resumed or repeated create must present the same admin key and pin the same host keys it put
into the seeds, or the pinned key would not match; so the keys are written once, before any VM
exists, and read back afterwards. The folder sits beside the store so one AKSNET_HOME (or one
test's temporary store) holds everything about its clusters. known_hosts pins each VM's host key;
the join token and certificate key are kept the same way. Windows VMs get a WinRM TLS
certificate each (winrm_<vm>.pem, pinned as the session's trust anchor, and winrm_<vm>.key) and
share one generated admin password (windows_admin_password): the seeds hold them, so a resumed
run must reuse them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from aksnet.infra.hostkeys import HostKeyPair, fingerprint_of_line, generate_host_key
from aksnet.infra.jointoken import CertificateKey, JoinToken
from aksnet.infra.windowsseed import (
    WinRmCertificate,
    generate_admin_password,
    generate_winrm_certificate,
)
from aksnet.remote.known_hosts import KnownHosts

ADMIN_KEY = "admin_ed25519"
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ClusterKeys:
    """The admin key pair and one host key pair per VM of one cluster."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def beside(cls, store_path: Path, cluster: str) -> ClusterKeys:
        return cls(store_path.parent / "clusters" / cluster.lower())

    @property
    def known_hosts(self) -> KnownHosts:
        return KnownHosts(self._ensure_folder() / "known_hosts")

    def admin(self) -> HostKeyPair:
        return self._pair(ADMIN_KEY)

    def host_key(self, vm: str) -> HostKeyPair:
        if not _SAFE.match(vm):
            raise ValueError(f"unsafe VM name for a key file: {vm!r}")
        return self._pair(f"host_{vm}")

    def winrm_certificate(self, vm: str, address: str | None) -> WinRmCertificate:
        """The VM's WinRM certificate and key, generated once (for this address) and kept."""
        cert, key = self.winrm_certificate_path(vm), self.folder / f"winrm_{vm}.key"
        if cert.exists() and key.exists():
            return WinRmCertificate(cert.read_text(), key.read_text())
        made = generate_winrm_certificate(vm, address)
        folder = self._ensure_folder()
        _write_private(folder / f".winrm_{vm}.key.tmp", made.key_pem, key)
        _write_private(folder / f".winrm_{vm}.pem.tmp", made.cert_pem, cert)
        return made

    def winrm_certificate_path(self, vm: str) -> Path:
        """Where the VM's certificate PEM is kept: the pinned trust anchor of its sessions."""
        if not _SAFE.match(vm):
            raise ValueError(f"unsafe VM name for a key file: {vm!r}")
        return self.folder / f"winrm_{vm}.pem"

    def windows_password(self) -> str:
        """The admin password of the cluster's Windows nodes (generated once, owner-only)."""
        return self._secret("windows_admin_password", generate_admin_password)

    def join_secrets(self) -> tuple[JoinToken, CertificateKey]:
        """The bootstrap token and certificate key, kept so a resumed run joins with the token
        that kubeadm init registered (the token's TTL bounds how late a resume may come)."""
        token = self._secret("join_token", lambda: JoinToken.generate().reveal())
        key = self._secret("certificate_key", lambda: CertificateKey.generate().reveal())
        return JoinToken(token), CertificateKey(key)

    def _secret(self, stem: str, make: Callable[[], str]) -> str:
        path = self.folder / stem
        if path.exists():
            return path.read_text().strip()
        value = make()
        _write_private(self._ensure_folder() / f".{stem}.tmp", value, path)
        return value

    def forget(self) -> None:
        """Remove the folder (the cluster is gone; its keys must not be reused)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def _pair(self, stem: str) -> HostKeyPair:
        private, public = self.folder / stem, self.folder / f"{stem}.pub"
        if private.exists() and public.exists():
            line = public.read_text().strip()
            return HostKeyPair("ed25519", private.read_text(), line, fingerprint_of_line(line))
        pair = generate_host_key("ed25519")
        folder = self._ensure_folder()
        _write_private(folder / f".{stem}.tmp", pair.private_openssh, private)
        public.write_text(pair.public_line + "\n")
        return pair

    def _ensure_folder(self) -> Path:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.folder


def _write_private(tmp: Path, text: str, final: Path) -> None:
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, final)
