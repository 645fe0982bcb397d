"""The portal's sessions: signed header values that decode back to the session they were made
from, and to nothing when forged, signed under another key, too old, from the future, of
another version or malformed; the CSRF token bound to one session."""

from __future__ import annotations

import base64

import orjson
import pytest

from hookline.portal.sessions import (
    CLOCK_SKEW,
    MAX_AGE,
    PortalSession,
    PortalSessionCodec,
    derive_portal_key,
)

T0 = 1_800_000_000.0
KEY = derive_portal_key("random", "admin-hash", None)


@pytest.fixture
def codec() -> PortalSessionCodec:
    return PortalSessionCodec(KEY)


@pytest.fixture
def session() -> PortalSession:
    return PortalSession.new("pl_1", "ws_1", T0)


def test_a_session_decodes_to_itself_until_it_is_too_old(
    codec: PortalSessionCodec, session: PortalSession
) -> None:
    value = codec.encode(session)
    assert value.startswith("p1.")
    assert codec.decode(value, T0) == session
    assert codec.decode(value, T0 + MAX_AGE) == session
    assert codec.decode(value, T0 + MAX_AGE + 1) is None
    # Issued by a process whose clock is ahead: a little is a skew between machines.
    assert codec.decode(value, T0 - CLOCK_SKEW) == session
    assert codec.decode(value, T0 - CLOCK_SKEW - 1) is None
    assert PortalSessionCodec(KEY, max_age=60).decode(value, T0 + 61) is None


def test_every_new_session_has_its_own_id() -> None:
    ids = {PortalSession.new("pl_1", "ws_1", T0).sid for _ in range(100)}
    assert len(ids) == 100
    assert all(len(sid) >= 24 for sid in ids)


def _body(data: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


def test_a_forged_or_foreign_value_decodes_to_nothing(
    codec: PortalSessionCodec, session: PortalSession
) -> None:
    version, body, signature = codec.encode(session).split(".")
    other_link = _body(["pl_2", "ws_1", session.sid, T0])
    other_ws = _body(["pl_1", "ws_2", session.sid, T0])
    foreign = PortalSessionCodec(derive_portal_key("random", "admin-hash", "secret"))
    for forged in (
        f"{version}.{other_link}.{signature}",
        f"{version}.{other_ws}.{signature}",
        f"{version}.{body}.{signature[:-2]}AA",
        f"{version}.{body}.",
        f"{version}.{body}",
        foreign.encode(session),
    ):
        assert codec.decode(forged, T0) is None, forged


def test_another_version_or_a_malformed_value_decodes_to_nothing(
    codec: PortalSessionCodec, session: PortalSession
) -> None:
    _, body, signature = codec.encode(session).split(".")
    assert codec.decode(f"p2.{body}.{signature}", T0) is None
    assert codec.decode(None, T0) is None
    assert codec.decode("", T0) is None
    assert codec.decode("garbage", T0) is None
    # Signed with the right key but not a session: the signature alone does not make one.
    for junk in (b"not json", orjson.dumps(["pl_1", "ws_1"]), orjson.dumps(["a", "b", "c", "x"])):
        body = base64.urlsafe_b64encode(junk).rstrip(b"=").decode()
        assert codec.decode(f"p1.{body}.{codec._signed._sign(body)}", T0) is None, junk


def test_the_key_depends_on_every_input() -> None:
    keys = {
        derive_portal_key("random", "admin-hash", None),
        derive_portal_key("other", "admin-hash", None),
        derive_portal_key("random", "other-hash", None),
        derive_portal_key("random", "admin-hash", "secret"),
    }
    assert len(keys) == 4
    assert derive_portal_key("random", "admin-hash", None) == derive_portal_key(
        "random", "admin-hash", ""
    )


def test_the_csrf_token_belongs_to_one_session(
    codec: PortalSessionCodec, session: PortalSession
) -> None:
    token = codec.csrf_token(session)
    assert codec.csrf_token(session) == token
    assert codec.csrf_ok(session, token)
    other = PortalSession.new("pl_1", "ws_1", T0)
    assert not codec.csrf_ok(other, token)
    assert not codec.csrf_ok(session, None)
    assert not codec.csrf_ok(session, "")
    assert not codec.csrf_ok(session, token[:-1])
    assert not PortalSessionCodec(derive_portal_key("x", "y", None)).csrf_ok(session, token)


def test_a_value_with_any_character_is_refused_not_an_error(
    codec: PortalSessionCodec, session: PortalSession
) -> None:
    """Header values arrive as latin-1 text: a non-ASCII one must decode to nothing."""
    version, body, _ = codec.encode(session).split(".")
    assert codec.decode(f"{version}.{body}.é", T0) is None
    assert codec.decode("p1.é.é", T0) is None
    assert not codec.csrf_ok(session, "é" * 64)
