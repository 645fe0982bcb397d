"""The fallback sink when nginx is absent: ``python -m bench.pysink PORT LOGFILE``.

aiohttp's low-level server on uvloop; it answers 200 at once and writes nginx's log line format
(``<epoch seconds> <X-Hookline-Event-Id> <path>``) every 50 ms.
"""

from __future__ import annotations

import asyncio
import sys
import time

import uvloop
from aiohttp import web


async def serve(port: int, log_path: str) -> None:
    lines: list[str] = []

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        await request.read()
        event_id = request.headers.get("X-Hookline-Event-Id", "-")
        lines.append(f"{time.time():.3f} {event_id} {request.path}\n")
        return web.Response(text="ok\n")

    server = web.Server(handle, access_log=None)
    runner = web.ServerRunner(server)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
    with open(log_path, "a", buffering=1 << 16) as log:
        while True:
            await asyncio.sleep(0.05)
            if lines:
                log.writelines(lines)
                lines.clear()
                log.flush()


def main() -> None:
    uvloop.run(serve(int(sys.argv[1]), sys.argv[2]))


if __name__ == "__main__":
    main()
