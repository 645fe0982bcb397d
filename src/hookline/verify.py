"""Receiving Hookline's webhooks: check signatures, parse events, drop duplicates.

Standard library only, so that a receiver can ``import hookline.verify`` without any of the
server's dependencies; ``cryptography`` is imported lazily, and only to check Ed25519 (``v1a``)
signatures.

    verify(scheme, body, headers, secret)       returns None, or raises VerificationError
    verify_and_parse(...)                       the same, then returns the parsed JSON event
    check_config(scheme, secret, tolerance)     fail at start-up rather than on every request
    parse_event(body, headers)                  JSON body, or a form body's ``payload`` field
    parse_raw_http_request(raw)                 split a captured HTTP/1.1 request
    event_id(headers)                           the id to de-duplicate on
    Deduplicator, MemoryDedupStore, DedupStore  remember event ids for a while

The last three lines live in `hookline.rawhttp` (captured requests) and `hookline.dedup`
(de-duplication), and the errors below in `hookline.verify_errors`: standard library only as
well, and re-exported here.

Everything wrong with a *request* raises a `VerificationError`, and nothing else:

    VerificationError             base class; ``status`` is the HTTP status to answer with
    ├── MalformedRequest          a header is missing or unparsable, the body is not JSON (400)
    └── InvalidSignature          no signature matches any of the secrets (401)
        └── TimestampOutOfRange   authentic but too old or too far in the future (401)

Schemes: one per scheme Hookline sends (``standard``, ``svix``, ``github``, ``hub-sha1``,
``sha256-hex``, ``timestamped``, ``ed25519``), and ``stripe``. ``ed25519`` is the Standard
Webhooks asymmetric scheme: the ``webhook-*`` headers of ``standard``, whose ``v1a,`` entries
are Ed25519 signatures of ``{id}.{timestamp}.{body}``. Give it the webhook's public key,
``whpk_<base64 of 32 bytes>``, as Hookline shows it next to the webhook (the private ``whsk_``
key works too: its public key is derived, but a receiver has no need to hold it):

    verify("ed25519", body, headers, "whpk_C7w0aldmfDgBIL2cf9flHSxf3+o3zS9b9AWyxr9vLXg=")

``standard`` and ``svix`` accept ``whpk_``/``whsk_`` keys as well, beside ``whsec_`` ones, and
then check the ``v1a`` entries, for a sender that signs both ways in one header.

Mistakes in the *call* (unknown scheme, no secret, a secret the scheme cannot use, a tolerance
that is not positive, no ``url`` for a timestamped GET/DELETE) raise `ValueError`, so that a
misconfigured receiver fails loudly instead of answering 401 to everyone.

Tolerance: ``tolerance`` seconds either side of ``now`` (default 300). ``None`` turns the check
off (e.g. to inspect a captured request later); ``0`` is refused rather than read as "off",
because a typo must not silently remove replay protection.
"""

from __future__ import annotations

import hmac
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, Final

from hookline import _sigcore
from hookline.dedup import EVENT_ID_HEADERS as EVENT_ID_HEADERS
from hookline.dedup import Deduplicator, DedupStore, MemoryDedupStore, event_id
from hookline.rawhttp import RawRequest, parse_raw_http_request
from hookline.verify_errors import (
    InvalidSignature,
    MalformedRequest,
    TimestampOutOfRange,
    VerificationError,
    parse_int,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "SCHEMES",
    "DedupStore",
    "Deduplicator",
    "InvalidSignature",
    "MalformedRequest",
    "MemoryDedupStore",
    "RawRequest",
    "TimestampOutOfRange",
    "VerificationError",
    "check_config",
    "event_id",
    "parse_event",
    "parse_raw_http_request",
    "verify",
    "verify_and_parse",
]

SCHEMES: Final[tuple[str, ...]] = (
    "standard",
    "svix",
    "github",
    "hub-sha1",
    "sha256-hex",
    "timestamped",
    "ed25519",
    "stripe",
)


# ---------------------------------------------------------------------------------------------
# verify


