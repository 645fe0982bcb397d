"""Publishing to a real RabbitMQ: what a consumer receives (body, signed headers, properties),
how the broker's refusals become error classes (unroutable, nacked, auth), a connection the
broker closes mid-run, and the same through the running service and its attempt log.

Every test declares its own exchanges and queues under unique names and deletes them after.
The mid-run test closes connections with ``rabbitmqctl`` in a virtual host of its own (the
command is ``$RABBITMQCTL`` when set, e.g. ``docker exec rabbitmq rabbitmqctl`` in CI).
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from hookline import verify
from hookline.delivery.destinations.base import BrokerMessage, PublishResult
from hookline.delivery.destinations.message import build_message
from hookline.delivery.destinations.pool import Destinations
from hookline.domain.address_policy import AddressPolicy
from hookline.domain.destinations import RabbitMQAction
from hookline.domain.models import Event, SecretEntry, Webhook, WebhookConfig
from tests.brokers import RABBITMQ, RABBITMQ_URL, require_broker
from tests.conftest import IN_CI, free_port
from tests.integration.engine_helpers import Api, running_service, workspace
from tests.polling import eventually, until

aio_pika = pytest.importorskip("aio_pika", reason="the rabbitmq extra is not installed")
standardwebhooks = pytest.importorskip("standardwebhooks")

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ACK = "ack (confirmed by the broker)"
RABBITMQCTL = shlex.split(os.environ.get("RABBITMQCTL", "rabbitmqctl"))


@pytest.fixture(autouse=True)
def _broker() -> None:
    require_broker(RABBITMQ)


def _name(what: str) -> str:
    return f"hl-test-{what}-{uuid.uuid4().hex[:10]}"


def _message(
    exchange: str, routing_key: str, *, url: str = RABBITMQ_URL, event_id: str | None = None
) -> BrokerMessage:
    """The message of attempt 1 for a ``task.completed`` event, signed with :data:`SECRET`."""
    action = RabbitMQAction(url=url, exchange=exchange, routing_key=routing_key)
    config = WebhookConfig(
        name="to rabbitmq", kind="rabbitmq", rabbitmq=action, headers={"X-Team": "ops"}
    )
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


@asynccontextmanager
async def _broker_channel(url: str = RABBITMQ_URL) -> AsyncIterator[Any]:
    """A channel of the test's own, to declare, bind, consume and delete with."""
    connection = await aio_pika.connect(url)
    try:
        yield await connection.channel()
    finally:
        await connection.close()


@asynccontextmanager
async def _bound_queue(
    channel: Any, binding: str = "task.#", *, bind: bool = True
) -> AsyncIterator[tuple[str, Any]]:
    """A topic exchange and a queue (bound to it with ``binding`` unless not ``bind``),
    deleted afterwards."""
    exchange = await channel.declare_exchange(_name("x"), aio_pika.ExchangeType.TOPIC)
    queue = await channel.declare_queue(_name("q"))
    if bind:
        await queue.bind(exchange, binding)
    try:
        yield exchange.name, queue
    finally:
        await queue.delete(if_unused=False, if_empty=False)
        await exchange.delete()


async def _drain(queue: Any, count: int, timeout: float = 5.0) -> list[Any]:
    """``count`` messages from ``queue`` (acknowledged), waiting for them up to ``timeout``."""
    got: list[Any] = []

    async def enough() -> bool:
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            got.append(message)
        return len(got) >= count

    await until(enough, timeout, what=f"{count} messages in {queue.name}")
    return got


def _headers(message: Any) -> dict[str, str]:
    """A received message's AMQP headers as text (a header table may hand back bytes)."""
    return {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in message.headers.items()}


def _assert_signed(body: bytes, headers: dict[str, str]) -> None:
    standardwebhooks.Webhook(SECRET).verify(body, headers)
    verify.verify("standard", body, headers, SECRET)


async def test_a_confirmed_message_arrives_with_its_body_signed_headers_and_properties() -> None:
    async with _broker_channel() as channel, _bound_queue(channel) as (exchange, queue):
        message = _message(exchange, "task.completed")
        async with _destinations() as pool:
            result = await pool.publish(message)
        assert (result.ok, result.answer, result.error_class) == (True, ACK, None), result
        [got] = await _drain(queue, 1)
        assert got.body == message.body
        assert json.loads(got.body) == {"id": 7, "note": "caf\u00e9"}
        headers = _headers(got)
        assert headers == dict(message.headers)
        assert headers["X-Hookline-Event-Id"] == message.message_id
        assert headers["X-Hookline-Event-Type"] == "task.completed"
        assert headers["X-Team"] == "ops"
        _assert_signed(got.body, headers)
        assert got.content_type == "application/json"
        assert got.message_id == message.message_id
        assert got.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert got.routing_key == "task.completed"
        assert got.timestamp is not None and abs(got.timestamp.timestamp() - time.time()) < 60


