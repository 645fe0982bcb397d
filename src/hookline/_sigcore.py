"""The signature recipes, shared by the sender (`hookline.domain.signing`) and the receiver toolkit
(`hookline.verify`), so that both sides compute every MAC with the very same code and read the
key formats (``whsec_``, ``whsk_``, ``whpk_``) the same way.

Standard library only: `hookline.verify` imports this module and must stay importable without
any of the server's dependencies, so the Ed25519 arithmetic itself (``cryptography``) stays with
the callers; here are only the bytes it is done on. Malformed keys raise `ValueError`; each
caller turns that into its own error type.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Final

SECRET_PREFIX: Final = "whsec_"
SIGNING_KEY_PREFIX: Final = "whsk_"
PUBLIC_KEY_PREFIX: Final = "whpk_"

# Ed25519 (RFC 8032) sizes: the private seed and the public key; a signature is 64 bytes.
ED25519_SEED_BYTES: Final = 32
ED25519_PUBLIC_BYTES: Final = 32

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


def ed25519_seed(secret: str) -> tuple[bytes, bytes | None]:
    """The 32-byte Ed25519 seed of a ``whsk_`` key, and the public key it states, if any.

    The Standard Webhooks spec only says "base64": Hookline writes the 32-byte RFC 8032 seed,
    and also reads the 64-byte seed-then-public-key form (libsodium's secret key, which the Svix
    server writes). The second value is that form's public half, for the caller to check
    against the one derived from the seed; None for a bare seed.
    """
    key = prefixed_key(secret, SIGNING_KEY_PREFIX)
    if len(key) == ED25519_SEED_BYTES:
        return key, None
    if len(key) == ED25519_SEED_BYTES + ED25519_PUBLIC_BYTES:
        return key[:ED25519_SEED_BYTES], key[ED25519_SEED_BYTES:]
    raise ValueError(
        "a whsk_ key holds a 32-byte Ed25519 seed (or the 64-byte seed and public key), "
        f"not {len(key)} bytes"
    )


def ed25519_public(public_key: str) -> bytes:
    """The 32 bytes of a ``whpk_`` Ed25519 public key."""
    key = prefixed_key(public_key, PUBLIC_KEY_PREFIX)
    if len(key) != ED25519_PUBLIC_BYTES:
        raise ValueError(f"a whpk_ key holds a 32-byte Ed25519 public key, not {len(key)} bytes")
    return key


def raw_key(secret: str) -> bytes:
    """The key of every hex scheme: the UTF-8 bytes of the secret exactly as configured."""
    return secret.encode("utf-8")


def standard_content(msg_id: str, timestamp: int, body: bytes) -> bytes:
    """What Standard Webhooks (and Svix) sign: ``{id}.{timestamp}.{body}``, with HMAC-SHA256
    for a ``v1,`` signature and with Ed25519 for a ``v1a,`` one."""
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
