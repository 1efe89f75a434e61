"""HTTP authentication of the lab WSMan server: Basic, and NTLM with WinRM message encryption.

NTLM is accepted by pyspnego (``spnego.server``). Its NTLM acceptor looks up the client's
password hash in the file named by the environment variable NTLM_USER_FILE when it checks the
Authenticate message. The variable is process-wide, so each server writes its own user file
(mode 0600, in a temporary directory it owns) and every acceptor step runs under one lock with the
variable pointing at that server's file. Passwords are never logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import os
import re
import shutil
import struct
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spnego
import spnego.exceptions

log = logging.getLogger(__name__)

AUTH_MODES = ("basic", "ntlm", "any")
SPNEGO_ENCRYPTED = "application/HTTP-SPNEGO-session-encrypted"
BOUNDARY = "Encrypted Boundary"
ENCRYPTED_CONTENT_TYPE = f'multipart/encrypted;protocol="{SPNEGO_ENCRYPTED}";boundary="{BOUNDARY}"'
_NTLM_ENV = "NTLM_USER_FILE"
_ntlm_env_lock = threading.Lock()
_live_user_files: set[Path] = set()  # guarded by _ntlm_env_lock
_TOKEN = re.compile(r"^(Negotiate|NTLM|Basic)\s+(\S+)\s*$", re.IGNORECASE)


class EncryptionError(ValueError):
    """An encrypted request that cannot be decrypted on this connection."""


@dataclass
class Verdict:
    """The outcome of checking one request's credentials."""

    ok: bool
    user: str | None = None
    reply_token: str | None = None  # WWW-Authenticate value to send back (an auth leg or final)