def verify(
    scheme: str,
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | Sequence[str],
    *,
    method: str = "POST",
    url: str | None = None,
    tolerance: float | None = 300,
    now: float | None = None,
) -> None:
    """Raise `VerificationError` unless the request carries a valid, fresh signature.

    ``body`` must be the raw request body, byte for byte. ``secret`` may be a list: during a
    rotation the request passes if any secret matches any of its signatures. ``method`` and
    ``url`` (the full URL the sender used) matter only for ``timestamped`` GET/DELETE requests,
    whose signature covers the URL. ``now`` (unix seconds) defaults to the current time.
    """
    secrets = check_config(scheme, secret, tolerance)
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    request = _Request(raw, {name.lower(): value for name, value in headers.items()}, method, url)
    signed_at = _CHECKERS[scheme](request, secrets)
    if signed_at is not None and tolerance is not None:
        _check_freshness(signed_at, tolerance, time.time() if now is None else now)


def verify_and_parse(
    scheme: str,
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | Sequence[str],
    *,
    method: str = "POST",
    url: str | None = None,
    tolerance: float | None = 300,
    now: float | None = None,
) -> Any:
    """`verify` the request, then return its event as parsed by `parse_event`."""
    verify(scheme, body, headers, secret, method=method, url=url, tolerance=tolerance, now=now)
    return parse_event(body, headers)


