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

import secrets
from dataclasses import dataclass

from hookline.domain import signed_values
from hookline.domain.signed_values import SignedValues

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
    return signed_values.derive_key("portal-session", random_key, admin_token_hash, secret_key)


class PortalSessionCodec:
    """Signs sessions into header values and checks them back."""

    def __init__(self, key: bytes, max_age: float = MAX_AGE) -> None:
        self._signed = SignedValues(key, "portal", _VERSION)
        self.max_age = max_age

    def encode(self, session: PortalSession) -> str:
        s = session
        return self._signed.seal([s.link_id, s.workspace_id, s.sid, s.issued_at])

    def decode(self, value: str | None, now: float) -> PortalSession | None:
        """The session in a header value, or None if missing, forged, malformed or too old."""
        try:
            link_id, workspace_id, sid, issued_at = self._signed.open(value)
            session = PortalSession(str(link_id), str(workspace_id), str(sid), float(issued_at))
        except (ValueError, TypeError):
            return None
        if not -CLOCK_SKEW <= now - session.issued_at <= self.max_age:
            return None
        return session

    def csrf_token(self, session: PortalSession) -> str:
        return self._signed.csrf_token(session.sid)

    def csrf_ok(self, session: PortalSession, sent: str | None) -> bool:
        return self._signed.csrf_ok(session.sid, sent)
