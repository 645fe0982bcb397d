"""Values signed by the server and carried by a browser (pure): the dashboard's session cookie,
the customer portal's session header, and the CSRF tokens derived from them.

A value is ``<version>.<body>.<signature>``: the body is URL-safe base64 of JSON, the signature
HMAC-SHA256 of the body under the key and a purpose label (so a dashboard cookie is never
accepted as a portal session, nor the reverse). Everything a client sends is compared in
constant time as bytes: ``hmac.compare_digest`` refuses non-ASCII text, and a client may send
any character.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import orjson

__all__ = ["SignedValues", "derive_key", "same"]


def derive_key(
    purpose: str, random_key: str, admin_token_hash: str, secret_key: str | None
) -> bytes:
    """The signing key of one purpose: from the database's random key, the admin token's hash
    (a new admin token ends every session) and ``HOOKLINE_SECRET_KEY`` when set (then read
    access to the database is not enough to forge a value)."""
    material = "\0".join((random_key, admin_token_hash, secret_key or ""))
    return hashlib.sha256(f"hookline-{purpose}\0{material}".encode()).digest()


def same(expected: str, sent: str) -> bool:
    """Constant-time equality of a value made here and one a client sent."""
    return hmac.compare_digest(expected.encode(), sent.encode())


class SignedValues:
    """Seals JSON data into signed text and opens it back; CSRF tokens of a session id."""

    def __init__(self, key: bytes, purpose: str, version: str) -> None:
        self._key = key
        self._label = purpose.encode() + b"\0"
        self._version = version

    def seal(self, data: Any) -> str:
        body = _b64(orjson.dumps(data))
        return f"{self._version}.{body}.{self._sign(body)}"

    def open(self, value: str | None) -> Any:
        """The data of a value signed here; None if missing, forged or malformed."""
        version, _, rest = (value or "").partition(".")
        body, _, signature = rest.partition(".")
        if version != self._version or not same(self._sign(body), signature):
            return None
        try:
            return orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None

    def csrf_token(self, sid: str) -> str:
        """The token a session's forms and requests send back."""
        return hmac.new(self._key, b"csrf\0" + sid.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, sid: str, sent: str | None) -> bool:
        return bool(sent) and same(self.csrf_token(sid), sent or "")

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, self._label + body.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
