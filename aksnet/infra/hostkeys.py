"""SSH host key pairs that aksnet generates and injects into VMs through cloud-init.

aksnet knows each VM's host key fingerprint before the first connection, so host keys are pinned,
never trusted on first use (DESIGN principle 6). The private half is a secret: it is kept out of
repr and str, and never logged.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass, field
from typing import Literal

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from aksnet.errors import InvalidInput

KeyAlgorithm = Literal["ed25519", "rsa"]
ALGORITHMS: tuple[KeyAlgorithm, ...] = ("ed25519", "rsa")
_RSA_BITS = 3072


@dataclass(frozen=True)
class HostKeyPair:
    """One generated key pair: OpenSSH private key text, public key line and SHA256 fingerprint."""

    algorithm: KeyAlgorithm
    private_openssh: str = field(repr=False)
    public_line: str
    fingerprint: str

    def __repr__(self) -> str:
        return (
            f"HostKeyPair(algorithm={self.algorithm!r}, fingerprint={self.fingerprint!r}, "
            f"private_openssh=<{len(self.private_openssh)} characters>)"
        )

    __str__ = __repr__

    @property
    def key_type(self) -> str:
        """The SSH key type name, as in the public line: ``ssh-ed25519`` or ``ssh-rsa``."""
        return self.public_line.split(" ", 1)[0]

    def to_paramiko(self) -> paramiko.PKey:
        """The private key as a paramiko key (for a client key or a test server)."""
        key_class = paramiko.Ed25519Key if self.algorithm == "ed25519" else paramiko.RSAKey
        return key_class.from_private_key(io.StringIO(self.private_openssh))

    def public_key(self) -> paramiko.PKey:
        """The public half as a paramiko key."""
        return public_key_from_line(self.public_line)


def generate_host_key(algorithm: KeyAlgorithm = "ed25519", *, comment: str = "") -> HostKeyPair:
    """Generate a new key pair (ed25519 by default; RSA 3072 bits when asked)."""
    private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
    if algorithm == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    elif algorithm == "rsa":
        private = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
    else:
        raise InvalidInput("algorithm", algorithm, f"use one of {ALGORITHMS}.")
    private_text = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_line = (
        private.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode("ascii")
    )
    if comment:
        public_line = f"{public_line} {comment}"
    return HostKeyPair(algorithm, private_text, public_line, fingerprint_of_line(public_line))


def fingerprint_of_blob(blob: bytes) -> str:
    """OpenSSH's SHA256 fingerprint of a public key blob: ``SHA256:`` + unpadded base64."""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii")
    return "SHA256:" + digest.rstrip("=")


def fingerprint_of_key(key: paramiko.PKey) -> str:
    """The SHA256 fingerprint of a paramiko key (public or private)."""
    return fingerprint_of_blob(key.asbytes())


def fingerprint_of_line(public_line: str) -> str:
    """The SHA256 fingerprint of an OpenSSH public key line (``type base64 [comment]``)."""
    return fingerprint_of_blob(_blob_of_line(public_line))


def public_key_from_line(public_line: str) -> paramiko.PKey:
    """Parse an OpenSSH public key line into a paramiko key."""
    key_type = public_line.split(" ", 1)[0]
    blob = _blob_of_line(public_line)
    try:
        return paramiko.PKey.from_type_string(key_type, blob)
    except (paramiko.SSHException, ValueError) as error:
        raise InvalidInput(
            "public_key", public_line, f"give a supported SSH public key ({error})."
        ) from error


def public_line_of_key(key: paramiko.PKey) -> str:
    """The OpenSSH public line (``type base64``) of a paramiko key."""
    return f"{key.get_name()} {key.get_base64()}"


def _blob_of_line(public_line: str) -> bytes:
    parts = public_line.split()
    if len(parts) < 2:
        raise InvalidInput(
            "public_key",
            public_line,
            "give an OpenSSH public key line ('type base64 [comment]').",
        )
    try:
        return base64.b64decode(parts[1], validate=True)
    except ValueError as error:
        raise InvalidInput(
            "public_key", public_line, "give a key field in valid base64."
        ) from error
