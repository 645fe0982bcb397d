"""The signature recipes, shared by the sender (`hookline.domain.signing`) and the receiver toolkit
(`hookline.verify`), so that both sides compute every MAC with the very same code.

Standard library only: `hookline.verify` imports this module and must stay importable without
any of the server's dependencies. Malformed keys raise `ValueError`; each caller turns that into
its own error type.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Final

SECRET_PREFIX: Final = "whsec_"
PUBLIC_KEY_PREFIX: Final = "whpk_"

# Which part of a `timestamped` request is signed: the body, or the URL for body-less methods.
BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})
URL_METHODS: Final = frozenset({"GET", "DELETE"})


def b64decode(text: str) -> bytes:
    """Decode standard base64, strictly (no stray characters) but tolerating missing padding.

    Secrets copied by hand often lose their trailing ``=``; the reference libraries accept that.
    """
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("not base64: non-ASCII characters") from None
    try:
        return base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None


def b64encode(data: bytes) -> str:
    """Standard base64 with padding, as text."""
    return base64.b64encode(data).decode("ascii")


def prefixed_key(secret: str, prefix: str) -> bytes:
    """The key bytes of a ``<prefix><base64>`` secret (``whsec_…`` or ``whpk_…``)."""
    if not secret.startswith(prefix):
        raise ValueError(f"expected a secret starting with {prefix!r}")
    key = b64decode(secret[len(prefix) :])
    if not key:
        raise ValueError("the secret's key is empty")
    return key


def raw_key(secret: str) -> bytes:
    """The key of every hex scheme: the UTF-8 bytes of the secret exactly as configured."""
    return secret.encode("utf-8")


def standard_content(msg_id: str, timestamp: int, body: bytes) -> bytes:
    """What Standard Webhooks (and Svix) sign: ``{id}.{timestamp}.{body}``."""
    return f"{msg_id}.{timestamp}.".encode() + body


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """Raw HMAC-SHA256 (base64-encoded, it is a ``v1,`` signature of `standard_content`)."""
    return hmac.digest(key, message, "sha256")


def standard_digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    """The raw HMAC-SHA256 behind a ``v1,<base64>`` signature."""
    return hmac_sha256(key, standard_content(msg_id, timestamp, body))


def hmac_sha1_hex(key: bytes, message: bytes) -> str:
    """Lowercase hex HMAC-SHA1."""
    return hmac.new(key, message, hashlib.sha1).hexdigest()


def hmac_sha256_hex(key: bytes, message: bytes) -> str:
    """Lowercase hex HMAC-SHA256."""
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def timestamped_message(method: str, body: bytes, url: str) -> bytes:
    """The part of a request the `timestamped` scheme signs: body, or URL for GET/DELETE."""
    verb = method.upper()
    if verb in BODY_METHODS:
        return body
    if verb in URL_METHODS:
        return url.encode("utf-8")
    raise ValueError(f"the timestamped scheme does not sign {method!r} requests")


def timestamped_hex(key: bytes, timestamp_ms: int, message: bytes) -> str:
    """Hex HMAC-SHA256 of ``{t}.{message}`` (the ``sha256=`` part of X-Webhook-Signature)."""
    return hmac_sha256_hex(key, f"{timestamp_ms}.".encode() + message)


def stripe_hex(key: bytes, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``{t}.{body}`` (the ``v1=`` part of Stripe-Signature)."""
    return hmac_sha256_hex(key, f"{timestamp}.".encode() + body)
