"""Secrets that let a node join a cluster: the kubeadm bootstrap token and certificate key.

Both are kept out of repr, str and logs (DESIGN principle 6): they are shown only as
``<N characters>``; the raw value is read through ``reveal()``, at the one place that writes it
to the node.

Also the decisions a resumed run needs before a join (pure functions of `kubeadm token list`):
is the join token still there and valid, and is an upload of the control-plane certificates
younger than kubeadm's 2 hours.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

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


# Join secrets on resume: a join may come hours after init (a resumed run), when the bootstrap
# token has expired and kubeadm has deleted the uploaded control-plane certificates (2 hours after
# upload). `kubeadm token list -o json` on the first control plane shows both: the join token and
# the token kubeadm creates as the owner of the kubeadm-certs Secret, which expires with it.

TOKEN_RENEWAL_TTL = "24h"
CERTS_PROXY_DESCRIPTION = "Proxy for managing TTL for the kubeadm-certs secret"
CERTIFICATE_LIFETIME = timedelta(hours=2)  # kubeadm's certsphase.certsTTL
# A secret that expires within this margin is renewed first: joins of a large cluster take time.
RENEWAL_MARGIN = timedelta(minutes=15)


@dataclass(frozen=True)
class TokenInfo:
    """One bootstrap token as listed, without its secret half; expires None: never expires."""

    token_id: str
    expires: datetime | None
    description: str = ""

    def valid_at(self, when: datetime) -> bool:
        return self.expires is None or self.expires > when


def parse_token_list(text: str) -> tuple[TokenInfo, ...]:
    """`kubeadm token list -o json`: one BootstrapToken object per token, one after another (or
    a List of them). Each token's secret half is dropped here, at once; a malformed listing is
    refused without echoing it (it holds token secrets)."""
    decoder, at = json.JSONDecoder(), 0
    found: list[dict[str, Any]] = []
    try:
        while at < len(text):
            if text[at].isspace():
                at += 1
                continue
            item, at = decoder.raw_decode(text, at)
            found.extend(item.get("items", []) if item.get("kind") == "List" else [item])
        return tuple(_token_info(item) for item in found)
    except (ValueError, AttributeError, TypeError, KeyError):
        raise InvalidInput(
            "tokenList",
            "<kubeadm token list output>",
            "kubeadm token list -o json must print BootstrapToken objects with a token field.",
        ) from None


def _token_info(item: dict[str, Any]) -> TokenInfo:
    token_id = str(item["token"]).split(".", 1)[0]
    expires = item.get("expires")
    when = datetime.fromisoformat(str(expires).replace("Z", "+00:00")) if expires else None
    return TokenInfo(token_id, when, str(item.get("description") or ""))


def token_renewal_reason(
    tokens: tuple[TokenInfo, ...], token: JoinToken, now: datetime
) -> str | None:
    """Why the join token must be (re)created before a join, or None when it is good."""
    mine = [t for t in tokens if t.token_id == token.token_id]
    if not mine:
        return "it does not exist"
    if not mine[0].valid_at(now):
        return f"it expired at {_iso(mine[0].expires)}"
    if not mine[0].valid_at(now + RENEWAL_MARGIN):
        return f"it expires at {_iso(mine[0].expires)}, too soon for the joins"
    return None


def certificate_upload_reason(tokens: tuple[TokenInfo, ...], now: datetime) -> str | None:
    """Why the control-plane certificates must be uploaded (again) before a control-plane join,
    or None when an upload less than CERTIFICATE_LIFETIME - RENEWAL_MARGIN old is there."""
    proxies = [t for t in tokens if t.description == CERTS_PROXY_DESCRIPTION]
    if not proxies:
        return "no upload is there (none yet, or kubeadm deleted it 2 hours after upload)"
    newest = max(proxies, key=lambda t: t.expires or datetime.max.replace(tzinfo=UTC))
    if not newest.valid_at(now + RENEWAL_MARGIN):
        return f"the last upload expires at {_iso(newest.expires)}"
    return None


def renewed_token(
    tokens: tuple[TokenInfo, ...], token: JoinToken, now: datetime
) -> tuple[TokenInfo, ...]:
    """The listing predicted after `kubeadm token create TOKEN --ttl 24h` (for dry runs)."""
    others = tuple(t for t in tokens if t.token_id != token.token_id)
    return (*others, TokenInfo(token.token_id, now + timedelta(hours=24)))


def uploaded_certificates(tokens: tuple[TokenInfo, ...], now: datetime) -> tuple[TokenInfo, ...]:
    """The listing predicted after an upload of the certificates (for dry runs)."""
    others = tuple(t for t in tokens if t.description != CERTS_PROXY_DESCRIPTION)
    return (*others, TokenInfo("upload", now + CERTIFICATE_LIFETIME, CERTS_PROXY_DESCRIPTION))


def _iso(when: datetime | None) -> str:
    return "never" if when is None else when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
