"""Keeps what a capture URL answers from acting on Hookline's own origin.

A bin answers with a body and headers its workspace chose, under the dashboard's host name
unless the operator gives capture URLs their own (``capture_base_url``). Every answer under
``/in/`` is therefore sandboxed, whatever produced it (the bin, an error, the body limit): the
browser shows it as a page of an opaque origin that runs no script, sends no cookie and cannot
be framed. A bin may not configure the headers a browser applies to the whole origin or that
would undo the sandbox (``hookline.domain.capture_headers``); those of bins stored before that
rule are dropped when answering.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookline.api.errors import error_response
from hookline.domain.capture_headers import refused_header

CAPTURE_PREFIX = "/in/"

#: What every capture answer carries (and a bin cannot override).
ISOLATION_HEADERS: tuple[tuple[str, str], ...] = (
    # No allow-scripts, no allow-same-origin: no script runs, and the page's origin is opaque.
    ("Content-Security-Policy", "sandbox; default-src 'none'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    # Another site cannot embed an answer (as an image, a script) and read it by side channel.
    ("Cross-Origin-Resource-Policy", "same-origin"),
)

# What a browser loads as code or style of the page that asks (``Sec-Fetch-Dest``): a capture
# URL is never that, and answering would let an injection on Hookline's own origin use a bin's
# body as a same-origin script that the dashboard's ``script-src 'self'`` would allow.
_CODE_DESTINATIONS = frozenset(
    {
        b"script",
        b"style",
        b"worker",
        b"sharedworker",
        b"serviceworker",
        b"audioworklet",
        b"paintworklet",
        b"xslt",
        b"manifest",
    }
)
_ISOLATION_NAMES = frozenset(name.lower().encode() for name, _ in ISOLATION_HEADERS)
_ISOLATION_RAW = [(name.lower().encode(), value.encode()) for name, value in ISOLATION_HEADERS]


def isolated(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """An answer's headers without the refused ones, with the isolation headers."""
    kept = [
        (name, value)
        for name, value in headers
        if name.lower() not in _ISOLATION_NAMES and not refused_header(name.decode("latin-1"))
    ]
    return kept + _ISOLATION_RAW


def _loaded_as_code(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"sec-fetch-dest":
            return value.strip().lower() in _CODE_DESTINATIONS
    return False


class CaptureIsolation:
    """ASGI middleware: every answer under ``/in/`` gets ``isolated`` headers. It wraps the
    whole application, so the body limit's 413, a 404 for an unknown bin and an unexpected
    error's 500 are covered as much as a bin's own answer. A request that a browser makes to
    load code or style (``Sec-Fetch-Dest``) is refused with 403 before it reaches the bin."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(CAPTURE_PREFIX):
            await self.app(scope, receive, send)
            return
        started = False

        async def isolating_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": isolated(list(message.get("headers", [])))}
            await send(message)

        if _loaded_as_code(scope):
            message = "capture URLs cannot be loaded as a script, style sheet or worker"
            await error_response(403, "forbidden", message)(scope, receive, isolating_send)
            return
        try:
            await self.app(scope, receive, isolating_send)
        except Exception:
            # The server's error middleware, outside this one, logs the error and would answer
            # it; answered here, with the same opaque 500, the answer is isolated too.
            if not started:
                answer = error_response(500, "internal_error", "an unexpected error occurred")
                await answer(scope, receive, isolating_send)
            raise
