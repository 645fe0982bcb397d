"""The dashboard's session: a signed cookie, and the CSRF token derived from it (pure).

The cookie carries who signed in (the admin, or a workspace API key named by its SHA-256 hash,
never the token itself; an operator key is the admin with its key's hash), the chosen
workspace, a random session id and when it was issued, signed with HMAC-SHA256. Only sign-outs
are kept on the server, in the database (the store's ``revoke_session``), so every API process
of a deployment accepts the sessions of the others and refuses a signed-out one.

The cookie is ``__Host-hookline_session``: browsers accept that name only with ``Secure``,
``Path=/`` and no ``Domain``, so neither a sibling host nor a plain-HTTP answer can set or
overwrite it. Browsers keep ``Secure`` cookies only in a secure context: HTTPS, or a loopback
host over plain HTTP (``localhost``, ``127.0.0.1``). On plain HTTP to any other host (a LAN name
in development) the cookie is the plain ``hookline_session`` without ``Secure``.

The signing key is derived from a random key kept in the database, the admin token's hash (a
new admin token signs everybody out) and ``HOOKLINE_SECRET_KEY`` when it is set (then read
access to the database is not enough to forge a session).
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, replace

from hookline.domain import signed_values
from hookline.domain.signed_values import SignedValues

COOKIE = "__Host-hookline_session"
PLAIN_COOKIE = "hookline_session"
MAX_AGE = 8 * 3600
_VERSION = "v1"


@dataclass(frozen=True, slots=True)
class Session:
    """A visitor: anonymous (before sign-in, it still carries a CSRF token) or signed in: as the
    admin (``key_hash`` None: the admin token; set: an operator key's) or with a workspace API
    key (``key_hash``, not ``admin``)."""

    sid: str
    issued_at: float
    admin: bool = False
    key_hash: str | None = None
    workspace_id: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.admin or self.key_hash is not None

    def choose(self, workspace_id: str) -> Session:
        return replace(self, workspace_id=workspace_id)


def anonymous(now: float) -> Session:
    return Session(sid=secrets.token_urlsafe(18), issued_at=now)


def signed_in(
    now: float, *, admin: bool, key_hash: str | None, workspace_id: str | None
) -> Session:
    """A fresh session id at sign-in, so an id seen before sign-in is worth nothing after."""
    return Session(secrets.token_urlsafe(18), now, admin, key_hash, workspace_id)


def secure_context(scheme: str, host: str | None) -> bool:
    """Whether browsers keep a ``Secure`` cookie from this origin: HTTPS, or a loopback host
    (which Chromium and Firefox treat as a secure context even over plain HTTP)."""
    return scheme == "https" or is_loopback(host)


def is_loopback(host: str | None) -> bool:
    name = (host or "").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def cookie_name(secure: bool) -> str:
    return COOKIE if secure else PLAIN_COOKIE


def derive_key(random_key: str, admin_token_hash: str, secret_key: str | None) -> bytes:
    return signed_values.derive_key("dashboard-session", random_key, admin_token_hash, secret_key)


class SessionCodec:
    """Signs sessions into cookie values and checks them back."""

    def __init__(self, key: bytes, max_age: float = MAX_AGE) -> None:
        self._signed = SignedValues(key, "session", _VERSION)
        self.max_age = max_age

    def encode(self, session: Session) -> str:
        return self._signed.seal(
            {
                "sid": session.sid,
                "iat": session.issued_at,
                "adm": session.admin,
                "key": session.key_hash,
                "ws": session.workspace_id,
            }
        )

    def decode(self, value: str | None, now: float) -> Session | None:
        """The session in a cookie, or None if it is missing, forged, malformed or expired."""
        data = self._signed.open(value)
        try:
            session = Session(
                str(data["sid"]), float(data["iat"]), bool(data["adm"]), data["key"], data["ws"]
            )
        except (ValueError, KeyError, TypeError):
            return None
        if not 0 <= now - session.issued_at <= self.max_age:
            return None
        return session

    def csrf_token(self, session: Session) -> str:
        """The per-session token every form and htmx request must send back."""
        return self._signed.csrf_token(session.sid)

    def csrf_ok(self, session: Session, sent: str | None) -> bool:
        return self._signed.csrf_ok(session.sid, sent)