async def test_the_default_exchange_routes_by_queue_name() -> None:
    async with _broker_channel() as channel:
        queue = await channel.declare_queue(_name("q"))
        try:
            async with _destinations() as pool:
                result = await pool.publish(_message("", queue.name))
                missing = await pool.publish(_message("", _name("absent")))
            assert result.answer == ACK, result
            [got] = await _drain(queue, 1)
            _assert_signed(got.body, _headers(got))
            assert missing.error_class == "unroutable", missing
            assert "no queue named" in (missing.error_message or "")
        finally:
            await queue.delete(if_unused=False, if_empty=False)


async def test_a_message_no_queue_is_bound_for_is_unroutable() -> None:
    async with _broker_channel() as channel, _bound_queue(channel, bind=False) as (exchange, _):
        async with _destinations() as pool:
            result = await pool.publish(_message(exchange, "task.completed"))
            assert (result.ok, result.answer, result.error_class) == (False, None, "unroutable")
            assert result.error_message == (
                f"unroutable: no queue is bound to exchange {exchange!r} with routing key"
                " 'task.completed' (the broker returned the message: 312 NO_ROUTE)"
            )
            # The connection is fine: the next message goes through on it.
            assert pool.open_connections == 1


async def test_a_missing_exchange_is_unroutable_and_the_connection_stays() -> None:
    absent = _name("absent")
    async with _broker_channel() as channel, _bound_queue(channel) as (exchange, queue):
        async with _destinations() as pool:
            result = await pool.publish(_message(absent, "task.completed"))
            assert result.error_class == "unroutable", result
            assert f"exchange {absent!r} does not exist" in (result.error_message or "")
            assert "NOT_FOUND" in (result.error_message or "")
            after = await pool.publish(_message(exchange, "task.completed"))
            assert after.answer == ACK, after
            assert pool.open_connections == 1
        await _drain(queue, 1)


async def test_one_event_to_two_exchanges_at_once_gets_each_its_own_answer() -> None:
    """aio-pika matches a returned message to its publish by message id (the event id), which
    two actions on one broker share: a return must still reach the publish it belongs to."""
    async with (
        _broker_channel() as channel,
        _bound_queue(channel) as (routed, queue),
        _bound_queue(channel, bind=False) as (unrouted, _),
        _destinations() as pool,
    ):
        pairs = [
            (_message(unrouted, "task.completed", event_id=f"evt_{n}"),
             _message(routed, "task.completed", event_id=f"evt_{n}"))
            for n in range(20)
        ]  # fmt: skip
        results = await asyncio.gather(*(pool.publish(m) for pair in pairs for m in pair))
        assert [r.error_class for r in results] == ["unroutable", None] * 20, results
        assert len(await _drain(queue, 20)) == 20


async def test_a_message_the_broker_nacks_is_nacked() -> None:
    async with _broker_channel() as channel:
        args = {"x-max-length": 0, "x-overflow": "reject-publish"}
        queue = await channel.declare_queue(_name("full"), arguments=args)
        try:
            async with _destinations() as pool:
                result = await pool.publish(_message("", queue.name))
            assert result.error_class == "nacked", result
            assert "basic.nack" in (result.error_message or "")
        finally:
            await queue.delete(if_unused=False, if_empty=False)


async def test_a_refused_login_is_auth_and_never_shows_the_password() -> None:
    url = "amqp://guest:not-the-password@127.0.0.1:5672/"
    async with _destinations() as pool:
        result = await pool.publish(_message("", "anything", url=url))
    assert result.error_class == "auth", result
    assert "ACCESS_REFUSED" in (result.error_message or "")
    assert "not-the-password" not in (result.error_message or "")


async def test_a_virtual_host_that_does_not_exist_is_auth() -> None:
    url = f"amqp://guest:guest@127.0.0.1:5672/{_name('vhost')}"
    async with _destinations() as pool:
        result = await pool.publish(_message("", "anything", url=url))
    assert result.error_class == "auth", result
    assert "virtual host" in (result.error_message or "")


async def test_a_broker_that_is_not_listening_is_connect() -> None:
    url = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    async with _destinations() as pool:
        result = await pool.publish(_message("", "anything", url=url))
    assert result.error_class == "connect", result


# --- a connection the broker closes mid-run ---------------------------------------------------