def parse_event(body: bytes | str, headers: Mapping[str, str]) -> Any:
    """The JSON event in a body; ``None`` for an empty body (GET/DELETE deliveries).

    An ``application/x-www-form-urlencoded`` body is read as a form whose ``payload`` field
    holds the JSON (the GitHub convention). Parse failures raise `MalformedRequest`.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    if not raw:
        return None
    lowered = {name.lower(): value for name, value in headers.items()}
    media_type = lowered.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media_type == "application/x-www-form-urlencoded":
            return json.loads(_form_payload(raw))
        return json.loads(raw)
    # RecursionError: deeply nested JSON is an attacker's cheap way to crash a parser.
    except (ValueError, RecursionError) as exc:
        raise MalformedRequest(f"the body is not valid JSON: {exc}") from None


def _form_payload(raw: bytes) -> str:
    fields = urllib.parse.parse_qs(raw.decode("utf-8"), keep_blank_values=True)
    if "payload" not in fields:
        raise MalformedRequest("a form-encoded webhook must carry its JSON in a 'payload' field")
    return fields["payload"][0]


def check_config(
    scheme: str, secret: str | Sequence[str], tolerance: float | None = 300
) -> tuple[str, ...]:
    """Raise `ValueError` unless `verify` can work with these settings; return the secrets.

    `verify` calls it on every request; integrations call it once, at start-up.
    """
    if scheme not in _CHECKERS:
        raise ValueError(f"unknown signature scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    secrets = (secret,) if isinstance(secret, str) else tuple(secret)
    if not secrets or not all(secrets):
        raise ValueError("at least one non-empty secret is needed")
    if scheme in _KEY_READERS:
        for each in secrets:
            _KEY_READERS[scheme](each)
    if tolerance is not None and not tolerance > 0:
        raise ValueError("tolerance must be a positive number of seconds, or None for no check")
    return secrets


def _check_freshness(signed_at: float, tolerance: float, now: float) -> None:
    age = now - signed_at
    if age > tolerance:
        raise TimestampOutOfRange(
            f"the signature is {age:.0f}s old, beyond the {tolerance:g}s tolerance "
            "(a replayed or long-delayed request)"
        )
    if -age > tolerance:
        raise TimestampOutOfRange(
            f"the signature is dated {-age:.0f}s in the future, beyond the {tolerance:g}s "
            "tolerance (check both clocks)"
        )


# ---------------------------------------------------------------------------------------------
# the schemes: each checker raises, or returns the signed timestamp (unix seconds) if any


@dataclass(frozen=True)
class _Request:
    body: bytes
    headers: Mapping[str, str]  # names lower-cased
    method: str
    url: str | None

    def header(self, name: str) -> str:
        value = self.headers.get(name.lower(), "").strip()
        if not value:
            raise MalformedRequest(f"the {name} header is missing")
        return value


_Checker = Callable[[_Request, tuple[str, ...]], float | None]


def _check_standard_family(
    request: _Request, secrets: tuple[str, ...], prefix: str, scheme: str
) -> float:
    keys = [_KEY_READERS[scheme](secret) for secret in secrets]
    msg_id = request.header(f"{prefix}-id")
    timestamp = parse_int(request.header(f"{prefix}-timestamp"), f"{prefix}-timestamp")
    signatures = _parse_standard_signatures(request.header(f"{prefix}-signature"), prefix)
    content = _sigcore.standard_content(msg_id, timestamp, request.body)
    if not any(_standard_match(key, content, signatures) for key in keys):
        raise InvalidSignature(f"no {prefix}-signature entry matches the secret(s)")
    return float(timestamp)


def _check_github(request: _Request, secrets: tuple[str, ...]) -> None:
    # X-Hub-Signature-256 only: the SHA-1 header is sent for old receivers, and accepting it as
    # a fallback would let whoever strips the other header choose the weaker MAC.
    algorithm, _, hex_mac = request.header("X-Hub-Signature-256").partition("=")
    if algorithm.strip().lower() != "sha256":
        raise MalformedRequest("X-Hub-Signature-256 must look like sha256=<hex>")
    signature = _parse_hex(hex_mac, 64, "X-Hub-Signature-256")
    _require_match(secrets, [signature], lambda key: _sigcore.hmac_sha256_hex(key, request.body))


def _check_hub_sha1(request: _Request, secrets: tuple[str, ...]) -> None:
    signature = _parse_hex(request.header("X-Hub-Signature"), 40, "X-Hub-Signature")
    _require_match(secrets, [signature], lambda key: _sigcore.hmac_sha1_hex(key, request.body))


def _check_sha256_hex(request: _Request, secrets: tuple[str, ...]) -> None:
    signature = _parse_hex(request.header("X-Signature"), 64, "X-Signature")
    _require_match(secrets, [signature], lambda key: _sigcore.hmac_sha256_hex(key, request.body))


def _check_timestamped(request: _Request, secrets: tuple[str, ...]) -> float:
    header = "X-Webhook-Signature"
    timestamp_ms, signatures = _parse_t_and_hex(request.header(header), header, "sha256")
    message = _timestamped_message(request)
    _require_match(
        secrets, signatures, lambda key: _sigcore.timestamped_hex(key, timestamp_ms, message)
    )
    return timestamp_ms / 1000  # milliseconds on the wire


def _check_stripe(request: _Request, secrets: tuple[str, ...]) -> float:
    header = "Stripe-Signature"
    timestamp, signatures = _parse_t_and_hex(request.header(header), header, "v1")
    _require_match(
        secrets, signatures, lambda key: _sigcore.stripe_hex(key, timestamp, request.body)
    )
    return float(timestamp)


def _timestamped_message(request: _Request) -> bytes:
    method = request.method.upper()
    if method in _sigcore.URL_METHODS and request.url is None:
        raise ValueError(f"pass url= to verify a timestamped {method}: its signature covers it")
    try:
        return _sigcore.timestamped_message(method, request.body, request.url or "")
    except ValueError as exc:
        raise MalformedRequest(str(exc)) from None


_CHECKERS: Final[dict[str, _Checker]] = {
    "standard": partial(_check_standard_family, prefix="webhook", scheme="standard"),
    "svix": partial(_check_standard_family, prefix="svix", scheme="svix"),
    "ed25519": partial(_check_standard_family, prefix="webhook", scheme="ed25519"),
    "github": _check_github,
    "hub-sha1": _check_hub_sha1,
    "sha256-hex": _check_sha256_hex,
    "timestamped": _check_timestamped,
    "stripe": _check_stripe,
}


# ---------------------------------------------------------------------------------------------
# header parsing and matching

_HEX = re.compile(r"[0-9a-fA-F]+", re.ASCII)


def _parse_hex(text: str, length: int, header: str) -> bytes:
    value = text.strip()
    if len(value) != length or not _HEX.fullmatch(value):
        raise MalformedRequest(f"{header} must hold {length} hex digits")
    return value.lower().encode("ascii")


def _parse_t_and_hex(text: str, header: str, signature_key: str) -> tuple[int, list[bytes]]:
    """``t=<int>,<signature_key>=<hex>[,…]``; the signature key may repeat (rotation)."""
    params: dict[str, list[str]] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            raise MalformedRequest(f"{header} must be a comma-separated list of key=value")
        params.setdefault(key.strip(), []).append(value)
    if len(params.get("t", [])) != 1:
        raise MalformedRequest(f"{header} must carry exactly one t=")
    signatures = [_parse_hex(value, 64, header) for value in params.get(signature_key, [])]
    if not signatures:
        raise MalformedRequest(f"{header} carries no {signature_key}= signature")
    return parse_int(params["t"][0], f"{header} t="), signatures


def _parse_standard_signatures(text: str, prefix: str) -> list[tuple[str, bytes]]:
    """Space-separated ``version,base64`` entries; versions other than v1/v1a are skipped."""
    signatures = []
    for entry in text.split():
        version, sep, encoded = entry.partition(",")
        if not (sep and version and encoded):
            raise MalformedRequest(f"{prefix}-signature entries must look like v1,<base64>")
        if version not in ("v1", "v1a"):
            continue  # the spec reserves other versions for the future
        try:
            signatures.append((version, _sigcore.b64decode(encoded)))
        except ValueError:
            raise MalformedRequest(f"a {prefix}-signature entry is not base64") from None
    if not signatures:
        raise MalformedRequest(f"{prefix}-signature holds no v1 or v1a signature")
    return signatures


def _require_match(
    secrets: tuple[str, ...], signatures: list[bytes], mac: Callable[[bytes], str]
) -> None:
    expected = [mac(_sigcore.raw_key(secret)).encode("ascii") for secret in secrets]
    if not any(hmac.compare_digest(e, s) for e in expected for s in signatures):
        raise InvalidSignature("the signature does not match the secret(s)")


_ASYMMETRIC_PREFIXES: Final = (_sigcore.PUBLIC_KEY_PREFIX, _sigcore.SIGNING_KEY_PREFIX)


def _standard_key(secret: str) -> bytes | Ed25519PublicKey:
    """A whsec_ secret's HMAC key, or the Ed25519 public key of a whpk_ or whsk_ one."""
    if secret.startswith(_ASYMMETRIC_PREFIXES):
        return _ed25519_key(secret)
    try:
        return _sigcore.prefixed_key(secret, _sigcore.SECRET_PREFIX)
    except ValueError as exc:
        raise ValueError(
            f"a standard/svix secret is whsec_<base64>, whpk_<base64> or whsk_<base64>: {exc}"
        ) from None


