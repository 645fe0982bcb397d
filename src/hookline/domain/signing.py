"""Signing outgoing requests: every scheme Hookline can send, as pure functions.

A webhook is configured with one or more schemes and a list of secrets. The first secret is the
current one; any others are previous secrets still inside a rotation grace period. Only the
Standard Webhooks family (``standard``, ``svix``, ``ed25519``) can carry several signatures in
one header, so only those schemes sign with every secret; the single-signature schemes use the
current one.

``ed25519`` is the Standard Webhooks *asymmetric* scheme: the same ``webhook-*`` headers and
signed content as ``standard``, signed with an Ed25519 private key (``whsk_…``) into ``v1a,``
entries that a receiver checks with the matching public key (``whpk_…``, see :func:`public_key`),
which need not be kept secret. Its secrets are key pairs, which no HMAC scheme can use, so a
webhook signs either with ``ed25519`` alone or with HMAC schemes only.

The MAC recipes and key formats live in `hookline._sigcore`, shared with the receiver toolkit
`hookline.verify`.
"""

from __future__ import annotations

import secrets as _random
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from hookline import _sigcore
from hookline.errors import SigningError

if TYPE_CHECKING:  # imported on first use: only ed25519 webhooks need it
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SCHEMES: Final[tuple[str, ...]] = (
    "standard",
    "svix",
    "github",
    "hub-sha1",
    "sha256-hex",
    "timestamped",
    "ed25519",
)

#: Schemes whose secrets are Ed25519 key pairs (``whsk_``) rather than shared MAC keys.
ASYMMETRIC_SCHEMES: Final[frozenset[str]] = frozenset({"ed25519"})

# Schemes whose secret must be a `whsec_` key, decoded before use.
_WHSEC_SCHEMES: Final = frozenset({"standard", "svix"})
_MIN_KEY_BYTES: Final = 24
_MAX_KEY_BYTES: Final = 64

# header prefix of the Standard Webhooks family: webhook-id, svix-id, …
_STANDARD_PREFIX: Final = {"standard": "webhook", "svix": "svix"}
_ED25519_PREFIX: Final = "webhook"  # the Standard Webhooks headers, with v1a signatures
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
    cannot be combined; nor can ``ed25519`` with any other scheme (see :func:`_one_family`).
    """
    if isinstance(schemes, str):
        raise SigningError("schemes must be a list of names, not a string")
    unique = tuple(dict.fromkeys(schemes))
    for scheme in unique:
        if scheme not in SCHEMES:
            raise SigningError(f"unknown signature scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    if "github" in unique and "hub-sha1" in unique:
        raise SigningError("schemes 'github' and 'hub-sha1' both use X-Hub-Signature")
    _one_family(unique)
    return unique


def _one_family(schemes: Sequence[str]) -> None:
    """Refuse asymmetric and HMAC schemes in one webhook: its one list of secrets holds either
    Ed25519 key pairs or shared MAC keys, never both."""
    asymmetric = [s for s in schemes if s in ASYMMETRIC_SCHEMES]
    others = [s for s in schemes if s not in ASYMMETRIC_SCHEMES]
    if asymmetric and others:
        raise SigningError(
            f"scheme {asymmetric[0]!r} signs with an Ed25519 key pair (whsk_), which the HMAC "
            f"scheme(s) {', '.join(map(repr, others))} cannot use: choose one or the other"
        )


def validate_secret(secret: str, schemes: Sequence[str]) -> None:
    """Refuse a secret that some of the given schemes cannot use.

    Any non-empty string but a ``whsk_`` private key works for the hex schemes; ``standard`` and
    ``svix`` need ``whsec_<base64 of 24 to 64 bytes>``; ``ed25519`` needs a ``whsk_`` key (see
    `hookline._sigcore.ed25519_seed`) and no other scheme beside it.
    """
    if not secret:
        raise SigningError("the signing secret is empty")
    _one_family(schemes)
    if not ASYMMETRIC_SCHEMES.isdisjoint(schemes):
        _private_key(secret)
        return
    if secret.startswith(_sigcore.SIGNING_KEY_PREFIX):
        raise SigningError(
            "a whsk_ key is an Ed25519 private key, for the ed25519 scheme only: HMAC schemes "
            "would hand it to receivers as a shared secret"
        )
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
    """A fresh secret usable by every HMAC scheme: ``whsec_`` + base64 of 32 random bytes."""
    return _sigcore.SECRET_PREFIX + _sigcore.b64encode(_random.token_bytes(32))


def generate_signing_key() -> str:
    """A fresh Ed25519 private key for the ``ed25519`` scheme: ``whsk_`` + base64 of a
    32-byte seed from the operating system's random source."""
    return _sigcore.SIGNING_KEY_PREFIX + _sigcore.b64encode(_random.token_bytes(32))


