"""``hookline.AsyncClient.create_destination``: a Redis Stream action made from Python code,
an event published with the client, and the entry a consumer reads verifies."""

from __future__ import annotations

import uuid

import pytest

from hookline import AsyncClient
from hookline.verify import verify
from tests.brokers import REDIS, REDIS_URL, require_broker
from tests.conftest import Service
from tests.polling import eventually

redis_asyncio = pytest.importorskip("redis.asyncio", reason="hookline[redis] is not installed")


async def test_a_destination_made_with_the_client_receives_signed_entries(
    service: Service,
) -> None:
    require_broker(REDIS)
    stream = f"hl-client-{uuid.uuid4().hex[:8]}"
    reader = redis_asyncio.Redis.from_url(REDIS_URL)
    ws, key = await service.workspace()
    try:
        async with AsyncClient(service.url, key, workspace_id=ws) as client:
            action = await client.create_destination(
                "stream", "redis", {"url": REDIS_URL, "stream": stream}, secret="generate"
            )
            assert (action.kind, action.url) == ("redis", None)
            assert action.raw["redis"]["stream"] == stream
            assert action.secret is not None
            published = await client.publish("task.completed", {"task": 1})
        entries = await eventually(
            lambda: reader.xrange(stream), bool, timeout=10, what="the entry in the stream"
        )
        [(_entry_id, fields)] = entries
        body = fields.pop(b"body")
        headers = {k.decode(): v.decode() for k, v in fields.items()}
        verify("standard", body, headers, action.secret)
        assert headers["X-Hookline-Event-Id"] == published.id
    finally:
        await reader.delete(stream)
        await reader.aclose()
