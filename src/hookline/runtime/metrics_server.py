"""Metrics on their own port (``HOOKLINE_METRICS_PORT``), for an API process and a worker
alike: a small aiohttp server in the process's event loop, answering ``GET /metrics`` to whom
``hookline.runtime.metrics_access`` allows (401 in the API's error shape otherwise).

aiohttp rather than the API's stack, so that a ``hookline worker`` still starts without loading
FastAPI; rather than ``prometheus_client``'s server thread, so that the token is checked and
the queue gauges are read from the database as on the API's port.
"""

from __future__ import annotations

import socket

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from hookline.runtime.metrics import Metrics
from hookline.runtime.metrics_access import MetricsAccess
from hookline.store import Store


async def start_metrics_server(
    sock: socket.socket, metrics: Metrics, store: Store, access: MetricsAccess
) -> web.AppRunner:
    """Serve until the returned runner is cleaned up."""

    async def scrape(request: web.Request) -> web.Response:
        if not access.allows(request.headers.get("Authorization")):
            return web.json_response(access.refusal().to_dict(), status=401)
        body = await metrics.render(store)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner
