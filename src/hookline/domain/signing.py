"""Signing outgoing requests: every scheme Hookline can send, as pure functions.

A webhook is configured with one or more schemes and a list of secrets. The first secret is the
current one; any others are previous secrets still inside a rotation grace period. Only the
Standard Webhooks family (``standard``, ``svix``) can carry several signatures in one header, so
only those schemes sign with every secret; the single-signature schemes use the current one.

The MAC recipes themselves live in `hookline._sigcore`, shared with the receiver toolkit
`hookline.verify`.
"""

from __future__ import annotations

import secrets as _random
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

from hookline import _sigcore
from hookline.errors import SigningError

SCHEMES: Final[tuple[str, ...]] = (
    "standard",
    "svix",
    "github",
    "hub-sha1",
    "sha256-hex",
    "timestamped",
)

# Schemes whose secret must be a `whsec_` key, decoded before use.
_WHSEC_SCHEMES: Final = frozenset({"standard", "svix"})
_MIN_KEY_BYTES: Final = 24
_MAX_KEY_BYTES: Final = 64

# header prefix of the Standard Webhooks family: webhook-id, svix-id, …
_STANDARD_PREFIX: Final = {"standard": "webhook", "svix": "svix"}
_STANDARD_SUFFIXES: Final = ("id", "timestamp", "signature")  # as _standard_headers writes
_HUB_SHA1: Final = "X-Hub-Signature"
_HUB_SHA256: Final = "X-Hub-Signature-256"
_SHA256_HEX: Final = "X-Signature"
_TIMESTAMPED: Final = "X-Webhook-Signature"

#: Every header name :func:`sign_request` can write, whatever the scheme: a webhook's custom
#: headers may not use them (they would be replaced by the signature on every request).
HEADER_NAMES: Final[frozenset[str]] = frozenset(
    {f"{prefix}-{suffix}" for prefix in _STANDARD_PREFIX.values() for suffix in _STANDARD_SUFFIXES}
    | {_HUB_SHA1, _HUB_SHA256, _SHA256_HEX, _TIMESTAMPED}
)


#: The schemes of a webhook that has a signing secret but names none.
DEFAULT_SCHEMES: Final[tuple[str, ...]] = ("standard",)


def schemes_or_default(schemes: Sequence[str]) -> list[str]:
    """The schemes a webhook with a secret signs with: its own, else :data:`DEFAULT_SCHEMES`."""
    return list(schemes or DEFAULT_SCHEMES)


def validate_schemes(schemes: Sequence[str]) -> tuple[str, ...]:
    """Return the schemes without duplicates, in order; refuse unknown ones and clashes.

    ``github`` and ``hub-sha1`` both write ``X-Hub-Signature`` (in different formats), so they
    cannot be combined.
    """
    if isinstance(schemes, str):
        raise SigningError("schemes must be a list of names, not a string")
    unique = tuple(dict.fromkeys(schemes))
    for scheme in unique:
        if scheme not in SCHEMES:
            raise SigningError(f"unknown signature scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    if "github" in unique and "hub-sha1" in unique:
        raise SigningError("schemes 'github' and 'hub-sha1' both use X-Hub-Signature")
    return unique


def validate_secret(secret: str, schemes: Sequence[str]) -> None:
    """Refuse a secret that some of the given schemes cannot use.

    Any non-empty string works for the hex schemes; ``standard`` and ``svix`` need
    ``whsec_<base64 of 24 to 64 bytes>``.
    """
    if not secret:
        raise SigningError("the signing secret is empty")
    if _WHSEC_SCHEMES.isdisjoint(schemes):
        return
    try:
        key = _sigcore.prefixed_key(secret, _sigcore.SECRET_PREFIX)
    except ValueError as exc:
        raise SigningError(f"standard/svix secrets must look like whsec_<base64>: {exc}") from exc
    if not _MIN_KEY_BYTES <= len(key) <= _MAX_KEY_BYTES:
        raise SigningError(
            f"a whsec_ secret must hold {_MIN_KEY_BYTES} to {_MAX_KEY_BYTES} bytes, not {len(key)}"
        )


def generate_secret() -> str:
    """A fresh secret usable by every scheme: ``whsec_`` + base64 of 32 random bytes."""
    return _sigcore.SECRET_PREFIX + _sigcore.b64encode(_random.token_bytes(32))


def sign_request(
    schemes: Sequence[str],
    secrets: Sequence[str],
    *,
    msg_id: str,
    timestamp_ms: int,
    body: bytes,
    method: str,
    url: str,
) -> dict[str, str]:
    """The signature headers to add to one request, for every configured scheme.

    ``secrets[0]`` is the current secret; later ones are still valid during a rotation and are
    only used by ``standard``/``svix``, whose header lists one signature per secret.
    """
    chosen, current, keys = _prepared(tuple(schemes), tuple(secrets))
    headers: dict[str, str] = {}
    for scheme in chosen:
        if scheme in _STANDARD_PREFIX:
            headers |= _standard_headers(_STANDARD_PREFIX[scheme], keys, msg_id, timestamp_ms, body)
        elif scheme == "github":
            headers[_HUB_SHA1] = "sha1=" + _sigcore.hmac_sha1_hex(current, body)
            headers[_HUB_SHA256] = "sha256=" + _sigcore.hmac_sha256_hex(current, body)
        elif scheme == "hub-sha1":
            headers[_HUB_SHA1] = _sigcore.hmac_sha1_hex(current, body)
        elif scheme == "sha256-hex":
            headers[_SHA256_HEX] = _sigcore.hmac_sha256_hex(current, body)
        else:
            headers[_TIMESTAMPED] = _timestamped(current, timestamp_ms, body, method, url)
    return headers


@lru_cache(maxsize=4096)
def _prepared(
    schemes: tuple[str, ...], secrets: tuple[str, ...]
) -> tuple[tuple[str, ...], bytes, tuple[bytes, ...]]:
    """The validated schemes, the current secret's raw key and every secret's decoded
    ``whsec_`` key (none when no scheme needs them), worked out once per configuration rather
    than for every request."""
    chosen = validate_schemes(schemes)
    if not secrets:
        raise SigningError("at least one secret is needed to sign")
    for secret in secrets:
        validate_secret(secret, chosen)
    keys: tuple[bytes, ...] = ()
    if not _WHSEC_SCHEMES.isdisjoint(chosen):
        keys = tuple(_sigcore.prefixed_key(s, _sigcore.SECRET_PREFIX) for s in secrets)
    return chosen, _sigcore.raw_key(secrets[0]), keys


def _standard_headers(
    prefix: str, keys: Sequence[bytes], msg_id: str, timestamp_ms: int, body: bytes
) -> dict[str, str]:
    seconds = timestamp_ms // 1000
    digests = (_sigcore.standard_digest(key, msg_id, seconds, body) for key in keys)
    signatures = " ".join("v1," + _sigcore.b64encode(digest) for digest in digests)
    return {
        f"{prefix}-id": msg_id,
        f"{prefix}-timestamp": str(seconds),
        f"{prefix}-signature": signatures,
    }


def _timestamped(key: bytes, timestamp_ms: int, body: bytes, method: str, url: str) -> str:
    try:
        message = _sigcore.timestamped_message(method, body, url)
    except ValueError as exc:
        raise SigningError(str(exc)) from exc
    return f"t={timestamp_ms},sha256={_sigcore.timestamped_hex(key, timestamp_ms, message)}"
