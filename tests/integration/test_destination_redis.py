"""Appending to a real Redis stream: what a consumer reads (the body field and the signed
headers), the entry id as the attempt's answer, approximate trimming, how refusals become error
classes (auth, refused, invalid_request, connect), and clients the server kills mid-run, both
directly and through the running service.

Each test uses its own stream (and, where it kills connections, its own ACL user, so that only
the connections under test are killed) and deletes them after.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import pytest

from hookline import verify
from hookline.delivery.destinations.base import BrokerMessage, PublishResult
from hookline.delivery.destinations.message import build_message
from hookline.delivery.destinations.pool import Destinations
from hookline.domain.address_policy import AddressPolicy
from hookline.domain.destinations import RedisAction
from hookline.domain.models import Event, SecretEntry, Webhook, WebhookConfig
from tests.brokers import REDIS, REDIS_URL, require_broker
from tests.conftest import free_port
from tests.integration.engine_helpers import Api, running_service, workspace
from tests.polling import eventually, until

redis_asyncio = pytest.importorskip("redis.asyncio", reason="the redis extra is not installed")
standardwebhooks = pytest.importorskip("standardwebhooks")

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ENTRY_ID = re.compile(r"^\d+-\d+$")


@pytest.fixture(autouse=True)
def _broker() -> None:
    require_broker(REDIS)


@pytest.fixture
async def admin() -> AsyncIterator[Any]:
    """The test's own client (bytes in, bytes out)."""
    client = redis_asyncio.Redis.from_url(REDIS_URL)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def stream(admin: Any) -> AsyncIterator[str]:
    name = f"hl-test-{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        await admin.delete(name)


@pytest.fixture
async def user_url(admin: Any) -> AsyncIterator[str]:
    """A URL with an ACL user of the test's own, whose connections the test may kill (with
    ``CLIENT KILL USER``: other clients of the server are left alone)."""
    user, password = f"hl-test-{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
    await admin.execute_command("ACL", "SETUSER", user, "on", f">{password}", "~*", "+@all")
    try:
        yield f"redis://{user}:{password}@127.0.0.1:6379/0"
    finally:
        await admin.execute_command("ACL", "DELUSER", user)


