"""aksnet's own known_hosts file: the host keys it generated, pinned before the first connection.

The file is in OpenSSH format (``host key-type base64``, ``[host]:port`` for ports other than 22),
so ``ssh -o UserKnownHostsFile=<path>`` trusts exactly the same keys. A host with no pinned key is
refused unless the caller opted in to trust on first use (DESIGN principle 6); a host presenting
another key raises HostKeyMismatch naming both fingerprints. Writes are atomic and the file is
mode 0600.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path

import paramiko

from aksnet.errors import AuthenticationFailed, HostKeyMismatch, InvalidInput
from aksnet.infra.hostkeys import (
    fingerprint_of_key,
    public_key_from_line,
    public_line_of_key,
)

log = logging.getLogger(__name__)

_FORBIDDEN_IN_HOST = set(" \t\r\n,[]*?!#@")


def host_pattern(host: str, port: int = 22) -> str:
    """The OpenSSH known_hosts name of host:port."""
    _check_host(host, port)
    return host if port == 22 else f"[{host}]:{port}"


class KnownHosts:
    """An aksnet-managed known_hosts file. Thread-safe; re-read on every lookup."""

    def __init__(self, path: str | os.PathLike[str], *, trust_on_first_use: bool = False) -> None:
        self.path = Path(path)
        self.trust_on_first_use = trust_on_first_use
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KnownHosts({str(self.path)!r}, trust_on_first_use={self.trust_on_first_use})"

    def pin(self, host: str, port: int, public_key: paramiko.PKey | str) -> str:
        """Pin public_key (a paramiko key or an OpenSSH public line) for host:port.

        Replaces any key pinned before for that host:port. Returns the key's fingerprint.
        """
        key = public_key_from_line(public_key) if isinstance(public_key, str) else public_key
        name = host_pattern(host, port)
        with self._lock:
            entries = [e for e in self._read() if e[0] != name]
            entries.append((name, public_line_of_key(key)))
            self._write(entries)
        fingerprint = fingerprint_of_key(key)
        log.debug("pinned host key %s for %s in %s", fingerprint, name, self.path)
        return fingerprint

    def unpin(self, host: str, port: int = 22) -> bool:
        """Forget the key of host:port. Returns whether one was pinned."""
        name = host_pattern(host, port)
        with self._lock:
            entries = self._read()
            kept = [e for e in entries if e[0] != name]
            if len(kept) == len(entries):
                return False
            self._write(kept)
        log.debug("unpinned host key of %s in %s", name, self.path)
        return True

    def pinned_key(self, host: str, port: int = 22) -> paramiko.PKey | None:
        """The key pinned for host:port, or None."""
        name = host_pattern(host, port)
        with self._lock:
            entries = self._read()
        for entry_name, line in entries:
            if entry_name == name:
                return public_key_from_line(line)
        return None

    def fingerprint(self, host: str, port: int = 22) -> str | None:
        """The SHA256 fingerprint pinned for host:port, or None."""
        key = self.pinned_key(host, port)
        return fingerprint_of_key(key) if key is not None else None

    def verify(self, host: str, port: int, presented: paramiko.PKey) -> None:
        """Accept presented as host:port's key, or raise.

        HostKeyMismatch when another key is pinned; AuthenticationFailed when none is pinned
        (unless trust_on_first_use, which pins the presented key).
        """
        pinned = self.pinned_key(host, port)
        presented_fp = fingerprint_of_key(presented)
        if pinned is None:
            if not self.trust_on_first_use:
                raise AuthenticationFailed(
                    host_pattern(host, port),
                    f"no host key is pinned for this host in {self.path} (the host presented "
                    f"{presented_fp}); aksnet pins the keys it generates and does not trust "
                    "on first use unless asked to",
                )
            log.debug("trusting %s on first use: %s", host_pattern(host, port), presented_fp)
            self.pin(host, port, presented)
            return
        if pinned.asbytes() != presented.asbytes():
            raise HostKeyMismatch(
                host_pattern(host, port), fingerprint_of_key(pinned), presented_fp
            )

    def _read(self) -> list[tuple[str, str]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        entries = []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 3 and not parts[0].startswith(("#", "@")):
                entries.append((parts[0], f"{parts[1]} {parts[2]}"))
        return entries

    def _write(self, entries: list[tuple[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(f"{name} {line}\n" for name, line in entries)
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def _check_host(host: str, port: int) -> None:
    if not isinstance(host, str) or not host or _FORBIDDEN_IN_HOST & set(host):
        raise InvalidInput(
            "host",
            host,
            "give a host name or address without spaces, commas, brackets or wildcards.",
        )
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise InvalidInput("port", port, "use a TCP port number from 1 to 65535.")