class NtlmUserFile:
    """The NTLM credential file of one server: DOMAIN:USER:PASSWORD lines, domain left empty."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="aksnet-wsman-ntlm-"))
        self.path = self._dir / "users"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for user, password in users.items():
                handle.write(f":{user}:{password}\n")
        with _ntlm_env_lock:
            _live_user_files.add(self.path)

    @contextmanager
    def active(self) -> Iterator[None]:
        """Point NTLM_USER_FILE at this file while an acceptor step runs."""
        with _ntlm_env_lock:
            previous = os.environ.get(_NTLM_ENV)
            os.environ[_NTLM_ENV] = str(self.path)
            try:
                yield
            finally:
                if previous is None:
                    os.environ.pop(_NTLM_ENV, None)
                else:
                    os.environ[_NTLM_ENV] = previous

    def remove(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)
        with _ntlm_env_lock:
            _live_user_files.discard(self.path)


def live_user_files() -> set[Path]:
    """NTLM user files of this process not yet removed (servers started and not stopped)."""
    with _ntlm_env_lock:
        return set(_live_user_files)


class ConnectionAuth:
    """Authentication state of one keep-alive TCP connection (NTLM is connection-bound)."""

    def __init__(self) -> None:
        self.context: Any = None  # spnego.ContextProxy of a running or finished NTLM handshake
        self.user: str | None = None

    @property
    def encrypting(self) -> bool:
        return self.context is not None and self.context.complete

    def reset(self) -> None:
        self.context = None
        self.user = None


class Authenticator:
    """Checks the Authorization header of each request against the server's users."""

    def __init__(self, users: Mapping[str, str], mode: str) -> None:
        if mode not in AUTH_MODES:
            raise ValueError(f"auth {mode!r} is not one of {', '.join(AUTH_MODES)}")
        if not users:
            raise ValueError("users must name at least one user (user -> password)")
        self.mode = mode
        self._users = {u.lower(): (u, p) for u, p in users.items()}
        self._ntlm_file: NtlmUserFile | None = None  # written by open(), removed by close()

    def open(self) -> None:
        """Write the NTLM user file (when NTLM is offered); the server calls this on start."""
        if self.mode in ("ntlm", "any") and self._ntlm_file is None:
            self._ntlm_file = NtlmUserFile({u: p for u, p in self._users.values()})

    @property
    def ntlm_user_file(self) -> Path | None:
        return self._ntlm_file.path if self._ntlm_file is not None else None

    def challenges(self) -> list[str]:
        """WWW-Authenticate values offered on a 401, in WinRM's order."""
        offers = []
        if self.mode in ("ntlm", "any"):
            offers.append("Negotiate")
        if self.mode in ("basic", "any"):
            offers.append('Basic realm="WSMAN"')
        return offers

    def check(self, header: str | None, conn: ConnectionAuth) -> Verdict:
        if not header:
            # after an NTLM handshake the connection stays authenticated (no header is resent)
            return Verdict(conn.encrypting, conn.user)
        match = _TOKEN.match(header)
        if match is None:
            return Verdict(False)
        scheme, token = match.group(1).lower(), match.group(2)
        if scheme == "basic":
            return self._check_basic(token) if self.mode in ("basic", "any") else Verdict(False)
        if self.mode not in ("ntlm", "any") or self._ntlm_file is None:
            return Verdict(False)
        return self._step_ntlm(token, conn)

    def _check_basic(self, token: str) -> Verdict:
        try:
            user, _, password = (
                base64.b64decode(token, validate=True).decode("utf-8").partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            return Verdict(False)
        known = self._users.get(user.lower())
        if known is None or not hmac.compare_digest(known[1].encode(), password.encode()):
            log.debug("basic authentication refused for user %r", user)
            return Verdict(False)
        return Verdict(True, known[0])

    def _step_ntlm(self, token: str, conn: ConnectionAuth) -> Verdict:
        assert self._ntlm_file is not None
        try:
            data = base64.b64decode(token, validate=True)
        except binascii.Error:
            return Verdict(False)
        if conn.context is None or conn.context.complete:
            conn.reset()  # a new handshake on this connection starts over
            with self._ntlm_file.active():
                conn.context = spnego.server(protocol="negotiate")
        try:
            with self._ntlm_file.active():
                reply = conn.context.step(data)
        except spnego.exceptions.SpnegoError as exc:
            log.debug("NTLM authentication refused: %s", type(exc).__name__)
            conn.reset()
            return Verdict(False)
        reply_token = "Negotiate " + base64.b64encode(reply).decode() if reply else None
        if not conn.context.complete:
            return Verdict(False, reply_token=reply_token)
        principal = str(conn.context.client_principal or "").rpartition("\\")[2]
        known = self._users.get(principal.lower())
        if known is None:
            conn.reset()
            return Verdict(False)
        conn.user = known[0]
        return Verdict(True, known[0], reply_token)

    def close(self) -> None:
        if self._ntlm_file is not None:
            self._ntlm_file.remove()
            self._ntlm_file = None


def unwrap(body: bytes, conn: ConnectionAuth) -> bytes:
    """Decrypt a multipart/encrypted request body with the connection's NTLM context."""
    if not conn.encrypting:
        raise EncryptionError("encrypted request on a connection without an NTLM session")
    boundary = re.escape(BOUNDARY.encode())
    parts = [p for p in re.split(b"--\\s*" + boundary + b"(?:--)?\r\n", body) if p]
    message = b""
    for header, payload in zip(parts[0::2], parts[1::2], strict=False):
        length_text = header.split(b"Length=")[-1].strip()
        blob = payload.replace(b"\tContent-Type: application/octet-stream\r\n", b"", 1)
        if len(blob) < 4:
            raise EncryptionError("encrypted part is too short")
        header_len = struct.unpack("<i", blob[:4])[0]
        signature, sealed = blob[4 : 4 + header_len], blob[4 + header_len :]
        plain = bytes(conn.context.unwrap_winrm(signature, sealed))
        if not length_text.isdigit() or len(plain) != int(length_text):
            raise EncryptionError("decrypted length does not match the announced length")
        message += plain
    return message


def wrap(message: bytes, conn: ConnectionAuth) -> bytes:
    """Encrypt a response body the way WinRM does (one part; SPNEGO/NTLM sealing)."""
    signature, sealed, padding = conn.context.wrap_winrm(message)
    signature, sealed = bytes(signature), bytes(sealed)
    blob = struct.pack("<i", len(signature)) + signature + sealed
    head = "\r\n".join(
        [
            f"--{BOUNDARY}",
            f"\tContent-Type: {SPNEGO_ENCRYPTED}",
            "\tOriginalContent: type=application/soap+xml;charset=UTF-8;"
            f"Length={len(message) + padding}",
            f"--{BOUNDARY}",
            "\tContent-Type: application/octet-stream",
            "",
        ]
    )
    return bytes(head.encode() + blob + f"--{BOUNDARY}--\r\n".encode())
