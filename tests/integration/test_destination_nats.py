"""Publishing to a real NATS JetStream: what a consumer reads from the stream (body, signed
headers), a subject no stream captures, concurrent publishes on one connection, a connection
broken mid-run (through :mod:`tests.tcp_proxy`), refused credentials (a private
``nats-server`` with a password), and the same through the running service and its attempt log.

Every test creates its own stream, capturing ``hl_<random>.>``, and deletes it after.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
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
from hookline.domain.destinations import NatsAction
from hookline.domain.models import Event, SecretEntry, Webhook, WebhookConfig
from tests.brokers import NATS, NATS_URL, require_broker
from tests.conftest import IN_CI, Service, free_port
from tests.integration.engine_helpers import workspace
from tests.polling import eventually, until
from tests.tcp_proxy import TcpProxy

nats = pytest.importorskip("nats", reason="the nats extra is not installed")
standardwebhooks = pytest.importorskip("standardwebhooks")

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NATS_SERVER = os.environ.get("NATS_SERVER", "nats-server")


@pytest.fixture(autouse=True)
def _broker() -> None:
    require_broker(NATS)


@asynccontextmanager
async def _jetstream(url: str = NATS_URL, **options: Any) -> AsyncIterator[Any]:
    """The test's own JetStream context, to create, read and delete streams with."""
    nc = await nats.connect(url, **options)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


@asynccontextmanager
async def _stream(js: Any) -> AsyncIterator[tuple[str, str]]:
    """A stream capturing ``hl_<random>.>``: (its name, the subject prefix); deleted after."""
    token = uuid.uuid4().hex[:12]
    name, prefix = f"HL_{token}", f"hl_{token}"
    await js.add_stream(name=name, subjects=[f"{prefix}.>"])
    try:
        yield name, prefix
    finally:
        with contextlib.suppress(Exception):
            await js.delete_stream(name)


@asynccontextmanager
async def _destinations() -> AsyncIterator[Destinations]:
    pool = Destinations(AddressPolicy(["127.0.0.0/8"]))
    try:
        yield pool
    finally:
        await pool.close()


def _message(
    subject: str, *, url: str = NATS_URL, delivery_id: str = "dlv_1", payload: str = '{"id": 7}'
) -> BrokerMessage:
    """The message of attempt 1 for a ``task.completed`` event, signed with :data:`SECRET`."""
    action = NatsAction(url=url, subject=subject)
    config = WebhookConfig(name="to nats", kind="nats", nats=action, headers={"X-Team": "ops"})
    now = time.time()
    webhook = Webhook("wh_1", "ws_1", config, (SecretEntry(SECRET),), now, now)
    event = Event(f"evt_{uuid.uuid4().hex}", "ws_1", "task.completed", payload, None, now)
    return build_message(webhook, event, delivery_id=delivery_id, attempt=1, now=now)


async def _stored(js: Any, stream: str) -> list[Any]:
    """Every message the stream holds, in order."""
    info = await js.stream_info(stream)
    return [await js.get_msg(stream, seq) for seq in range(1, info.state.last_seq + 1)]


def _assert_signed(body: bytes, headers: dict[str, str], secret: str = SECRET) -> None:
    standardwebhooks.Webhook(secret).verify(body, headers)
    verify.verify("standard", body, headers, secret)


async def test_an_acknowledged_message_is_in_the_stream_with_its_body_and_signed_headers() -> None:
    async with _jetstream() as js, _stream(js) as (stream, prefix):
        message = _message(f"{prefix}.$type", payload='{"id": 7, "note": "caf\\u00e9"}')
        assert message.target == f"{prefix}.task.completed"
        async with _destinations() as pool:
            result = await pool.publish(message)
        assert (result.ok, result.answer) == (True, f"stream {stream} seq 1"), result
        [stored] = await _stored(js, stream)
    assert stored.subject == message.target
    assert stored.data == message.body
    assert stored.headers == dict(message.headers)
    assert stored.headers["X-Team"] == "ops"
    assert stored.headers["X-Hookline-Delivery-Id"] == "dlv_1"
    _assert_signed(stored.data, stored.headers)


async def test_a_subject_no_stream_captures_is_no_stream_and_the_connection_stays() -> None:
    subject = f"hl_nostream_{uuid.uuid4().hex[:12]}.task"
    async with _destinations() as pool:
        result = await pool.publish(_message(subject))
        assert (result.ok, result.error_class) == (False, "no_stream"), result
        assert f"no JetStream stream captures subject {subject!r}" in (result.error_message or "")
        assert pool.open_connections == 1  # the broker answered: nothing wrong with it