@lru_cache(maxsize=256)
def _ed25519_key(secret: str) -> Ed25519PublicKey:
    """The public key of a whpk_ key, or the one a whsk_ private key derives (cached: deriving
    costs a scalar multiplication, and `verify` reads the keys on every request)."""
    try:
        if secret.startswith(_sigcore.SIGNING_KEY_PREFIX):
            return _ed25519_public_of_private(*_sigcore.ed25519_seed(secret))
        return _ed25519_public_key(_sigcore.ed25519_public(secret))
    except ValueError as exc:
        raise ValueError(
            f"an ed25519 key is whpk_<base64 public key> or whsk_<base64 private key>: {exc}"
        ) from None
    except ImportError as exc:
        raise ImportError("checking v1a (Ed25519) signatures needs 'cryptography'") from exc


# How each scheme with prefixed keys reads a secret (a `ValueError` for one it cannot use).
_KEY_READERS: Final[dict[str, Callable[[str], bytes | Ed25519PublicKey]]] = {
    "standard": _standard_key,
    "svix": _standard_key,
    "ed25519": _ed25519_key,
}


def _standard_match(
    key: bytes | Ed25519PublicKey, content: bytes, signatures: list[tuple[str, bytes]]
) -> bool:
    if isinstance(key, bytes):
        expected = _sigcore.hmac_sha256(key, content)
        return any(hmac.compare_digest(expected, sig) for ver, sig in signatures if ver == "v1")
    return any(_ed25519_valid(key, sig, content) for ver, sig in signatures if ver == "v1a")


def _ed25519_public_key(raw: bytes) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(raw)  # ValueError unless 32 bytes


def _ed25519_public_of_private(seed: bytes, stated: bytes | None) -> Ed25519PublicKey:
    """The public key of a whsk_ seed; a 64-byte key's public half must be that one."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    if stated is not None and stated != public.public_bytes(Encoding.Raw, PublicFormat.Raw):
        raise ValueError("the key's public half does not belong to its seed")
    return public


def _ed25519_valid(key: Ed25519PublicKey, signature: bytes, content: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature as BadSignature

    try:
        key.verify(signature, content)
    except BadSignature:
        return False
    return True
