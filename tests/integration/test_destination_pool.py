"""The broker connections of a process (``delivery.destinations.pool``), against real Redis:
one connection per URL shared by every action, the address policy applied before dialling,
backoff after a failed connection, idle connections closed, a missing library named."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from hookline.delivery.destinations.base import BrokerMessage
from hookline.delivery.destinations.pool import Destinations
from hookline.domain.address_policy import AddressPolicy
from hookline.domain.destinations import RedisAction
from tests.brokers import REDIS, REDIS_URL, require_broker
from tests.conftest import free_port
from tests.polling import until

redis_asyncio = pytest.importorskip("redis.asyncio", reason="hookline[redis] is not installed")
LOCAL = AddressPolicy(["127.0.0.0/8"])


def _message(url: str, stream: str, timeout: float = 2.0) -> BrokerMessage:
    return BrokerMessage(
        kind="redis",
        action=RedisAction(url=url, stream=stream),
        target=stream,
        body=b'{"n": 1}',
        headers={"Content-Type": "application/json", "X-Hookline-Event-Id": "evt_1"},
        content_type="application/json",
        message_id="evt_1",
        timeout=timeout,
    )


@pytest.fixture
async def stream() -> AsyncIterator[str]:
    require_broker(REDIS)
    name = f"hl-pool-{uuid.uuid4().hex[:8]}"
    yield name
    client = redis_asyncio.Redis.from_url(REDIS_URL)
    await client.delete(name)
    await client.aclose()


async def test_actions_on_one_url_share_one_connection_closed_when_idle(stream: str) -> None:
    pool = Destinations(LOCAL, idle_seconds=0.3)
    try:
        first = await pool.publish(_message(REDIS_URL, stream))
        second = await pool.publish(_message(REDIS_URL, stream))
        assert first.ok and second.ok, (first, second)
        assert first.answer != second.answer  # two entry ids
        assert pool.open_connections == 1
        other = await pool.publish(_message("redis://127.0.0.1:6379/1", stream))
        assert other.ok and pool.open_connections == 2
        await until(lambda: pool.open_connections == 0, 5, what="the idle connections closed")
        again = await pool.publish(_message(REDIS_URL, stream))  # reopened on demand
        assert again.ok and pool.open_connections == 1
    finally:
        await pool.close()
    assert pool.open_connections == 0


async def test_a_refused_address_is_blocked_before_any_connection(stream: str) -> None:
    pool = Destinations(AddressPolicy())  # the default: no loopback, no private networks
    try:
        for url in (REDIS_URL, "redis://localhost:6379/0"):
            result = await pool.publish(_message(url, stream))
            assert result.error_class == "blocked", result
            assert "127.0.0.1" in (result.error_message or "") or "::1" in (
                result.error_message or ""
            )
        assert pool.open_connections == 0
    finally:
        await pool.close()


async def test_a_failed_connection_backs_off_and_fails_fast_meanwhile() -> None:
    url = f"redis://:hunter2secret@127.0.0.1:{free_port()}/0"  # nothing listens there
    pool = Destinations(LOCAL)
    try:
        first = await pool.publish(_message(url, "s"))
        assert first.error_class == "connect", first
        started = time.perf_counter()
        second = await pool.publish(_message(url, "s"))
        assert second.error_class == "connect"
        assert "next connection attempt" in (second.error_message or "")
        assert time.perf_counter() - started < 0.1  # no new connection was tried
        for result in (first, second):
            assert "hunter2secret" not in (result.error_message or "")
    finally:
        await pool.close()


async def test_a_missing_client_library_fails_the_attempt_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # importing it now raises ImportError
    monkeypatch.delitem(sys.modules, "hookline.delivery.destinations.redis_streams", False)
    pool = Destinations(LOCAL)
    try:
        result = await pool.publish(_message(REDIS_URL, "s"))
    finally:
        await pool.close()
    assert result.error_class == "invalid_request"
    assert "hookline[redis]" in (result.error_message or "")
