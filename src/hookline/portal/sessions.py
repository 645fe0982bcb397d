"""A customer's portal session (pure): signed, carried in the page, never in a cookie.

The portal runs inside the vendor's product, in a cross-site iframe, where current browsers
refuse third-party cookies. So a session is a signed value the page holds and sends with every
request in the ``X-Portal-Session`` header (htmx adds it from the page, and the page keeps it in
its URL fragment, which no browser sends to a server or in a ``Referer``). It names the link it
was opened with, the link's workspace, a random session id and when it was issued; its
signature is HMAC-SHA256 under a key derived from the database's random key, the admin token's
hash and ``HOOKLINE_SECRET_KEY``. The server checks the link again on every request
(``services.portal.customer_of``), so revoking links ends their sessions.

The CSRF token every state change must send back (``X-CSRF-Token``) is derived from the
session id. A cross-site form cannot set either header, so the token is a second lock on a door
the missing cookie already keeps shut.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import orjson

__all__ = ["CLOCK_SKEW", "MAX_AGE", "PortalSession", "PortalSessionCodec", "derive_portal_key"]

#: How long a session lasts at most (the link's own expiry comes first when it is sooner).
MAX_AGE = 12 * 3600
#: How far in the future a session's issue time may be: the process that checks it may run on
#: a machine whose clock is a little behind the one that issued it, milliseconds before.
CLOCK_SKEW = 60.0
_VERSION = "p1"


@dataclass(frozen=True, slots=True)
class PortalSession:
    link_id: str
    workspace_id: str
    sid: str
    issued_at: float

    @classmethod
    def new(cls, link_id: str, workspace_id: str, now: float) -> PortalSession:
        return cls(link_id, workspace_id, secrets.token_urlsafe(18), now)


def derive_portal_key(random_key: str, admin_token_hash: str, secret_key: str | None) -> bytes:
    material = "\0".join((random_key, admin_token_hash, secret_key or ""))
    return hashlib.sha256(b"hookline-portal-session\0" + material.encode()).digest()


class PortalSessionCodec:
    """Signs sessions into header values and checks them back."""

    def __init__(self, key: bytes, max_age: float = MAX_AGE) -> None:
        self._key = key
        self.max_age = max_age

    def encode(self, session: PortalSession) -> str:
        data = [session.link_id, session.workspace_id, session.sid, session.issued_at]
        body = _b64(orjson.dumps(data))
        return f"{_VERSION}.{body}.{self._sign(body)}"

    def decode(self, value: str | None, now: float) -> PortalSession | None:
        """The session in a header value, or None if missing, forged, malformed or too old."""
        version, _, rest = (value or "").partition(".")
        body, _, signature = rest.partition(".")
        if version != _VERSION or not _same(self._sign(body), signature):
            return None
        try:
            link_id, workspace_id, sid, issued_at = orjson.loads(
                base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            )
            session = PortalSession(str(link_id), str(workspace_id), str(sid), float(issued_at))
        except (ValueError, TypeError):
            return None
        if not -CLOCK_SKEW <= now - session.issued_at <= self.max_age:
            return None
        return session

    def csrf_token(self, session: PortalSession) -> str:
        return hmac.new(self._key, b"csrf\0" + session.sid.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: PortalSession, sent: str | None) -> bool:
        return bool(sent) and _same(self.csrf_token(session), sent or "")

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, b"portal\0" + body.encode(), hashlib.sha256).digest())


def _same(expected: str, sent: str) -> bool:
    """Constant-time equality of a value made here and one a client sent, which may hold any
    character (``compare_digest`` refuses non-ASCII strings, so bytes are compared)."""
    return hmac.compare_digest(expected.encode(), sent.encode())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
