"""The headers every capture answer carries and the ones a bin may not set (pure), and the
middleware putting them on every answer under /in/, an unexpected error's included."""

from __future__ import annotations

import pytest
from starlette.types import Message, Receive, Scope, Send

from hookline.api.capture_isolation import CaptureIsolation, isolated
from hookline.domain.capture_headers import refused_header

CSP = (b"content-security-policy", b"sandbox; default-src 'none'; frame-ancestors 'none'")


def test_refused_headers_are_named_in_any_case() -> None:
    for name in ("Set-Cookie", "SET-COOKIE", "Access-Control-Allow-Origin", "access-control-x"):
        assert refused_header(name)
    for name in ("Content-Type", "Location", "X-Custom", "Retry-After", "Cache-Control"):
        assert not refused_header(name)


def test_isolated_drops_refused_and_replaces_isolation_headers() -> None:
    given = [
        (b"Set-Cookie", b"a=1"),
        (b"content-security-policy", b"script-src *"),
        (b"x-frame-options", b"ALLOWALL"),
        (b"content-type", b"text/html"),
    ]
    headers = isolated(given)
    assert (b"content-type", b"text/html") in headers and CSP in headers
    names = [name.lower() for name, _ in headers]
    assert b"set-cookie" not in names and len(names) == len(set(names))
    assert (b"x-frame-options", b"DENY") in headers


async def _run(app: CaptureIsolation, path: str) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "path": path, "method": "GET", "headers": []}
    await app(scope, receive, send)
    return sent


async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _fail(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("boom")


async def test_only_capture_answers_are_isolated() -> None:
    [start, _] = await _run(CaptureIsolation(_answer), "/in/bin_1/x")
    assert CSP in start["headers"] and (b"x-a", b"1") in start["headers"]
    [start, _] = await _run(CaptureIsolation(_answer), "/inspector")
    assert start["headers"] == [(b"x-a", b"1")]


async def test_an_unexpected_error_is_answered_isolated_and_raised_on() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "path": "/in/bin_1", "method": "GET", "headers": []}
    with pytest.raises(RuntimeError, match="boom"):
        await CaptureIsolation(_fail)(scope, receive, send)
    assert sent[0]["status"] == 500 and CSP in sent[0]["headers"]
    assert b'"internal_error"' in sent[1]["body"]
