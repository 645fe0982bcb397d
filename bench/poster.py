"""A lean HTTP/1.1 client for the open-loop publisher: keep-alive connections on asyncio
protocols, one request at a time on each, no pipelining.

Why not aiohttp here: the load generator shares the machine's cores with what it measures. On
the 2-core benchmark host aiohttp's client spent about 300 µs of CPU per publish request, as
much as the API spent answering it, so at 2,000 events/s the publisher alone took a third of
a core the API and the worker needed. This client builds each request from a prepared header
block and reads only the status line, ``Content-Length`` and the body: a few tens of µs per
request. It speaks only to Hookline's API on loopback, which answers every request with a
``Content-Length`` (no chunked bodies, no ``100 Continue``); anything else is an error.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import cast
from urllib.parse import urlsplit

#: Reuse a connection idle for no longer than this: uvicorn closes one after 5 s.
IDLE_SECONDS = 3.0


class ProtocolError(Exception):
    """An answer this client does not read (chunked, malformed, connection closed early)."""


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False
        self.idle_since = 0.0  # monotonic

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ProtocolError(f"connection closed: {exc}"))

    def send(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self._waiter

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        head_end = self._buffer.find(b"\r\n\r\n")
        if head_end < 0 or self._waiter is None:
            return
        head = bytes(self._buffer[:head_end]).lower()
        length_at = head.find(b"\r\ncontent-length:")
        if length_at < 0:
            self._fail("no Content-Length in the answer")
            return
        line_end = head.find(b"\r\n", length_at + 2)
        length = int(head[length_at + 17 : line_end if line_end >= 0 else len(head)])
        body_start = head_end + 4
        if len(self._buffer) < body_start + length:
            return
        status = int(head[9:12])
        body = bytes(self._buffer[body_start : body_start + length])
        del self._buffer[: body_start + length]
        waiter, self._waiter = self._waiter, None
        if not waiter.done():
            waiter.set_result((status, body))

    def _fail(self, reason: str) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ProtocolError(reason))
        if self.transport is not None:
            self.transport.close()


class Poster:
    """POSTs JSON bodies to one URL over a pool of keep-alive connections (a new one whenever
    all are busy, as an open-loop publisher needs, up to ``max_connections``)."""

    def __init__(self, url: str, headers: dict[str, str], max_connections: int = 1000) -> None:
        parts = urlsplit(url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        lines = [f"POST {parts.path or '/'} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += ["Content-Type: application/json", "Content-Length: "]
        self._head = "\r\n".join(lines).encode()
        self._idle: deque[_Connection] = deque()
        self._slots = asyncio.Semaphore(max_connections)

    async def post(self, body: bytes) -> tuple[int, bytes]:
        """The answer's status and body."""
        async with self._slots:
            conn = await self._connection()
            try:
                answer = await conn.send(self._head + b"%d\r\n\r\n" % len(body) + body)
            except BaseException:
                if conn.transport is not None:
                    conn.transport.close()
                raise
            if not conn.closed:
                conn.idle_since = time.monotonic()
                self._idle.append(conn)
            return answer

    async def _connection(self) -> _Connection:
        # The most recently used first; one idle near the server's keep-alive timeout is closed
        # rather than reused, lest the server close it just as a request is written (a reset).
        fresh_since = time.monotonic() - IDLE_SECONDS
        while self._idle:
            conn = self._idle.pop()
            if conn.closed:
                continue
            if conn.idle_since >= fresh_since:
                return conn
            if conn.transport is not None:
                conn.transport.close()
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(_Connection, self._host, self._port)
        return conn

    def close(self) -> None:
        while self._idle:
            conn = self._idle.pop()
            if conn.transport is not None:
                conn.transport.close()
