"""``idempotency-key`` on a POST: the first 2xx answer is kept for 12 hours and replayed for the
same key, token and path; a duplicate that arrives while the first runs waits for it; an error
answer releases the key, so a retry runs again. The Svix SDKs send a key with every POST.

The key is kept in the database (``hookline.store.idempotency``), so a repeat reaching another
API process is answered the same way. Stored under a hash of the token, the path and the key:
the same key sent with another token or to another path is another request.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookline.store import Store

#: How long an answer is replayed.
KEEP_SECONDS = 12 * 3600
#: How long a repeat waits for the first request to finish, and after how long a first request
#: that never finished (its process died) frees its key.
WAIT_SECONDS = 30.0
_POLL = 0.05


class IdempotentPosts:
    """ASGI middleware of the Svix API (see the module's text)."""

    def __init__(self, app: ASGIApp, store: Callable[[], Store]) -> None:
        self._app = app
        self._store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _key(scope) if scope["type"] == "http" and scope["method"] == "POST" else None
        if key is None:
            await self._app(scope, receive, send)
            return
        store = self._store()
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            now = time.time()
            if await store.idempotency.claim(key, now, now + KEEP_SECONDS, WAIT_SECONDS):
                await self._first(store, key, scope, receive, send)
                return
            kept = await store.idempotency.find(key, now)
            if kept is not None and kept[0] is not None:
                await _replay(send, kept[0], kept[1] or "")
                return
            await asyncio.sleep(_POLL if kept is None else _POLL * 4)
        await _replay(send, 409, '{"code":"conflict","detail":"a request with this'
                      ' idempotency-key is still running"}')  # fmt: skip

    async def _first(
        self, store: Store, key: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        status = 500
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self._app(scope, receive, capture)
        finally:
            if 200 <= status < 300:
                body = b"".join(chunks).decode("utf-8", "replace")
                await asyncio.shield(store.idempotency.settle(key, status, body))
            else:
                await asyncio.shield(store.idempotency.release(key))


def _key(scope: Scope) -> str | None:
    headers = dict(scope["headers"])
    given = headers.get(b"idempotency-key")
    token = headers.get(b"authorization")
    if not given or token is None or len(given) > 256:
        return None
    path: str = scope["path"]  # the whole path, the mount's prefix included
    return hashlib.sha256(b"\n".join((token, path.encode(), given))).hexdigest()


async def _replay(send: Send, status: int, body: str) -> None:
    data = body.encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if not data:
        headers = [(b"content-length", b"0")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