def _message(
    stream: str,
    *,
    url: str = REDIS_URL,
    maxlen: int | None = None,
    event_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> BrokerMessage:
    """The message of attempt 1 for a ``task.completed`` event, signed with :data:`SECRET`."""
    action = RedisAction(url=url, stream=stream, maxlen=maxlen)
    config = WebhookConfig(name="to redis", kind="redis", redis=action, headers={"X-Team": "ops"})
    if headers is not None:
        # Unvalidated: the API refuses a header named ``body`` on a redis action; the publisher
        # refuses it too, whatever configuration reaches it.
        config = config.model_copy(update={"headers": headers})
    now = time.time()
    webhook = Webhook("wh_1", "ws_1", config, (SecretEntry(SECRET),), now, now)
    event_id = event_id or f"evt_{uuid.uuid4().hex}"
    event = Event(event_id, "ws_1", "task.completed", '{"id": 7, "note": "caf\u00e9"}', None, now)
    return build_message(webhook, event, delivery_id="dlv_1", attempt=1, now=now)


@asynccontextmanager
async def _destinations() -> AsyncIterator[Destinations]:
    pool = Destinations(AddressPolicy(["127.0.0.0/8"]))
    try:
        yield pool
    finally:
        await pool.close()


def _split(fields: dict[bytes, bytes]) -> tuple[bytes, dict[str, str]]:
    """An entry's body and its headers (every other field)."""
    headers = {k.decode(): v.decode() for k, v in fields.items() if k != b"body"}
    return fields[b"body"], headers


def _has(found: set[str], count: int) -> bool:
    return len(found) >= count


def _assert_signed(body: bytes, headers: dict[str, str]) -> None:
    standardwebhooks.Webhook(SECRET).verify(body, headers)
    verify.verify("standard", body, headers, SECRET)


async def test_an_entry_carries_the_body_and_the_signed_headers(admin: Any, stream: str) -> None:
    message = _message(stream)
    async with _destinations() as pool:
        result = await pool.publish(message)
    assert result.ok and result.answer is not None and ENTRY_ID.match(result.answer), result
    [(entry_id, fields)] = await admin.xrange(stream)
    assert entry_id.decode() == result.answer
    assert next(iter(fields)) == b"body"  # the body first, then the headers as sent
    body, headers = _split(fields)
    assert body == message.body
    assert json.loads(body) == {"id": 7, "note": "caf\u00e9"}
    assert headers == dict(message.headers)
    assert headers["X-Hookline-Event-Id"] == message.message_id
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Team"] == "ops"
    _assert_signed(body, headers)


async def test_maxlen_trims_the_stream_approximately(admin: Any, stream: str) -> None:
    async with _destinations() as pool:
        results = await asyncio.gather(
            *(pool.publish(_message(stream, maxlen=10)) for _ in range(500))
        )
    assert all(r.ok for r in results), [r for r in results if not r.ok][:3]
    length = await admin.xlen(stream)
    assert 10 <= length < 250, length  # "~": whole nodes of (by default) 100 entries go


async def test_a_refused_login_is_auth_and_never_shows_the_password() -> None:
    url = "redis://nobody:not-the-password@127.0.0.1:6379/0"
    async with _destinations() as pool:
        result = await pool.publish(_message("unused", url=url))
    assert result.error_class == "auth", result
    assert "not-the-password" not in (result.error_message or "")


async def test_a_user_allowed_only_xadd_on_its_streams_can_publish(admin: Any, stream: str) -> None:
    user, password = f"hl-test-{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
    rules = ["on", f">{password}", "resetkeys", f"~{stream}", "-@all", "+xadd"]
    await admin.execute_command("ACL", "SETUSER", user, *rules)
    try:
        url = f"redis://{user}:{password}@127.0.0.1:6379/0"
        async with _destinations() as pool:
            result = await pool.publish(_message(stream, url=url))
            assert result.ok, result
            denied = await pool.publish(_message(stream + "-other", url=url))
            assert denied.error_class == "auth", denied
            assert "no permissions" in (denied.error_message or "")
    finally:
        await admin.execute_command("ACL", "DELUSER", user)
    assert await admin.xlen(stream) == 1


async def test_a_key_of_another_type_is_refused(admin: Any, stream: str) -> None:
    await admin.set(stream, "not a stream")
    async with _destinations() as pool:
        result = await pool.publish(_message(stream))
        assert result.error_class == "refused", result
        assert "holds another type" in (result.error_message or "")
        assert pool.open_connections == 1  # a refusal is no reason to reconnect


async def test_a_header_named_body_cannot_be_sent(stream: str) -> None:
    async with _destinations() as pool:
        result = await pool.publish(_message(stream, headers={"body": "x"}))
    assert result.error_class == "invalid_request", result
    assert "'body'" in (result.error_message or "")


async def test_a_server_that_is_not_listening_is_connect() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    async with _destinations() as pool:
        result = await pool.publish(_message("unused", url=url))
    assert result.error_class == "connect", result


async def test_killed_clients_are_replaced_and_nothing_is_lost(
    admin: Any, stream: str, user_url: str
) -> None:
    user = urlsplit(user_url).username
    failures: list[PublishResult] = []
    added: set[str] = set()
    failed_ids: set[str] = set()
    killed_at: list[int] = []

    async def publish_until_added(message: BrokerMessage) -> None:
        for _ in range(50):  # as the delivery's retry schedule would
            result = await pool.publish(message)
            if result.ok:
                added.add(message.message_id)
                return
            failures.append(result)
            failed_ids.add(message.message_id)
            await asyncio.sleep(0.05)
        raise AssertionError(f"never added: {failures[-1]}")

    async def worker(n: int) -> None:
        i = 0
        while len(killed_at) < 3 or len(added) < killed_at[-1] + 100:  # go on past the kills
            i += 1
            await publish_until_added(_message(stream, url=user_url, event_id=f"evt_{n}_{i}"))

    async with _destinations() as pool:
        running = asyncio.gather(*(worker(n) for n in range(20)))
        killed: list[int] = []
        for _ in range(3):
            more = (killed_at[-1] if killed_at else 0) + 50
            await until(partial(_has, added, more), 5, what="50 more entries added")
            killed.append(await admin.execute_command("CLIENT", "KILL", "USER", user))
            killed_at.append(len(added))
        await running
    assert all(n >= 1 for n in killed), killed
    assert {r.error_class for r in failures} <= {"connect"}, failures[:3]
    entries = await admin.xrange(stream)
    ids = [_split(fields)[1]["X-Hookline-Event-Id"] for _, fields in entries]
    assert set(ids) >= added
    # An XADD whose reply the kill cut off is in the stream and, retried, added again (at least
    # once); nothing else is there twice: the client itself never sends an XADD again.
    twice = {event_id for event_id, n in Counter(ids).items() if n > 1}
    assert twice <= failed_ids, sorted(twice - failed_ids)


# --- through the running service ---------------------------------------------------------------


async def _length(admin: Any, stream: str, at_least: int) -> bool:
    return int(await admin.xlen(stream)) >= at_least


async def _redis_hook(api: Api, url: str, stream: str, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "to redis",
        "kind": "redis",
        "events": ["task.*"],
        "secret": SECRET,
        "redis": {"url": url, "stream": stream, "maxlen": 1000},
    }
    created: dict[str, Any] = await api.ok("POST", "/webhooks", json=body | fields)
    return created


async def test_the_service_appends_signed_events_and_logs_the_entry_id(
    database_url: str, admin: Any, stream: str
) -> None:
    async with running_service(database_url) as svc:
        api = await workspace(svc)
        await _redis_hook(api, REDIS_URL, stream)
        published = [await api.publish({"n": n}) for n in range(3)]
        logged: dict[str, str] = {}
        for event in published:
            detail = await api.settled(event["deliveries"][0]["id"], "succeeded")
            [attempt] = detail["attempts"]
            assert attempt["request"]["method"] == "PUBLISH"
            assert attempt["request"]["url"] == (
                f"redis://127.0.0.1:6379/0?stream={stream}&maxlen=~1000"
            )
            assert attempt["error_class"] is None
            logged[event["id"]] = attempt["response"]["body_excerpt"]
    entries = {entry_id.decode(): _split(fields) for entry_id, fields in await admin.xrange(stream)}
    assert len(entries) == 3
    for event_id, entry_id in logged.items():
        body, headers = entries[entry_id]  # the attempt log's answer is the entry's id
        assert headers["X-Hookline-Event-Id"] == event_id
        _assert_signed(body, headers)


async def test_the_service_loses_nothing_when_its_clients_are_killed(
    database_url: str, admin: Any, stream: str, user_url: str
) -> None:
    user = urlsplit(user_url).username
    async with running_service(database_url) as svc:
        api = await workspace(svc)
        hook = await _redis_hook(api, user_url, stream, retry_schedule=[0.1], max_attempts=20)
        published: list[str] = []
        killed = 0
        for round_ in range(3):  # kill the clients while the worker is publishing
            batch = await asyncio.gather(*(api.publish({"n": n}) for n in range(10)))
            published += [event["id"] for event in batch]
            await until(partial(_length, admin, stream, 10 * round_ + 1), 5, what="an entry")
            killed += await admin.execute_command("CLIENT", "KILL", "USER", user)
        assert killed >= 1

        async def succeeded() -> list[Any]:
            path = f"/deliveries?webhook_id={hook['id']}&status=succeeded&limit=100"
            page: list[Any] = (await api.ok("GET", path))["data"]
            return page

        await eventually(succeeded, lambda found: len(found) == 30, what="30 deliveries")
        failed = await api.ok("GET", f"/deliveries?webhook_id={hook['id']}&status=failed")
        assert failed["data"] == []
    ids = {_split(fields)[1]["X-Hookline-Event-Id"] for _, fields in await admin.xrange(stream)}
    assert ids >= set(published)
