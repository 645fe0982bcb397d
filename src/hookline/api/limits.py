"""Limits checked before any route runs: request bodies over the configured size (413,
declared or streamed), and U+0000 in a path or query (422).

One limit for every route (``max_body_bytes``) but the batch publish, whose body carries up to
a thousand events (``max_batch_body_bytes``; each event is still held to ``max_body_bytes``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookline.api.svix.errors import PREFIX, svix_body
from hookline.domain import nul
from hookline.errors import ApiError, PayloadTooLarge, ValidationFailed


class BodyTooLarge(HTTPException):
    """An HTTP error, so that a handler reading the body lets it through: FastAPI turns any
    other exception raised while reading a body into a 400."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request bodies are limited to {max_bytes} bytes")


#: The batch publish: ``POST /v1/workspaces/{ws}/events/batch``.
BATCH_PUBLISH = re.compile(r"/v1/workspaces/[^/]+/events/batch/?")


class BodySizeLimit:
    """``max_bytes`` per request body, or the limit of the first of ``larger`` (a path
    pattern, matched whole, and its limit) that matches a POST's path."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: Sequence[tuple[re.Pattern[str], int]] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = tuple(larger)

    def limit(self, scope: Scope) -> int:
        if scope.get("method") == "POST":
            path = scope.get("path", "")
            for pattern, max_bytes in self.larger:
                if pattern.fullmatch(path):
                    return max(max_bytes, self.max_bytes)
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit(scope)
        declared, chunked = framing(scope)
        if declared is not None and declared > max_bytes:
            await self._refuse(scope, send, max_bytes)
            return
        if declared is not None and not chunked:
            # The server reads exactly the declared length (the bytes after it are the next
            # request): nothing to count.
            await self.app(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise BodyTooLarge(max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send, max_bytes)

    async def _refuse(self, scope: Scope, send: Send, max_bytes: int) -> None:
        message = f"request bodies are limited to {max_bytes} bytes"
        await _refuse(scope, send, PayloadTooLarge(message))


def framing(scope: Scope) -> tuple[int | None, bool]:
    """The request's declared ``Content-Length`` (None if absent or not a number), and whether
    it has a ``Transfer-Encoding`` (whose framing overrides the length)."""
    declared: int | None = None
    chunked = False
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            declared = int(value) if value.isdigit() else None
        elif name == b"transfer-encoding":
            chunked = True
    return declared, chunked


async def _refuse(scope: Scope, send: Send, error: ApiError) -> None:
    """An error answer in the shape of the API the request is for (Svix's under its prefix),
    sent before any route runs."""
    shaped = svix_body(error) if scope.get("path", "").startswith(PREFIX) else error.to_dict()
    status, body = error.status, orjson.dumps(shaped)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


#: A capture URL: only its bin id is looked up; the rest of its path and its query are stored
#: exactly as sent (percent-encoded), so a ``%00`` there is data, not a problem.
_CAPTURE = re.compile(r"/in/([^/]*)")


class NulRefusal:
    """Refuses U+0000 (``%00``) in a request's path or query with 422 (see ``hookline.domain.nul``):
    path parameters and query parameters become ids, names and search terms that PostgreSQL
    cannot hold, and the answer must be the same on both databases."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._has_nul(scope):
            await _refuse(scope, send, ValidationFailed(f"path and query: {nul.MESSAGE}"))
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _has_nul(scope: Scope) -> bool:
        path: str = scope.get("path", "")
        capture = _CAPTURE.match(path)
        if capture is not None:
            return "\x00" in capture.group(1)
        return "\x00" in path or b"%00" in scope.get("query_string", b"")
