"""Bounded body templates and payload filters, through the real service: a template that would
render more than ``HOOKLINE_MAX_BODY_BYTES`` is refused before it is built (a 422 on the
previews, a failed attempt that sends nothing in delivery), and a filter larger than the limits
is refused when created but still loads when it was stored before."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from hookline.domain.filters import MAX_NODES, compile_filter
from hookline.settings import Settings
from hookline.store import open_store
from hookline.wire.schemas import EventIn
from tests.conftest import Receiver, Service, started
from tests.integration.dashboard_client import DashboardClient
from tests.polling import eventually

LIMIT = 4096
PAYLOAD = {"orderId": "o-1", "note": "x" * 100}
AMPLIFIER = "$payload" * 100  # 100 copies of a ~120-byte payload: about 12 KB


@pytest.fixture
async def limited(database_url: str) -> AsyncIterator[Service]:
    async for service in started(database_url, max_body_bytes=LIMIT):
        yield service


async def _workspace(service: Service) -> tuple[str, str]:
    """A workspace whose catalog has ``order.paid``, with ``PAYLOAD`` as its example."""
    ws, key = await service.workspace()
    await service.ok(
        "POST", f"/v1/workspaces/{ws}/event-types", token=key,
        json={"name": "order.paid", "example": PAYLOAD},
    )  # fmt: skip
    return ws, key


async def _hook(service: Service, ws: str, key: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "h", "events": ["order.paid"], **fields}
    return await service.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=body)  # type: ignore[no-any-return]


async def test_a_preview_that_would_render_too_much_is_a_422(
    limited: Service, receiver: Receiver
) -> None:
    ws, key = await _workspace(limited)
    small = await _hook(limited, ws, key, name="small", url=receiver.url, body_template="$orderId")
    big = await _hook(limited, ws, key, name="big", url=receiver.url, body_template=AMPLIFIER)
    # A window of one event: its document holds the payload under "events".
    window = await _hook(
        limited, ws, key, name="window", url=receiver.url, aggregation_seconds=60,
        body_template="$events" * 100,
    )  # fmt: skip
    path = f"/v1/workspaces/{ws}/webhooks/{{}}/preview"
    shown = await limited.ok("POST", path.format(small["id"]), token=key, json={"payload": PAYLOAD})
    assert shown["body"] == "o-1"
    for hook in (big, window):
        status, answer = await limited.call(
            "POST", path.format(hook["id"]), token=key, json={"payload": PAYLOAD}
        )
        assert status == 422, answer
        error = answer["error"]
        assert (error["code"], error["field"]) == ("template_too_large", "body_template")
        assert f"more than the {LIMIT} allowed" in error["message"]
    assert receiver.requests == []


async def test_the_dashboard_preview_that_would_render_too_much_is_a_422(
    limited: Service, receiver: Receiver
) -> None:
    _, key = await _workspace(limited)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        visitor = DashboardClient(http, limited.url)
        assert (await visitor.sign_in(key)).status == 303
        csrf = (await visitor.get("/webhooks/new")).csrf()
        form = {"csrf_token": csrf, "name": "h", "url": receiver.url, "events": "order.paid"}
        fits = await visitor.post("/webhooks/preview", form | {"body_template": "$orderId"})
        assert fits.status == 200 and "o-1" in fits.text
        refused = await visitor.post("/webhooks/preview", form | {"body_template": AMPLIFIER})
    assert refused.status == 422
    assert 'data-code="template_too_large"' in refused.text
    assert f"more than the {LIMIT} allowed" in refused.text


async def _settled(service: Service, ws: str, key: str, delivery_id: str) -> dict[str, Any]:
    path = f"/v1/workspaces/{ws}/deliveries/{delivery_id}"
    detail: dict[str, Any] = await eventually(
        lambda: service.ok("GET", path, token=key),
        lambda detail: detail["status"] != "pending",
        what=f"delivery {delivery_id} settled",
    )
    return detail


async def test_a_delivery_that_would_render_too_much_fails_without_sending(
    limited: Service, receiver: Receiver
) -> None:
    ws, key = await _workspace(limited)
    hooks = [
        await _hook(limited, ws, key, name="control", url=receiver.url + "/control"),
        await _hook(limited, ws, key, name="http", url=receiver.url + "/http",
                    body_template=AMPLIFIER),
        await _hook(limited, ws, key, name="window", url=receiver.url + "/window",
                    aggregation_seconds=1, body_template="$events" * 100),
        await _hook(limited, ws, key, name="email", kind="email",
                    email={"to": ["ops@example.com"], "subject": "order", "body": AMPLIFIER}),
    ]  # fmt: skip
    published = await limited.ok(
        "POST", f"/v1/workspaces/{ws}/events", token=key,
        json={"type": "order.paid", "payload": PAYLOAD},
    )  # fmt: skip
    by_hook = {d["webhook_id"]: d["id"] for d in published["deliveries"]}
    control, *refused = [await _settled(limited, ws, key, by_hook[h["id"]]) for h in hooks]
    assert control["status"] == "succeeded"
    for detail in refused:
        assert detail["status"] == "failed"  # at once: every retry would render the same body
        [attempt] = detail["attempts"]
        assert attempt["error_class"] == "template_too_large"
        assert f"more than the {LIMIT} allowed" in attempt["error_message"]
        assert attempt["request"]["body"] is None
    await asyncio.sleep(0.3)
    assert [r.path for r in receiver.requests] == ["/control"]


def _big_filter() -> dict[str, Any]:
    return {"n": {"$in": list(range(MAX_NODES))}}


async def test_a_filter_over_the_limits_is_refused_when_created(service: Service) -> None:
    ws, key = await service.workspace()
    for path, body in [
        ("webhooks", {"name": "h", "url": "https://example.com", "filter": _big_filter()}),
        ("flows", {"name": "f", "filter": _big_filter()}),
    ]:
        status, answer = await service.call(
            "POST", f"/v1/workspaces/{ws}/{path}", token=key, json=body
        )
        assert status == 422, answer
        assert answer["error"]["field"] == "filter"
        assert f"more than the {MAX_NODES} allowed" in answer["error"]["message"]


async def test_a_stored_filter_over_the_limits_still_loads_and_routes(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await _workspace(service)
    created = await _hook(service, ws, key, url=receiver.url, filter={"n": 7})
    store = await open_store(Settings(database_url=service.settings.database_url))
    try:  # as if stored before the limit existed
        hook = await store.config.get_webhook(ws, created["id"])
        assert hook is not None
        config = hook.config.model_copy(update={"filter": _big_filter()})
        await store.config.save_webhook(replace(hook, config=config), create=False)
    finally:
        await store.close()
    shown = await service.ok("GET", f"/v1/workspaces/{ws}/webhooks/{created['id']}", token=key)
    assert shown["filter"] == _big_filter()
    for n in (MAX_NODES + 1, 7):
        await service.ok(
            "POST", f"/v1/workspaces/{ws}/events", token=key,
            json={"type": "order.paid", "payload": {"n": n}},
        )  # fmt: skip
    [request] = await receiver.wait_for(1)
    assert request.body == b'{"n": 7}'


async def test_filtering_a_large_payload_does_not_hold_the_event_loop(service: Service) -> None:
    """Filters that look at every value of a 1 MiB payload take a while even in linear time:
    such a publish is routed off the event loop, so other requests are answered meanwhile."""
    ws, key = await service.workspace()
    # Each filter compares every one of 200,000 lists with its list operands.
    spec = {"$or": [{"a": {"$in": [[i + 1]]}} for i in range(50)]}
    hooks = 16
    for n in range(hooks):
        await service.ok(
            "POST", f"/v1/workspaces/{ws}/webhooks", token=key,
            json={"name": f"f{n}", "url": "http://127.0.0.1:9/", "filter": spec},
        )  # fmt: skip
    payload = {"a": [[0] for _ in range(200_000)]}
    # What routing costs on this machine now, were it done in one go on the loop.
    started_at = time.perf_counter()
    for _ in range(hooks):
        assert not compile_filter(spec).matches(payload)
    routing = time.perf_counter() - started_at
    publish = asyncio.create_task(
        service.call(
            "POST", f"/v1/workspaces/{ws}/events", token=key,
            json={"type": "big.one", "payload": payload},
        )
    )  # fmt: skip
    longest = await _longest_healthz_wait(service, publish)
    status, event = await publish
    assert status == 202 and event["deliveries"] == []  # no filter matched
    # On the loop, one /healthz would have waited for the whole routing.
    assert longest < routing / 2, (longest, routing)


async def _longest_healthz_wait(service: Service, busy: asyncio.Task[Any]) -> float:
    """The longest time between two answers of ``/healthz``, asked back to back until ``busy``
    is done."""
    gaps, last = [0.0], time.perf_counter()
    while not busy.done():
        async with service.http.get(service.url + "/healthz") as r:
            assert r.status == 200
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    return max(gaps)


async def test_parsing_and_checking_a_large_payload_does_not_hold_the_event_loop(
    database_url: str,
) -> None:
    """Checking that every value of megabytes of JSON can be stored takes a while: a large
    publish is parsed and validated off the event loop, so other requests are answered."""
    payload = {"a": [[0] for _ in range(600_000)]}  # about 4 MB as JSON
    raw = {"type": "big.one", "payload": payload}
    started_at = time.perf_counter()  # what parsing and checking it costs here, in one go
    EventIn.model_validate(json.loads(json.dumps(raw)))
    checking = time.perf_counter() - started_at
    async for service in started(database_url, max_body_bytes=8 * 1024 * 1024):
        ws, key = await service.workspace()
        publish = asyncio.create_task(
            service.call("POST", f"/v1/workspaces/{ws}/events", token=key, json=raw)
        )
        longest = await _longest_healthz_wait(service, publish)
        status, _ = await publish
        assert status == 202
        # On the loop, one /healthz would have waited for the whole check.
        assert longest < checking / 2, (longest, checking)
