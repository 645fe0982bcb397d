"""Publishing through the API: the batch endpoint, group-committed single publishes, body limits
and the API-key cache, against the real service over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hookline.settings import Settings
from hookline.store import open_store
from tests.conftest import Service, started

ORDERS = {"name": "orders", "url": "https://example.com/orders", "events": ["order.*"]}
EVERYTHING = {"name": "all", "url": "https://example.com/all", "events": ["*"]}


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Service]:
    """The API alone (no worker: deliveries stay as published)."""
    async for svc in started(database_url, worker=False):
        yield svc


async def hooks(api: Service, ws: str, key: str, *configs: dict[str, Any]) -> list[str]:
    path = f"/v1/workspaces/{ws}/webhooks"
    return [(await api.ok("POST", path, token=key, json=c))["id"] for c in configs]


async def test_a_batch_commits_every_event_and_answers_in_order(api: Service) -> None:
    ws, key = await api.workspace()
    orders, everything = await hooks(api, ws, key, ORDERS, EVERYTHING)
    events: list[dict[str, object]] = [
        {"type": "order.paid", "payload": {"n": 0}},
        {"type": "user.created", "payload": {"n": 1}, "idempotency_key": "user-1"},
        {"type": "order.shipped", "payload": [1, "two", None]},
    ]
    status, body = await api.call(
        "POST", f"/v1/workspaces/{ws}/events/batch", token=key, json={"events": events}
    )
    assert status == 202, body
    answers = body["data"]
    assert [a["type"] for a in answers] == [e["type"] for e in events]
    assert [a["duplicate"] for a in answers] == [False, False, False]
    assert [{d["webhook_id"] for d in a["deliveries"]} for a in answers] == [
        {orders, everything},
        {everything},
        {orders, everything},
    ]
    assert all(set(a) == {"id", "type", "duplicate", "deliveries"} for a in answers)
    for sent, answer in zip(events, answers, strict=True):
        found = await api.ok("GET", f"/v1/workspaces/{ws}/events/{answer['id']}", token=key)
        assert (found["type"], found["payload"]) == (sent["type"], sent["payload"])
        assert found["idempotency_key"] == sent.get("idempotency_key")
        for ref in answer["deliveries"]:
            path = f"/v1/workspaces/{ws}/deliveries/{ref['id']}"
            delivery = await api.ok("GET", path, token=key)
            assert (delivery["event_id"], delivery["status"]) == (answer["id"], "pending")
    listed = await api.ok("GET", f"/v1/workspaces/{ws}/deliveries?limit=100", token=key)
    assert len(listed["data"]) == 5


async def test_a_bad_event_names_its_field_and_nothing_is_stored(api: Service) -> None:
    ws, key = await api.workspace()
    path = f"/v1/workspaces/{ws}/events/batch"
    good = {"type": "order.paid", "payload": {}}
    cases: list[tuple[Any, str]] = [
        ({"events": [good, good, good, {"type": "not a type!", "payload": 1}]}, "events.3.type"),
        ({"events": [good, {"type": "a.b"}]}, "events.1.payload"),
        ({"events": [good | {"idempotency_key": ""}]}, "events.0.idempotency_key"),
        ({"events": [good | {"bogus": 1}]}, "events.0.bogus"),
        ({"events": [good, {"type": "a.b", "payload": {"x": float("inf")}}]}, "events.1.payload"),
        ({"events": []}, "events"),
        ({"events": [good] * 1001}, "events"),
        ({"event": [good]}, "events"),
    ]
    for body, field in cases:
        data = json.dumps(body).encode()  # Infinity is not JSON: Python writes it anyway
        async with api.http.post(
            api.url + path,
            data=data,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        ) as r:
            answer = await r.json()
        assert (r.status, answer["error"]["code"], answer["error"]["field"]) == (
            422,
            "validation_failed",
            field,
        ), (body if len(str(body)) < 300 else field, answer)
        assert answer["error"]["message"].startswith(field)
    listed = await api.ok("GET", f"/v1/workspaces/{ws}/events", token=key)
    assert listed["data"] == []


async def test_idempotent_repeats_within_a_batch_and_across_requests(api: Service) -> None:
    ws, key = await api.workspace()
    await hooks(api, ws, key, EVERYTHING)
    path = f"/v1/workspaces/{ws}/events/batch"
    events = [
        {"type": "a.b", "payload": {"n": 0}, "idempotency_key": "k1"},
        {"type": "a.b", "payload": {"n": 1}},
        {"type": "a.b", "payload": {"n": 2}, "idempotency_key": "k1"},
    ]
    first = (await api.ok("POST", path, token=key, json={"events": events}))["data"]
    assert [a["duplicate"] for a in first] == [False, False, True]
    assert first[2] == first[0] | {"duplicate": True}
    again = (await api.ok("POST", path, token=key, json={"events": events}))["data"]
    assert [a["duplicate"] for a in again] == [True, False, True]
    assert again[0] == first[0] | {"duplicate": True}
    assert again[1]["id"] != first[1]["id"]  # no key: a new event
    single = {"type": "a.b", "payload": {"n": 3}, "idempotency_key": "k1"}
    status, one = await api.call("POST", f"/v1/workspaces/{ws}/events", token=key, json=single)
    assert (status, one) == (200, first[0] | {"duplicate": True})
    listed = await api.ok("GET", f"/v1/workspaces/{ws}/events", token=key)
    assert sorted(e["payload"]["n"] for e in listed["data"]) == [0, 1, 1]


async def test_a_batch_needs_its_workspace_and_a_key(api: Service) -> None:
    ws, key = await api.workspace()
    other, _ = await api.workspace("other")
    body = {"events": [{"type": "a.b", "payload": {}}]}
    status, answer = await api.call(
        "POST", f"/v1/workspaces/{other}/events/batch", token=key, json=body
    )
    assert (status, answer["error"]["code"]) == (403, "wrong_workspace")
    async with api.http.post(f"{api.url}/v1/workspaces/{ws}/events/batch", json=body) as r:
        assert r.status == 401
    status, answer = await api.call("POST", "/v1/workspaces/ws_nope/events/batch", json=body)
    assert (status, answer["error"]["code"]) == (404, "not_found")  # the admin token


async def test_body_limits_of_single_and_batch_publishes(database_url: str) -> None:
    async for api in started(
        database_url, worker=False, max_body_bytes=2000, max_batch_body_bytes=20_000
    ):
        ws, key = await api.workspace()
        single, batch = f"/v1/workspaces/{ws}/events", f"/v1/workspaces/{ws}/events/batch"
        event = {"type": "a.b", "payload": {"pad": "x" * 1500}}
        assert (await api.call("POST", single, token=key, json=event))[0] == 202
        status, answer = await api.call(
            "POST", single, token=key, json=event | {"payload": {"pad": "x" * 2500}}
        )
        assert (status, answer["error"]["code"]) == (413, "payload_too_large")
        # Several events, each within the single limit, well over it together.
        status, answer = await api.call("POST", batch, token=key, json={"events": [event] * 8})
        assert status == 202 and len(answer["data"]) == 8
        status, answer = await api.call("POST", batch, token=key, json={"events": [event] * 14})
        assert (status, answer["error"]["code"]) == (413, "payload_too_large")
        assert "20000 bytes" in answer["error"]["message"]
        # One event over the single limit fails the batch, naming it; nothing is stored.
        fat = event | {"payload": {"pad": "é" * 400}}  # delivered as \\u00e9: 6 bytes each
        status, answer = await api.call(
            "POST", batch, token=key, json={"events": [event, fat, event]}
        )
        assert (status, answer["error"]["code"], answer["error"]["field"]) == (
            413,
            "payload_too_large",
            "events.1.payload",
        )
        listed = await api.ok("GET", single + "?limit=100", token=key)
        assert len(listed["data"]) == 9


async def test_concurrent_publishes_are_each_answered_with_their_own_event(
    api: Service,
) -> None:
    ws, key = await api.workspace()
    [hook] = await hooks(api, ws, key, EVERYTHING)
    path = f"/v1/workspaces/{ws}/events"

    async def publish(n: int) -> tuple[int, dict[str, Any]]:
        event = {"type": "tick.n", "payload": {"n": n}, "idempotency_key": f"k{n % 40}"}
        status, body = await api.call("POST", path, token=key, json=event)
        assert status in (200, 202), body
        return n, body

    answers = await asyncio.gather(*(publish(n) for n in range(60)))
    first_by_key: dict[int, dict[str, Any]] = {}
    for n, answer in sorted(answers, key=lambda a: a[1]["duplicate"]):
        first_by_key.setdefault(n % 40, answer)
        assert answer["id"] == first_by_key[n % 40]["id"]
        assert [d["webhook_id"] for d in answer["deliveries"]] == [hook]
    assert sum(not a["duplicate"] for _, a in answers) == 40
    for n, answer in answers:
        if not answer["duplicate"]:
            found = await api.ok("GET", f"{path}/{answer['id']}", token=key)
            assert found["payload"] == {"n": n}
    listed = await api.ok("GET", f"/v1/workspaces/{ws}/deliveries?limit=100", token=key)
    assert len(listed["data"]) == 40


async def test_a_key_revoked_by_another_process_stops_working_within_the_cache_ttl(
    database_url: str,
) -> None:
    for ttl in (0.0, 1.0):
        async for api in started(database_url, worker=False, api_key_cache_seconds=ttl):
            ws, key = await api.workspace(f"ttl-{ttl}")
            extra = await api.ok("POST", f"/v1/workspaces/{ws}/api-keys", json={"name": "x"})
            path = f"/v1/workspaces/{ws}/webhooks"
            assert (await api.call("GET", path, token=extra["key"]))[0] == 200
            other = await open_store(Settings(database_url=database_url))  # another process
            try:
                assert await other.config.revoke_api_key(ws, extra["id"], time.time())
            finally:
                await other.close()
            revoked = time.monotonic()
            while (await api.call("GET", path, token=extra["key"]))[0] == 200:
                assert time.monotonic() - revoked < ttl + 0.5, "still trusted past the TTL"
                await asyncio.sleep(0.05)
            assert (await api.call("GET", path, token=extra["key"]))[0] == 401
            assert (await api.call("GET", path, token=key))[0] == 200


async def test_the_batch_endpoint_is_documented(api: Service) -> None:
    async with api.http.get(api.url + "/openapi.json") as r:
        spec = await r.json()
    operation = spec["paths"]["/v1/workspaces/{ws}/events/batch"]["post"]
    assert "202" in operation["responses"]
    request = operation["requestBody"]["content"]["application/json"]["schema"]
    assert request["$ref"].endswith("/EventBatchIn")
    batch = spec["components"]["schemas"]["EventBatchIn"]["properties"]["events"]
    assert (batch["minItems"], batch["maxItems"]) == (1, 1000)
