"""Publishing to a real MQTT 5 broker (Mosquitto): what a subscriber receives (payload, the
signed headers as user properties, the content type) at QoS 1 and 2, the retain flag, many
publishes on one connection, a connection broken mid-run (through :mod:`tests.tcp_proxy`), and
the same through the running service and its attempt log.

The shared Mosquitto on 1883 lets anyone in and checks nothing (``allow_anonymous true``, no
password file, no ACL), so refused credentials and refused messages are tested against a
private ``mosquitto`` the test starts with a password file and an ACL.

Every test publishes under a topic of its own, ``hl/<random>/…``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from hookline import verify
from hookline.delivery.destinations.base import BrokerMessage
from hookline.delivery.destinations.message import build_message
from hookline.delivery.destinations.pool import Destinations
from hookline.domain.address_policy import AddressPolicy
from hookline.domain.destinations import MqttAction
from hookline.domain.models import Event, SecretEntry, Webhook, WebhookConfig
from tests.brokers import MQTT, MQTT_URL, require_broker
from tests.conftest import IN_CI, Service, free_port
from tests.integration.engine_helpers import workspace
from tests.polling import until
from tests.tcp_proxy import TcpProxy

aiomqtt = pytest.importorskip("aiomqtt", reason="the mqtt extra is not installed")
standardwebhooks = pytest.importorskip("standardwebhooks")

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MOSQUITTO = os.environ.get("MOSQUITTO", "mosquitto")


@pytest.fixture(autouse=True)
def _broker() -> None:
    require_broker(MQTT)


def _topic() -> str:
    return f"hl/{uuid.uuid4().hex[:12]}"


def _message(
    topic: str,
    *,
    qos: int = 1,
    retain: bool = False,
    url: str = MQTT_URL,
    delivery_id: str = "dlv_1",
) -> BrokerMessage:
    """The message of attempt 1 for a ``task.completed`` event, signed with :data:`SECRET`."""
    action = MqttAction(url=url, topic=topic, qos=qos, retain=retain)
    config = WebhookConfig(name="to mqtt", kind="mqtt", mqtt=action, headers={"X-Team": "ops"})
    now = time.time()
    webhook = Webhook("wh_1", "ws_1", config, (SecretEntry(SECRET),), now, now)
    payload = '{"id": 7, "note": "caf\\u00e9"}'
    event = Event(f"evt_{uuid.uuid4().hex}", "ws_1", "task.completed", payload, None, now)
    return build_message(webhook, event, delivery_id=delivery_id, attempt=1, now=now)


@asynccontextmanager
async def _destinations() -> AsyncIterator[Destinations]:
    pool = Destinations(AddressPolicy(["127.0.0.0/8"]))
    try:
        yield pool
    finally:
        await pool.close()


@asynccontextmanager
async def _subscriber(topic_filter: str, port: int = MQTT[1]) -> AsyncIterator[list[Any]]:
    """Every message published to ``topic_filter`` from now on (retained ones first), as
    received by an MQTT 5 subscriber at QoS 2."""
    got: list[Any] = []
    client = aiomqtt.Client(
        "127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5, identifier=f"hl-test-{_hex()}"
    )
    async with client:
        await client.subscribe(topic_filter, qos=2)

        async def collect() -> None:
            async for message in client.messages:
                got.append(message)

        task = asyncio.create_task(collect())
        try:
            yield got
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await task


def _hex() -> str:
    return uuid.uuid4().hex[:12]


async def _received(got: list[Any], count: int) -> list[Any]:
    await until(lambda: len(got) >= count, 5, what=f"{count} messages received")
    return got


def _properties(received: Any) -> dict[str, str]:
    return dict(received.properties.UserProperty)


def _assert_signed(body: bytes, headers: dict[str, str]) -> None:
    standardwebhooks.Webhook(SECRET).verify(body, headers)
    verify.verify("standard", body, headers, SECRET)


async def test_qos_1_and_2_arrive_with_the_payload_signed_user_properties_and_content_type() -> (
    None
):
    topic = _topic()
    async with _subscriber(f"{topic}/#") as got, _destinations() as pool:
        once, exactly = _message(f"{topic}/one", qos=1), _message(f"{topic}/two", qos=2)
        results = [await pool.publish(once), await pool.publish(exactly)]
        assert [(r.ok, r.answer) for r in results] == [(True, "PUBACK"), (True, "PUBCOMP")]
        received = await _received(got, 2)
    for message, item, qos in zip((once, exactly), received, (1, 2), strict=True):
        assert item.topic.value == message.target
        assert (item.qos, item.retain) == (qos, False)
        assert item.payload == message.body
        assert _properties(item) == dict(message.headers)
        assert item.properties.ContentType == "application/json"
        _assert_signed(item.payload, _properties(item))


async def test_a_message_nobody_subscribes_to_is_acknowledged_and_says_so() -> None:
    async with _destinations() as pool:
        result = await pool.publish(_message(f"{_topic()}/nobody", qos=1))
    assert (result.ok, result.answer) == (True, "PUBACK (No matching subscribers)")


async def test_the_retain_flag_is_honoured() -> None:
    topic = _topic()
    async with _destinations() as pool:
        kept = await pool.publish(_message(f"{topic}/kept", qos=1, retain=True))
        passing = await pool.publish(_message(f"{topic}/passing", qos=2, retain=False))
    assert (kept.ok, passing.ok) == (True, True)
    try:
        async with _subscriber(f"{topic}/#") as got:
            [item] = await _received(got, 1)
            await asyncio.sleep(0.3)  # a non-retained message would have come by now
            assert len(got) == 1
        assert (item.topic.value, item.retain) == (f"{topic}/kept", True)
        _assert_signed(item.payload, _properties(item))
    finally:
        async with aiomqtt.Client("127.0.0.1", MQTT[1]) as client:  # clear the retained one
            await client.publish(f"{topic}/kept", b"", qos=1, retain=True)


async def test_concurrent_publishes_share_one_connection() -> None:
    topic = _topic()
    async with _subscriber(f"{topic}/#") as got, _destinations() as pool:
        messages = [
            _message(f"{topic}/n{i}", qos=1 + i % 2, delivery_id=f"dlv_{i}") for i in range(200)
        ]
        results = await asyncio.gather(*(pool.publish(m) for m in messages))
        assert [r.answer for r in results] == ["PUBACK", "PUBCOMP"] * 100
        assert pool.open_connections == 1
        received = await _received(got, 200)
    ids = sorted(_properties(m)["X-Hookline-Delivery-Id"] for m in received)
    assert ids == sorted(f"dlv_{i}" for i in range(200))


async def test_a_connection_broken_mid_run_is_reopened_and_nothing_is_lost() -> None:
    """Through a proxy: 40 messages acknowledged; then the broker's answers are held back
    while 10 more are published at QoS 1 (the subscriber gets them), and the connection is
    reset. Those 10 fail with ``connect`` and their retries (as their deliveries would be
    retried) go through a new connection, as do 40 more: the subscriber gets every message,
    the 10 whose PUBACK was lost twice (at least once, never lost)."""
    topic = _topic()
    async with (
        _subscriber(f"{topic}/#") as got,
        TcpProxy(MQTT[1]) as proxy,
        _destinations() as pool,
    ):
        url = f"mqtt://127.0.0.1:{proxy.port}"

        def batch(name: str, count: int, qos: int) -> list[BrokerMessage]:
            return [
                _message(f"{topic}/t", qos=qos, url=url, delivery_id=f"dlv_{name}_{i}")
                for i in range(count)
            ]

        async def publish_all(messages: list[BrokerMessage]) -> list[str | None]:
            results = await asyncio.gather(*(pool.publish(m) for m in messages))
            return [r.error_class for r in results]

        before, lost, after = batch("before", 40, 2), batch("lost", 10, 1), batch("after", 40, 2)
        assert await publish_all(before) == [None] * 40
        proxy.hold()
        in_flight = asyncio.ensure_future(publish_all(lost))
        await _received(got, 50)  # the broker took them (and passed them on)
        assert await proxy.kill_all() == 1
        assert await in_flight == ["connect"] * 10
        proxy.release()
        assert await publish_all(lost) == [None] * 10  # the retries
        assert await publish_all(after) == [None] * 40
        assert (proxy.accepted, pool.open_connections) == (2, 1)
        received = await _received(got, 100)
    delivered = sorted(_properties(m)["X-Hookline-Delivery-Id"] for m in received)
    sent = [m.headers["X-Hookline-Delivery-Id"] for m in before + lost + after]
    assert delivered == sorted(sent + [m.headers["X-Hookline-Delivery-Id"] for m in lost])
    for item in received[:3] + received[-3:]:
        _assert_signed(item.payload, _properties(item))


# --- refused credentials and refused messages: a private mosquitto with a password and ACL ---


def _mosquitto_binary() -> str:
    found = shutil.which(MOSQUITTO) or shutil.which(MOSQUITTO, path="/usr/sbin:/usr/local/sbin")
    if found is None:
        reason = f"{MOSQUITTO} is not installed: it runs a broker with a password file and ACL"
        if IN_CI:
            pytest.fail(f"{reason}; install it or set MOSQUITTO")
        pytest.skip(reason)
    return found


def _password_line(user: str, password: str) -> str:
    """A Mosquitto 2 password file line (``$7$``: PBKDF2-SHA512, as mosquitto_passwd writes)."""
    salt, rounds = os.urandom(12), 101
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, rounds)
    b64 = base64.b64encode
    return f"{user}:$7${rounds}${b64(salt).decode()}${b64(digest).decode()}\n"


@pytest.fixture
def guarded_mosquitto(tmp_path: Path) -> Iterator[int]:
    """A broker for user ``hook`` / password ``s3cret:p@ss`` only, which may publish under
    ``ok/`` and only read ``denied/``."""
    binary, port = _mosquitto_binary(), free_port()
    (tmp_path / "passwd").write_text(_password_line("hook", "s3cret:p@ss"))
    (tmp_path / "acl").write_text("user hook\ntopic readwrite ok/#\ntopic read denied/#\n")
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npersistence false\n"
        f"password_file {tmp_path / 'passwd'}\nacl_file {tmp_path / 'acl'}\n"
        # started as root, mosquitto would become user "mosquitto", who cannot read tmp_path
        f"user {pwd.getpwuid(os.geteuid()).pw_name}\n"
    )
    server = subprocess.Popen(
        [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 5
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            assert server.poll() is None, "mosquitto stopped at start"
            assert time.monotonic() < deadline, "mosquitto did not listen within 5 s"
            time.sleep(0.05)
        yield port
    finally:
        server.terminate()
        server.wait(5)


async def test_refused_credentials_are_auth_and_the_password_is_never_shown(
    guarded_mosquitto: int,
) -> None:
    port = guarded_mosquitto
    async with _destinations() as pool:
        wrong = await pool.publish(_message("ok/a", url=f"mqtt://hook:wrong-pass@127.0.0.1:{port}"))
        anonymous = await pool.publish(_message("ok/a", url=f"mqtt://127.0.0.1:{port}"))
        right = await pool.publish(
            _message("ok/a", url=f"mqtt://hook:s3cret%3Ap%40ss@127.0.0.1:{port}")
        )
    for refused in (wrong, anonymous):
        assert refused.error_class == "auth", refused
        assert "refused the connection: Not authorized (0x87)" in (refused.error_message or "")
    assert "wrong-pass" not in (wrong.error_message or "")
    assert (right.ok, right.answer) == (True, "PUBACK (No matching subscribers)"), right


async def test_a_message_the_broker_refuses_is_refused_at_qos_1_and_at_qos_2(
    guarded_mosquitto: int,
) -> None:
    """Mosquitto refuses a publish its ACL denies in PUBACK (QoS 1) or PUBREC (QoS 2)."""
    url = f"mqtt://hook:s3cret%3Ap%40ss@127.0.0.1:{guarded_mosquitto}"
    async with _destinations() as pool:
        results = [
            await pool.publish(_message(topic, qos=qos, url=url))
            for topic in ("denied/a", "ok/a")
            for qos in (1, 2)
        ]
        assert pool.open_connections == 1  # a refusal is not a broken connection
    denied_1, denied_2, ok_1, ok_2 = results
    assert (denied_1.error_class, denied_1.error_message) == (
        "refused",
        "the broker refused the message: PUBACK Not authorized (0x87)",
    )
    assert (denied_2.error_class, denied_2.error_message) == (
        "refused",
        "the broker refused the message: PUBREC Not authorized (0x87)",
    )
    assert (ok_1.ok, ok_2.ok) == (True, True)


# --- end to end: the service publishes, the attempt log shows it ------------------------------


async def test_the_service_publishes_signed_events_and_logs_the_acknowledgement(
    service: Service,
) -> None:
    api = await workspace(service)
    topic = _topic()
    hook = await api.ok(
        "POST",
        "/webhooks",
        json={
            "name": "to mqtt",
            "kind": "mqtt",
            "mqtt": {"url": MQTT_URL, "topic": f"{topic}/$type", "qos": 2},
            "events": ["task.*"],
            "retry_schedule": [0.5],
            "secret": SECRET,
        },
    )
    assert hook["kind"] == "mqtt"
    async with _subscriber(f"{topic}/#") as got:
        first = (await api.publish({"n": 1}))["deliveries"][0]["id"]
        second = (await api.publish({"n": 2}, type="task.failed"))["deliveries"][0]["id"]
        details = [await api.settled(first, "succeeded"), await api.settled(second, "succeeded")]
        received = await _received(got, 2)
    by_delivery = {_properties(m)["X-Hookline-Delivery-Id"]: m for m in received}
    assert set(by_delivery) == {first, second}
    for delivery_id, detail, type_, n in (
        (first, details[0], "task.completed", 1),
        (second, details[1], "task.failed", 2),
    ):
        item = by_delivery[delivery_id]
        assert item.topic.value == f"{topic}/{type_}"
        assert item.payload == f'{{"n": {n}}}'.encode()
        assert item.qos == 2
        _assert_signed(item.payload, _properties(item))
        [attempt] = detail["attempts"]
        assert attempt["error_class"] is None
        assert attempt["request"]["method"] == "PUBLISH"
        assert attempt["request"]["url"] == f"{MQTT_URL}?topic={topic}/{type_}&qos=2"
        assert attempt["request"]["headers"]["X-Hookline-Delivery-Id"] == delivery_id
        assert attempt["response"] == {"status": None, "headers": {}, "body_excerpt": "PUBCOMP"}