async def _rabbitmqctl(*args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *RABBITMQCTL,
        "--quiet",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, (args, out, err)
    return out.decode()


@pytest.fixture
async def vhost() -> AsyncIterator[str]:
    """A virtual host of the test's own (so closing its connections touches nothing else)."""
    if shutil.which(RABBITMQCTL[0]) is None:
        reason = f"{RABBITMQCTL[0]} is not available to close connections from the broker side"
        if IN_CI:
            pytest.fail(f"{reason}: set RABBITMQCTL (e.g. 'docker exec rabbitmq rabbitmqctl')")
        pytest.skip(reason)
    name = _name("vhost")
    await _rabbitmqctl("add_vhost", name)
    try:
        await _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield name
    finally:
        await _rabbitmqctl("delete_vhost", name)


async def test_a_connection_the_broker_closes_is_reopened_and_nothing_is_lost(vhost: str) -> None:
    url = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    failures: list[PublishResult] = []
    acked: set[str] = set()
    closed_at: list[int] = []  # how many were acknowledged when the broker closed
    async with _broker_channel(url) as channel:  # the vhost goes, and all in it, after the test
        exchange = await channel.declare_exchange(_name("x"), aio_pika.ExchangeType.TOPIC)
        queue_name = (await channel.declare_queue(_name("q"), durable=True)).name
        await (await channel.get_queue(queue_name)).bind(exchange, "task.#")
    async with _destinations() as pool:

        async def publish_until_acked(message: BrokerMessage) -> None:
            for _ in range(50):  # as the delivery's retry schedule would
                result = await pool.publish(message)
                if result.ok:
                    acked.add(message.message_id)
                    return
                failures.append(result)
                await asyncio.sleep(0.05)
            raise AssertionError(f"never acknowledged: {failures[-1]}")

        async def worker(n: int) -> None:
            i = 0
            while not closed_at or len(acked) < closed_at[0] + 100:  # go on past the close
                i += 1
                await publish_until_acked(
                    _message(exchange.name, "task.completed", url=url, event_id=f"evt_{n}_{i}")
                )

        running = asyncio.gather(*(worker(n) for n in range(10)))
        await until(lambda: len(acked) >= 50, 5, what="50 messages acknowledged")
        await _rabbitmqctl("close_all_connections", "-p", vhost, "closed by the test")
        closed_at.append(len(acked))
        await running
        # The pool has a new connection open in the vhost.
        listed = await _rabbitmqctl("list_connections", "-p", vhost, "client_properties")
        assert "hookline" in listed, listed
    assert failures, "the close came when nothing was in flight"
    assert {r.error_class for r in failures} <= {"connect"}, failures[:3]
    async with _broker_channel(url) as channel:
        received = await _drain(await channel.get_queue(queue_name), len(acked))
    assert {m.message_id for m in received} >= acked


# --- through the running service ---------------------------------------------------------------


async def _rabbitmq_hook(api: Api, exchange: str, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "to rabbitmq",
        "kind": "rabbitmq",
        "events": ["task.*"],
        "secret": SECRET,
        "rabbitmq": {"url": RABBITMQ_URL, "exchange": exchange, "routing_key": "$type"},
    }
    created: dict[str, Any] = await api.ok("POST", "/webhooks", json=body | fields)
    return created


async def test_the_service_publishes_signed_events_and_logs_the_ack(database_url: str) -> None:
    async with _broker_channel() as channel, _bound_queue(channel) as (exchange, queue):
        async with running_service(database_url) as svc:
            api = await workspace(svc)
            await _rabbitmq_hook(api, exchange)
            published = [await api.publish({"n": n}) for n in range(3)]
            received = await _drain(queue, 3)
            for message in received:
                _assert_signed(message.body, _headers(message))
            assert sorted(json.loads(m.body)["n"] for m in received) == [0, 1, 2]
            assert {m.message_id for m in received} == {p["id"] for p in published}
            for event in published:
                detail = await api.settled(event["deliveries"][0]["id"], "succeeded")
                [attempt] = detail["attempts"]
                assert attempt["request"]["method"] == "PUBLISH"
                assert attempt["request"]["url"] == (
                    f"amqp://guest@127.0.0.1:5672/?exchange={exchange}&routing_key=task.completed"
                )
                assert attempt["response"]["body_excerpt"] == ACK
                assert (attempt["error_class"], attempt["response"]["status"]) == (None, None)


async def test_an_unroutable_message_is_retried_until_a_queue_is_bound(database_url: str) -> None:
    async with (
        _broker_channel() as channel,
        _bound_queue(channel, bind=False) as (exchange, queue),
        running_service(database_url) as svc,
    ):
        api = await workspace(svc)
        await _rabbitmq_hook(api, exchange, retry_schedule=[0.2], max_attempts=50)
        [delivery] = (await api.publish({"n": 1}))["deliveries"]
        failed = await eventually(
            lambda: api.delivery(delivery["id"]),
            lambda d: bool(d["attempts"]),
            what="a first attempt",
        )
        assert failed["status"] == "pending"
        first = failed["attempts"][0]
        assert first["error_class"] == "unroutable", first
        assert "no queue is bound" in first["error_message"]
        await queue.bind(exchange, "task.#")
        detail = await api.settled(delivery["id"], "succeeded")
        assert detail["attempts"][0]["error_class"] == "unroutable"
        assert detail["attempts"][-1]["response"]["body_excerpt"] == ACK
        [got] = await _drain(queue, 1)
        _assert_signed(got.body, _headers(got))
