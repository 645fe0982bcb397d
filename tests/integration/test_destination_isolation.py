"""A broker that never answers holds only its own deliveries: HTTP deliveries on the same
worker go on at once, and the broker's attempts fail as timeouts and are retried.

The "brokers" here are real TCP listeners on 127.0.0.1 that accept connections and never say a
word: the Redis client's connection never completes, as with a host that black-holes traffic."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tests.conftest import start_receiver
from tests.integration.engine_helpers import Api, running_service, workspace
from tests.polling import eventually

pytest.importorskip("redis", reason="the redis extra (hookline[redis]) is not installed")


@asynccontextmanager
async def silent_listener() -> AsyncIterator[int]:
    """A port that accepts connections and never answers; closes them when done."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in held:
            writer.close()


async def test_a_silent_broker_cannot_hold_the_http_deliveries(database_url: str) -> None:
    fast, fast_runner = await start_receiver()
    try:
        async with silent_listener() as p1, silent_listener() as p2, silent_listener() as p3:
            settings = {"per_webhook_concurrency": 4, "worker_concurrency": 8}
            async with running_service(database_url, **settings) as svc:
                api = await workspace(svc)
                silent: set[str] = set()
                for n, port in enumerate((p1, p2, p3)):
                    hook = await api.ok("POST", "/webhooks", json={
                        "name": f"silent-{n}", "kind": "redis", "events": ["queue.*"],
                        "redis": {"url": f"redis://127.0.0.1:{port}/0", "stream": "s"},
                        "timeout_seconds": 1.0, "retry_schedule": [0, 0, 0, 0, 0],
                    })  # fmt: skip
                    silent.add(hook["id"])
                await api.hook(fast.url, name="fast", events=["fast.*"])
                for n in range(10):
                    await api.publish({"n": n}, type="queue.tick")
                await asyncio.sleep(1.5)  # past the first timeouts: the brokers are failing
                loop = asyncio.get_running_loop()
                published: dict[int, float] = {}
                for n in range(40):
                    await api.publish({"n": n}, type="fast.tick")
                    published[n] = loop.time()
                await fast.wait_for(40, timeout=5)
                lags = [r.at - published[json.loads(r.body)["n"]] for r in fast.requests]
                assert max(lags) < 0.8, sorted(lags)[-5:]
                await _broker_attempts_time_out(api, silent)
    finally:
        await fast_runner.cleanup()


async def _broker_attempts_time_out(api: Api, silent: set[str]) -> None:
    """The silent brokers' attempts are recorded as timeouts, and nothing else."""

    async def attempts() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for hook_id in silent:
            page = await api.ok("GET", f"/deliveries?webhook_id={hook_id}&limit=5")
            for d in page["data"]:
                found += (await api.delivery(d["id"]))["attempts"]
        return found

    tried = await eventually(attempts, bool, timeout=5, what="a broker attempt recorded")
    assert {a["error_class"] for a in tried} == {"timeout"}, tried[:3]
    assert all(a["request"]["url"].startswith("redis://127.0.0.1:") for a in tried)
    assert all(a["request"]["method"] == "PUBLISH" for a in tried)