async def test_concurrent_publishes_share_one_connection() -> None:
    async with _jetstream() as js, _stream(js) as (stream, prefix), _destinations() as pool:
        messages = [_message(f"{prefix}.n{i}", delivery_id=f"dlv_{i}") for i in range(200)]
        results = await asyncio.gather(*(pool.publish(m) for m in messages))
        assert [r.error_class for r in results] == [None] * 200
        assert pool.open_connections == 1
        sequences = {r.answer for r in results}
        assert sequences == {f"stream {stream} seq {n}" for n in range(1, 201)}
        stored = await _stored(js, stream)
    assert sorted(m.headers["X-Hookline-Delivery-Id"] for m in stored) == sorted(
        f"dlv_{i}" for i in range(200)
    )


async def test_a_connection_broken_mid_run_is_reopened_and_nothing_is_lost() -> None:
    """Through a proxy: 40 messages acknowledged; then the broker's answers are held back
    while 10 more are published (the stream takes them), and the connection is reset. Those
    10 fail with ``connect`` and their retries (as their deliveries would be retried) go
    through a new connection, as do 40 more: every message is in the stream, the 10 whose
    acknowledgement was lost twice (at least once, never lost)."""
    async with (
        _jetstream() as js,
        _stream(js) as (stream, prefix),
        TcpProxy(NATS[1]) as proxy,
        _destinations() as pool,
    ):
        url = f"nats://127.0.0.1:{proxy.port}"

        def batch(name: str, count: int) -> list[BrokerMessage]:
            return [
                _message(f"{prefix}.task", url=url, delivery_id=f"dlv_{name}_{i}")
                for i in range(count)
            ]

        async def publish_all(messages: list[BrokerMessage]) -> list[str | None]:
            results = await asyncio.gather(*(pool.publish(m) for m in messages))
            return [r.error_class for r in results]

        before, lost, after = batch("before", 40), batch("lost", 10), batch("after", 40)
        assert await publish_all(before) == [None] * 40
        proxy.hold()
        in_flight = asyncio.ensure_future(publish_all(lost))

        async def taken() -> bool:
            return bool((await js.stream_info(stream)).state.messages == 50)

        await until(taken, 5, what="the stream taking the 10 unacknowledged messages")
        assert await proxy.kill_all() == 1
        assert await in_flight == ["connect"] * 10
        proxy.release()
        assert await publish_all(lost) == [None] * 10  # the retries
        assert await publish_all(after) == [None] * 40
        assert (proxy.accepted, pool.open_connections) == (2, 1)
        stored = await _stored(js, stream)
    held = [m.headers["X-Hookline-Delivery-Id"] for m in stored]
    sent = [m.headers["X-Hookline-Delivery-Id"] for m in before + lost + after]
    assert sorted(held) == sorted(sent + [m.headers["X-Hookline-Delivery-Id"] for m in lost])
    for m in stored[:3] + stored[-3:]:
        _assert_signed(m.data, m.headers)


# --- refused credentials: a private nats-server that requires a password --------------------


def _nats_server_binary() -> str:
    found = shutil.which(NATS_SERVER) or shutil.which(NATS_SERVER, path="/usr/sbin:/usr/local/bin")
    if found is None:
        reason = f"{NATS_SERVER} is not installed: it runs a NATS server with a password"
        if IN_CI:
            pytest.fail(f"{reason}; install it or set NATS_SERVER")
        pytest.skip(reason)
    return found