def generate_secret_for(schemes: Sequence[str]) -> str:
    """A fresh secret that ``schemes`` can sign with: a ``whsk_`` key for ``ed25519``, else a
    ``whsec_`` secret (which every HMAC scheme takes)."""
    if ASYMMETRIC_SCHEMES.isdisjoint(schemes):
        return generate_secret()
    return generate_signing_key()


@lru_cache(maxsize=1024)
def public_key(secret: str) -> str | None:
    """The ``whpk_`` public key a receiver verifies ``ed25519`` signatures with, for a
    ``whsk_`` secret; None for any other secret. Not a secret itself: show it freely."""
    try:
        key = _private_key(secret)
    except SigningError:
        return None
    return _sigcore.PUBLIC_KEY_PREFIX + _sigcore.b64encode(_public_bytes(key))


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
    only used by ``standard``/``svix``/``ed25519``, whose header lists one signature per secret.
    """
    chosen, current, keys, private = _prepared(tuple(schemes), tuple(secrets))
    headers: dict[str, str] = {}
    for scheme in chosen:
        if scheme == "ed25519":
            headers |= _ed25519_headers(private, msg_id, timestamp_ms, body)
        elif scheme in _STANDARD_PREFIX:
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
) -> tuple[tuple[str, ...], bytes, tuple[bytes, ...], tuple[Ed25519PrivateKey, ...]]:
    """The validated schemes, the current secret's raw key, every secret's decoded ``whsec_``
    key and every secret's Ed25519 private key (each empty when no scheme needs it), worked
    out once per configuration rather than for every request."""
    chosen = validate_schemes(schemes)
    if not secrets:
        raise SigningError("at least one secret is needed to sign")
    for secret in secrets:
        validate_secret(secret, chosen)
    keys: tuple[bytes, ...] = ()
    if not _WHSEC_SCHEMES.isdisjoint(chosen):
        keys = tuple(_sigcore.prefixed_key(s, _sigcore.SECRET_PREFIX) for s in secrets)
    private: tuple[Ed25519PrivateKey, ...] = ()
    if not ASYMMETRIC_SCHEMES.isdisjoint(chosen):
        private = tuple(_private_key(s) for s in secrets)
    return chosen, _sigcore.raw_key(secrets[0]), keys, private


def _private_key(secret: str) -> Ed25519PrivateKey:
    """The Ed25519 private key of a ``whsk_`` secret; a 64-byte key's public half must be the
    one its seed derives (a mismatch is a corrupted or hand-assembled key)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        seed, stated = _sigcore.ed25519_seed(secret)
    except ValueError as exc:
        raise SigningError(f"ed25519 secrets must look like whsk_<base64>: {exc}") from None
    key = Ed25519PrivateKey.from_private_bytes(seed)
    if stated is not None and stated != _public_bytes(key):
        raise SigningError("this whsk_ key's public half does not belong to its seed")
    return key


def _public_bytes(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _standard_headers(
    prefix: str, keys: Sequence[bytes], msg_id: str, timestamp_ms: int, body: bytes
) -> dict[str, str]:
    seconds = timestamp_ms // 1000
    digests = (_sigcore.standard_digest(key, msg_id, seconds, body) for key in keys)
    return _family_headers(
        prefix, msg_id, seconds, ("v1," + _sigcore.b64encode(d) for d in digests)
    )


def _ed25519_headers(
    keys: Sequence[Ed25519PrivateKey], msg_id: str, timestamp_ms: int, body: bytes
) -> dict[str, str]:
    seconds = timestamp_ms // 1000
    content = _sigcore.standard_content(msg_id, seconds, body)
    entries = ("v1a," + _sigcore.b64encode(key.sign(content)) for key in keys)
    return _family_headers(_ED25519_PREFIX, msg_id, seconds, entries)


def _family_headers(
    prefix: str, msg_id: str, seconds: int, signatures: Iterable[str]
) -> dict[str, str]:
    """The Standard Webhooks headers: one space-separated signature entry per secret."""
    return {
        f"{prefix}-id": msg_id,
        f"{prefix}-timestamp": str(seconds),
        f"{prefix}-signature": " ".join(signatures),
    }


def _timestamped(key: bytes, timestamp_ms: int, body: bytes, method: str, url: str) -> str:
    try:
        message = _sigcore.timestamped_message(method, body, url)
    except ValueError as exc:
        raise SigningError(str(exc)) from exc
    return f"t={timestamp_ms},sha256={_sigcore.timestamped_hex(key, timestamp_ms, message)}"
