"""A TCP proxy in front of a real broker, to break its connections on purpose.

    async with TcpProxy(4222) as proxy:        # listens on 127.0.0.1:proxy.port
        ...connect to 127.0.0.1:proxy.port...
        proxy.hold()                           # the broker's answers stop reaching clients
        killed = await proxy.kill_all()        # every proxied connection reset at once

:meth:`TcpProxy.hold` keeps what the broker sends (acknowledgements) from the clients until
:meth:`TcpProxy.release`, while what clients send still reaches the broker: a message is taken
but its acknowledgement is lost with the connection. :meth:`TcpProxy.kill_all` aborts both
sides of every connection open through the proxy (a TCP reset to the client, as when a broker
crashes or a middlebox drops the connection); the proxy keeps listening, so the client's next
connection goes through again.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from types import TracebackType

_CHUNK = 64 * 1024


class TcpProxy:
    """Forwards connections to ``127.0.0.1:<port>`` to ``host:target_port`` (see the module)."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.accepted = 0  # connections proxied so far
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._flowing = asyncio.Event()  # broker to client; cleared by hold()
        self._flowing.set()

    @property
    def open_connections(self) -> int:
        return len(self._links)

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def hold(self) -> None:
        """Stop forwarding what the broker sends (it is kept, and forwarded on release)."""
        self._flowing.clear()

    def release(self) -> None:
        self._flowing.set()

    async def kill_all(self) -> int:
        """Abort every proxied connection (both sides); how many there were."""
        links, self._links = list(self._links), set()
        for link in links:
            link.abort()
        await asyncio.sleep(0)  # let the pumps notice
        return len(links)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        await self.kill_all()

    async def __aenter__(self) -> TcpProxy:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        self.accepted += 1
        link = _Link(writer, up_writer)
        self._links.add(link)
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer, self._flowing))
        finally:
            self._links.discard(link)
            link.abort()


class _Link:
    """One proxied connection: the client's side and the broker's side."""

    def __init__(self, client: asyncio.StreamWriter, upstream: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream = upstream

    def abort(self) -> None:
        _reset(self.client)
        _reset(self.upstream)


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, flowing: asyncio.Event | None = None
) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(_CHUNK):
            if flowing is not None:
                await flowing.wait()
            if writer.is_closing():
                return
            writer.write(data)
            await writer.drain()
    if not writer.is_closing():
        with contextlib.suppress(OSError):
            writer.write_eof()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), not an orderly FIN."""
    if writer.is_closing():
        return
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