@pytest.fixture
def nats_with_password(tmp_path: Path) -> Iterator[int]:
    """A NATS server with JetStream requiring a password: user ``hook`` (``s3cret:p@ss``) may
    publish anywhere but under ``hl_denied.``; user ``deaf`` (``pw``) may not subscribe to the
    reply subjects acknowledgements come back on."""
    binary, port = _nats_server_binary(), free_port()
    config = tmp_path / "nats.conf"
    config.write_text(
        f'listen: "127.0.0.1:{port}"\n'
        f'jetstream {{ store_dir: "{tmp_path / "js"}" }}\n'
        "authorization { users = [\n"
        '  {user: hook, password: "s3cret:p@ss", permissions: {publish: {deny: "hl_denied.>"}}}\n'
        '  {user: deaf, password: pw, permissions: {subscribe: {deny: "_INBOX.>"}}}\n'
        "] }\n"
    )
    server = subprocess.Popen(
        [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 5
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            assert server.poll() is None, "nats-server stopped at start"
            assert time.monotonic() < deadline, "nats-server did not listen within 5 s"
            time.sleep(0.05)
        yield port
    finally:
        server.terminate()
        server.wait(5)


async def test_refused_credentials_are_auth_and_the_password_is_never_shown(
    nats_with_password: int,
) -> None:
    port = nats_with_password
    wrong = f"nats://hook:wrong-pass@127.0.0.1:{port}"
    right = f"nats://hook:s3cret%3Ap%40ss@127.0.0.1:{port}"
    own = {"user": "hook", "password": "s3cret:p@ss"}
    async with _jetstream(f"nats://127.0.0.1:{port}", **own) as js, _stream(js) as (stream, prefix):
        async with _destinations() as pool:
            refused = await pool.publish(_message(f"{prefix}.a", url=wrong))
            accepted = await pool.publish(_message(f"{prefix}.a", url=right))
        stored = await _stored(js, stream)
    assert refused.error_class == "auth", refused
    assert "Authorization Violation" in (refused.error_message or "")
    assert "wrong-pass" not in (refused.error_message or "")
    assert (accepted.ok, accepted.answer) == (True, f"stream {stream} seq 1"), accepted
    assert len(stored) == 1


async def test_a_publish_the_permissions_deny_is_refused_at_once(nats_with_password: int) -> None:
    """The server reports the denial asynchronously and never answers the request: the
    publish fails when the report comes, not after its 30 s timeout."""
    port = nats_with_password
    hook = f"nats://hook:s3cret%3Ap%40ss@127.0.0.1:{port}"
    deaf = f"nats://deaf:pw@127.0.0.1:{port}"
    subject = "hl_denied.Task"
    async with _destinations() as pool:
        denied = await asyncio.gather(
            *(pool.publish(_message(subject, url=hook)) for _ in range(3))
        )
        assert pool.open_connections == 1  # the connection is fine: other subjects may pass
        unheard = await pool.publish(_message("hl_open.task", url=deaf))
    for result in denied:
        assert result.error_class == "refused", result
        assert result.error_message == (
            'the NATS server denied it: nats: permissions violation for publish to "hl_denied.task"'
        )
        assert result.duration_ms < 2000
    assert unheard.error_class == "refused", unheard
    assert 'permissions violation for subscription to "_inbox.' in (unheard.error_message or "")
    assert unheard.duration_ms < 2000


# --- end to end: the service publishes, the attempt log shows it ------------------------------


async def test_the_service_publishes_signed_events_and_retries_until_a_stream_exists(
    service: Service,
) -> None:
    api = await workspace(service)
    token = uuid.uuid4().hex[:12]
    stream, prefix = f"HL_{token}", f"hl_{token}"
    hook = await api.ok(
        "POST",
        "/webhooks",
        json={
            "name": "to nats",
            "kind": "nats",
            "nats": {"url": NATS_URL, "subject": f"{prefix}.$type"},
            "events": ["task.*"],
            "retry_schedule": [0.5, 0.5, 0.5],
            "secret": SECRET,
        },
    )
    first = (await api.publish({"n": 1}))["deliveries"][0]["id"]
    failed = await eventually(
        lambda: api.delivery(first),
        lambda d: len(d["attempts"]) >= 1,
        what="the first attempt",
    )
    [attempt] = failed["attempts"][:1]
    assert attempt["error_class"] == "no_stream", attempt
    assert failed["status"] == "pending" and failed["next_attempt_at"], failed
    assert attempt["request"]["method"] == "PUBLISH"
    assert attempt["request"]["url"] == f"{NATS_URL}?subject={prefix}.task.completed"
    async with _jetstream() as js:
        await js.add_stream(name=stream, subjects=[f"{prefix}.>"])
        try:
            detail = await api.settled(first, "succeeded")
            second = (await api.publish({"n": 2}, type="task.failed"))["deliveries"][0]["id"]
            again = await api.settled(second, "succeeded")
            stored = await _stored(js, stream)
        finally:
            await js.delete_stream(stream)
    assert [a["error_class"] for a in detail["attempts"]][-1] is None
    assert {a["error_class"] for a in detail["attempts"][:-1]} == {"no_stream"}
    assert detail["attempts"][-1]["response"]["body_excerpt"] == f"stream {stream} seq 1"
    [one] = again["attempts"]
    assert one["response"]["body_excerpt"] == f"stream {stream} seq 2"
    assert [m.subject for m in stored] == [f"{prefix}.task.completed", f"{prefix}.task.failed"]
    assert [m.data for m in stored] == [b'{"n": 1}', b'{"n": 2}']
    for m, delivery_id in zip(stored, (first, second), strict=True):
        assert m.headers["X-Hookline-Delivery-Id"] == delivery_id
        assert m.headers["webhook-id"] == m.headers["X-Hookline-Event-Id"]
        _assert_signed(m.data, m.headers)
    assert hook["kind"] == "nats"
