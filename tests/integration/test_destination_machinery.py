"""A broker action goes through the same machinery as an HTTP webhook: its filter, body
template, ordering and rate limit apply to what is published, and a delivery retried by hand
or replayed is published again, as a new attempt of the same delivery. Against real Redis."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hookline.verify import verify
from tests.brokers import REDIS, REDIS_URL, require_broker
from tests.conftest import Service
from tests.polling import eventually

redis_asyncio = pytest.importorskip("redis.asyncio", reason="hookline[redis] is not installed")


@pytest.fixture
async def stream() -> AsyncIterator[tuple[str, Any]]:
    require_broker(REDIS)
    name = f"hl-machinery-{uuid.uuid4().hex[:8]}"
    reader = redis_asyncio.Redis.from_url(REDIS_URL)
    yield name, reader
    await reader.delete(name)
    await reader.aclose()


def _entries(raw: list[tuple[bytes, dict[bytes, bytes]]]) -> list[tuple[bytes, dict[str, str]]]:
    found = []
    for _entry_id, fields in raw:
        body = fields[b"body"]
        found.append((body, {k.decode(): v.decode() for k, v in fields.items() if k != b"body"}))
    return found


async def test_filter_template_order_rate_retry_and_replay_apply_to_a_stream(
    service: Service, stream: tuple[str, Any]
) -> None:
    name, reader = stream
    ws, key = await service.workspace()
    base = f"/v1/workspaces/{ws}"
    hook = await service.ok("POST", f"{base}/webhooks", token=key, json={
        "name": "ordered stream", "kind": "redis", "events": ["task.*"],
        "redis": {"url": REDIS_URL, "stream": name},
        "filter": {"keep": True}, "body_template": '{"n": $n, "kind": "${event.type}"}',
        "ordering": "fifo", "rate_limit_per_second": 50, "secret": "generate",
    })  # fmt: skip
    started = time.monotonic()
    for n in range(12):
        await service.ok(
            "POST", f"{base}/events", token=key,
            json={"type": "task.done", "payload": {"n": n, "keep": n % 3 != 0}},
        )  # fmt: skip
    raw = await eventually(
        lambda: reader.xrange(name), lambda r: len(r) >= 8, timeout=10, what="8 entries"
    )
    entries = _entries(raw)
    # Only what the filter keeps, in publishing order, shaped by the template, signed.
    assert [json.loads(body)["n"] for body, _ in entries] == [1, 2, 4, 5, 7, 8, 10, 11]
    assert json.loads(entries[0][0]) == {"n": 1, "kind": "task.done"}
    for body, headers in entries:
        verify("standard", body, headers, hook["secret"])
    # 50 a second: the eight were spread over at least 7/50 s.
    assert time.monotonic() - started >= 7 / 50
    # A manual retry publishes the delivery again as its second attempt.
    first_delivery = entries[0][1]["X-Hookline-Delivery-Id"]
    await service.ok("POST", f"{base}/deliveries/{first_delivery}/retry", token=key)
    raw = await eventually(
        lambda: reader.xrange(name), lambda r: len(r) >= 9, timeout=10, what="the retry"
    )
    body, headers = _entries(raw)[-1]
    assert (headers["X-Hookline-Delivery-Id"], headers["X-Hookline-Attempt"]) == (
        first_delivery,
        "2",
    )
    detail = await service.ok("GET", f"{base}/deliveries/{first_delivery}", token=key)
    assert [a["response"]["body_excerpt"] for a in detail["attempts"]] == [
        raw[0][0].decode(),
        raw[-1][0].decode(),
    ]  # each attempt records the entry id XADD answered
    # Replaying the succeeded deliveries publishes all eight again.
    replayed = await service.ok(
        "POST", f"{base}/webhooks/{hook['id']}/replay", token=key,
        json={"since": "2020-01-01T00:00:00Z", "statuses": ["succeeded"]},
    )  # fmt: skip
    assert replayed["queued"] == 8
    await eventually(
        lambda: reader.xlen(name), lambda n: n >= 17, timeout=10, what="the replayed entries"
    )
