"""Secrets that let a node join a cluster: the kubeadm bootstrap token and certificate key.

Both are kept out of repr, str and logs (DESIGN principle 6): they are shown only as
``<N characters>``; the raw value is read through ``reveal()``, at the one place that writes it
to the node.
"""

from __future__ import annotations

import re
import secrets
import string

from aksnet.errors import InvalidInput, mask

# kubeadm's bootstrap token format: "[a-z0-9]{6}.[a-z0-9]{16}" (token id . token secret).
_TOKEN = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")
_CERTIFICATE_KEY = re.compile(r"^[0-9a-f]{64}$")  # hex of a 32-byte AES key
_TOKEN_ALPHABET = string.ascii_lowercase + string.digits


class Secret:
    """A secret string that never shows itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({mask(self._value)})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret) or type(other) is not type(self):
            return NotImplemented
        return secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._value))


class JoinToken(Secret):
    """A kubeadm bootstrap token (``abcdef.0123456789abcdef``)."""

    __slots__ = ()

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not _TOKEN.match(value):
            raise InvalidInput(
                "token",
                str(value),
                "a bootstrap token is 6 then 16 lowercase letters or digits, joined by a dot.",
                secret=True,
            )
        super().__init__(value)

    @classmethod
    def generate(cls) -> JoinToken:
        token_id = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(6))
        token_secret = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(16))
        return cls(f"{token_id}.{token_secret}")

    @property
    def token_id(self) -> str:
        """The public half (the Secret's name in kube-system), safe to show."""
        return self._value.split(".", 1)[0]


class CertificateKey(Secret):
    """The key that encrypts control-plane certificates uploaded for joining control planes."""

    __slots__ = ()

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not _CERTIFICATE_KEY.match(value):
            raise InvalidInput(
                "certificateKey",
                str(value),
                "a certificate key is 64 lowercase hex digits (a 32-byte AES key).",
                secret=True,
            )
        super().__init__(value)

    @classmethod
    def generate(cls) -> CertificateKey:
        return cls(secrets.token_hex(32))
