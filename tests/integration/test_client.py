"""The publisher client against the real service, a real receiver and a real flaky proxy."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from hookline import AsyncClient, Client
from hookline.client import Delivery, HooklineAPIError, HooklineConnectionError, NewEvent
from hookline.errors import HooklineError
from tests.conftest import Receiver, Service, free_port


@dataclass
class Fault:
    """Answer ``status`` to the next request matching method and path end. With ``forward`` the
    request reaches the API first: the server acts, and its answer is lost on the way back."""

    method: str
    path_end: str
    status: int
    forward: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Proxy:
    url: str
    faults: list[Fault] = field(default_factory=list)
    seen: list[tuple[str, str, bytes]] = field(default_factory=list)

    def count(self, method: str, path_end: str) -> int:
        return sum(1 for m, p, _ in self.seen if m == method and p.endswith(path_end))

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and path.endswith(fault.path_end):
                self.faults.remove(fault)
                return fault
        return None


@pytest.fixture
async def workspace(service: Service) -> tuple[str, str]:
    return await service.workspace()


@pytest.fixture
async def client(service: Service, workspace: tuple[str, str]) -> AsyncIterator[AsyncClient]:
    ws, key = workspace
    async with AsyncClient(service.url, key, workspace_id=ws, backoff=0.01) as c:
        yield c


async def _forward(service: Service, request: web.Request, body: bytes) -> web.Response:
    headers = {k: v for k, v in request.headers.items() if k in ("Authorization", "Content-Type")}
    url = service.url + request.path_qs
    async with service.http.request(request.method, url, data=body, headers=headers) as upstream:
        kept = {k: v for k, v in upstream.headers.items() if k in ("Content-Type", "Retry-After")}
        return web.Response(status=upstream.status, body=await upstream.read(), headers=kept)


@pytest.fixture
async def proxy(service: Service) -> AsyncIterator[Proxy]:
    """A real HTTP proxy in front of the API that injects the faults it is given."""
    port = free_port()
    state = Proxy(f"http://127.0.0.1:{port}")

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        state.seen.append((request.method, request.path, body))
        fault = state.take(request.method, request.path)
        if fault is None or fault.forward:
            answer = await _forward(service, request, body)
        if fault is not None:
            await asyncio.sleep(fault.delay)
            return web.Response(status=fault.status, text="upstream hiccup", headers=fault.headers)
        return answer

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield state
    finally:
        await runner.cleanup()


async def _events(service: Service, ws: str, key: str) -> list[dict[str, Any]]:
    page = await service.ok("GET", f"/v1/workspaces/{ws}/events", token=key)
    events: list[dict[str, Any]] = page["data"]
    return events


async def _deliveries(
    client: AsyncClient, webhook_id: str, done: Callable[[list[Delivery]], bool]
) -> list[Delivery]:
    for _ in range(100):
        found = [d async for d in client.iter_deliveries(webhook_id=webhook_id, page_size=2)]
        if done(found):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"deliveries never got there: {found}")


async def test_publish_reaches_the_receiver(client: AsyncClient, receiver: Receiver) -> None:
    await client.create_event_type("order.paid", "An order was paid", example={"order": 0})
    hook = await client.create_webhook("orders", receiver.url + "/in", events=["order.paid"])
    result = await client.publish("order.paid", {"order": 42})
    assert not result.duplicate and result.type == "order.paid"
    assert [d.webhook_id for d in result.deliveries] == [hook.id]
    [request] = await receiver.wait_for(1)
    assert json.loads(request.body) == {"order": 42}
    assert request.headers["X-Hookline-Event-Type"] == "order.paid"


async def test_the_same_key_publishes_once(
    client: AsyncClient, service: Service, workspace: tuple[str, str], receiver: Receiver
) -> None:
    await client.create_webhook("all", receiver.url)
    first = await client.publish("user.created", {"id": 1}, idempotency_key="user-1")
    again = await client.publish("user.created", {"id": 1}, idempotency_key="user-1")
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.id == first.id and again.idempotency_key == "user-1"
    assert [e["id"] for e in await _events(service, *workspace)] == [first.id]
    assert len((await client.list_deliveries(event_id=first.id)).data) == 1


async def test_publish_batch_commits_events_together_in_order(
    client: AsyncClient, service: Service, workspace: tuple[str, str], receiver: Receiver
) -> None:
    hook = await client.create_webhook("orders", receiver.url, events=["order.*"])
    results = await client.publish_batch(
        [
            {"type": "order.paid", "payload": {"order": 1}, "idempotency_key": "order-1"},
            {"type": "user.created", "payload": {"id": 2}},
            {"type": "order.paid", "payload": {"order": 1}, "idempotency_key": "order-1"},
        ]
    )
    assert [(r.type, r.duplicate) for r in results] == [
        ("order.paid", False),
        ("user.created", False),
        ("order.paid", True),
    ]
    assert results[2].id == results[0].id and results[0].idempotency_key == "order-1"
    assert results[1].idempotency_key  # generated, so that a retry is safe
    assert [[d.webhook_id for d in r.deliveries] for r in results] == [[hook.id], [], [hook.id]]
    assert sorted(e["id"] for e in await _events(service, *workspace)) == sorted(
        [results[0].id, results[1].id]
    )
    with pytest.raises(HooklineAPIError) as caught:
        await client.publish_batch([{"type": "ok.event", "payload": 1}, {"type": "", "payload": 2}])
    assert (caught.value.status, caught.value.field) == (422, "events.1.type")
    await receiver.wait_for(1)


async def test_publish_batch_retried_after_a_lost_answer_is_not_duplicated(
    service: Service, workspace: tuple[str, str], proxy: Proxy
) -> None:
    ws, key = workspace
    proxy.faults.append(Fault("POST", "/events/batch", 503))
    events: list[NewEvent] = [{"type": "tick", "payload": {"n": n}} for n in range(3)]
    async with AsyncClient(proxy.url, key, workspace_id=ws, backoff=0.01) as client:
        results = await client.publish_batch(events)
    [first, retry] = [json.loads(b) for m, p, b in proxy.seen if p.endswith("/events/batch")]
    assert first == retry and len({e["idempotency_key"] for e in first["events"]}) == 3
    assert [r.duplicate for r in results] == [True, True, True]
    assert sorted(e["id"] for e in await _events(service, ws, key)) == sorted(r.id for r in results)


async def test_webhook_crud_round_trip(client: AsyncClient) -> None:
    created = await client.create_webhook(
        "crm", "https://example.com/hook", secret="generate", metadata={"team": "sales"}
    )
    assert created.has_secret and created.secret and created.secret.startswith("whsec_")
    assert created.public_key is None  # a symmetric secret has none
    assert created.events == ("*",) and created.raw["metadata"] == {"team": "sales"}
    fetched = await client.get_webhook(created.id)
    assert (fetched.id, fetched.name, fetched.secret) == (created.id, "crm", None)
    updated = await client.update_webhook(created.id, name="crm v2", enabled=False)
    assert (updated.name, updated.enabled, updated.url) == ("crm v2", False, created.url)
    new_secret = await client.rotate_secret(created.id)
    assert new_secret != created.secret
    assert (await client.get_webhook(created.id, include_secret=True)).secret == new_secret
    await client.delete_webhook(created.id)
    with pytest.raises(HooklineAPIError) as caught:
        await client.get_webhook(created.id)
    assert (caught.value.status, caught.value.code) == (404, "not_found")


async def test_an_ed25519_webhook_shows_its_public_key(client: AsyncClient) -> None:
    created = await client.create_webhook(
        "signed", "https://example.com/hook", secret="generate", signature_schemes=["ed25519"]
    )
    assert created.secret is not None and created.secret.startswith("whsk_")
    assert created.public_key is not None and created.public_key.startswith("whpk_")
    assert (await client.get_webhook(created.id)).public_key == created.public_key


async def test_webhook_listing_pages(client: AsyncClient) -> None:
    ids = {(await client.create_webhook(f"h{n}", f"https://example.com/{n}")).id for n in range(5)}
    first = await client.list_webhooks(limit=2)
    assert len(first.data) == 2 and first.next_cursor is not None
    second = await client.list_webhooks(limit=2, cursor=first.next_cursor)
    assert not {h.id for h in first.data} & {h.id for h in second.data}
    assert {h.id async for h in client.iter_webhooks(page_size=2)} == ids
    assert [h.name async for h in client.iter_webhooks(search="h3")] == ["h3"]


async def test_deliveries_listing_retry_and_replay(client: AsyncClient, receiver: Receiver) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    hook = await client.create_webhook("sink", receiver.url)
    receiver.statuses = [500]  # one first attempt fails; its retry is seconds away
    for n in range(3):
        await client.publish("ping", {"n": n})
    settled = await _deliveries(
        client,
        hook.id,
        lambda ds: (
            sorted(d.status for d in ds) == ["pending", "succeeded", "succeeded"]
            and all(d.attempt_count for d in ds)
        ),
    )
    [failed] = [d for d in settled if d.status == "pending"]
    assert failed.last_status == 500 and failed.next_attempt_at is not None
    page = await client.list_deliveries(webhook_id=hook.id, status="succeeded", since=start)
    assert {d.id for d in page.data} == {d.id for d in settled if d.status == "succeeded"}
    assert [a.status for a in (await client.get_delivery(failed.id)).attempts] == [500]

    assert (await client.retry_delivery(failed.id)).status == "pending"
    await _deliveries(client, hook.id, lambda ds: {d.status for d in ds} == {"succeeded"})
    assert [a.status for a in (await client.get_delivery(failed.id)).attempts] == [500, 200]

    assert await client.replay(hook.id, since=start, statuses=("succeeded",)) == 3
    await receiver.wait_for(3 + 1 + 3)
    tested = await client.test_webhook(hook.id, payload={"hello": "world"})
    assert tested.success and tested.attempt.status == 200


def _use_sync_client(url: str, ws: str, key: str, receiver_url: str) -> tuple[list[str], str]:
    with Client(url, key, workspace_id=ws, backoff=0.01) as client:
        hook = client.create_webhook("sync", receiver_url)
        published = client.publish("sync.event", {"from": "thread"})
        assert [d.webhook_id for d in published.deliveries] == [hook.id]
        [batched] = client.publish_batch([{"type": "sync.batch", "payload": {"n": 1}}])
        assert [d.webhook_id for d in batched.deliveries] == [hook.id]
        names = [h.name for h in client.iter_webhooks(page_size=1)]
        try:
            client.get_webhook("wh_missing")
        except HooklineAPIError as exc:
            return names, exc.code
    raise AssertionError("unreachable")


async def test_sync_client_from_plain_code(
    service: Service, workspace: tuple[str, str], receiver: Receiver
) -> None:
    ws, key = workspace
    # In a thread, so this loop keeps serving the in-process API meanwhile.
    names, code = await asyncio.to_thread(_use_sync_client, service.url, ws, key, receiver.url)
    assert (names, code) == (["sync"], "not_found")
    received = await receiver.wait_for(2)
    assert sorted(json.dumps(json.loads(r.body)) for r in received) == [
        '{"from": "thread"}',
        '{"n": 1}',
    ]


def test_sync_client_close_is_final() -> None:
    client = Client(f"http://127.0.0.1:{free_port()}", "key", workspace_id="ws_1")
    client.close()
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.publish("x", {})


async def test_publish_retried_after_a_lost_answer_is_not_duplicated(
    service: Service, workspace: tuple[str, str], proxy: Proxy, receiver: Receiver
) -> None:
    ws, key = workspace
    proxy.faults.append(Fault("POST", "/events", 503))
    async with AsyncClient(proxy.url, key, workspace_id=ws, backoff=0.01) as client:
        await client.create_webhook("sink", receiver.url)
        result = await client.publish("order.paid", {"order": 7})
    [first, retry] = [json.loads(body) for m, p, body in proxy.seen if p.endswith("/events")]
    assert first == retry and first["idempotency_key"] == result.idempotency_key
    assert result.duplicate  # the first attempt was committed; the retry found it
    assert [e["id"] for e in await _events(service, ws, key)] == [result.id]
    await receiver.wait_for(1)
    await asyncio.sleep(0.5)  # a second delivery, if there were one, would arrive meanwhile
    assert len(receiver.requests) == 1


async def test_a_timed_out_publish_is_retried_without_duplication(
    service: Service, workspace: tuple[str, str], proxy: Proxy
) -> None:
    ws, key = workspace
    proxy.faults.append(Fault("POST", "/events", 504, delay=2.0))
    async with AsyncClient(proxy.url, key, workspace_id=ws, timeout=0.5, backoff=0.01) as client:
        result = await client.publish("order.paid", {"order": 8})
    assert result.duplicate and proxy.count("POST", "/events") == 2
    assert [e["id"] for e in await _events(service, ws, key)] == [result.id]


async def test_429_waits_for_retry_after(workspace: tuple[str, str], proxy: Proxy) -> None:
    ws, key = workspace
    proxy.faults.append(
        Fault("POST", "/events", 429, forward=False, headers={"Retry-After": "0.4"})
    )
    async with AsyncClient(proxy.url, key, workspace_id=ws, backoff=0.01) as client:
        started = time.monotonic()
        result = await client.publish("order.paid", {})
    assert time.monotonic() - started >= 0.4
    assert not result.duplicate and proxy.count("POST", "/events") == 2


async def test_side_effects_are_not_replayed_after_a_lost_answer(
    service: Service, workspace: tuple[str, str], proxy: Proxy
) -> None:
    ws, key = workspace
    proxy.faults.append(Fault("POST", "/webhooks", 502))
    async with AsyncClient(proxy.url, key, workspace_id=ws, backoff=0.01) as client:
        with pytest.raises(HooklineAPIError) as caught:
            await client.create_webhook("once", "https://example.com/once")
        assert (caught.value.status, caught.value.code) == (502, "http_error")
        assert proxy.count("POST", "/webhooks") == 1
        assert [h.name for h in (await client.list_webhooks()).data] == ["once"]


async def test_server_errors_are_retried_then_raised(
    workspace: tuple[str, str], proxy: Proxy
) -> None:
    ws, key = workspace
    proxy.faults += [Fault("GET", "/webhooks", 500, forward=False) for _ in range(3)]
    async with AsyncClient(proxy.url, key, workspace_id=ws, retries=2, backoff=0.01) as client:
        with pytest.raises(HooklineAPIError) as caught:
            await client.list_webhooks()
    assert caught.value.status == 500 and proxy.count("GET", "/webhooks") == 3


async def test_client_errors_raise_at_once(workspace: tuple[str, str], proxy: Proxy) -> None:
    ws, key = workspace
    async with AsyncClient(proxy.url, key, workspace_id=ws, backoff=0.01) as client:
        with pytest.raises(HooklineAPIError) as caught:
            await client.update_webhook("wh_unknown", name="x")
        assert caught.value.code == "not_found"
        with pytest.raises(HooklineAPIError) as caught:
            await client.create_webhook("h", "https://example.com/h", events=["no.such.type"])
        error = caught.value
        assert (error.status, error.code, error.field) == (422, "validation_failed", "events")
        assert isinstance(error, HooklineError) and "no.such.type" in error.message
        hook = await client.create_webhook("h", "https://example.com/h")
        with pytest.raises(HooklineAPIError) as caught:
            await client.update_webhook(hook.id, events=["no.such.type"])
    assert (caught.value.status, caught.value.field) == (422, "events")
    assert proxy.count("PATCH", "/wh_unknown") == 1 and proxy.count("PATCH", hook.id) == 1


async def test_connection_refused_raises_after_the_retries(workspace: tuple[str, str]) -> None:
    ws, key = workspace
    url = f"http://127.0.0.1:{free_port()}"
    async with AsyncClient(url, key, workspace_id=ws, retries=2, backoff=0.01) as client:
        with pytest.raises(HooklineConnectionError, match=r"\(3 attempts\)"):
            await client.publish("order.paid", {})
    with Client(url, key, workspace_id=ws, retries=1, backoff=0.01) as sync:
        with pytest.raises(HooklineConnectionError, match=r"\(2 attempts\)"):
            await asyncio.to_thread(sync.get_webhook, "wh_x")


async def test_portal_links_are_made_and_revoked(service: Service, client: AsyncClient) -> None:
    made = await client.create_portal_link(
        expires_in=600,
        read_only=True,
        event_types=("invoice.*",),
        user="ann@example.com",
        feature_flags=["beta"],
    )
    assert made.url == f"{service.url}/portal/#{made.token}"
    assert (made.read_only, made.event_types, made.user) == (
        True,
        ("invoice.*",),
        "ann@example.com",
    )
    assert made.feature_flags == ("beta",)
    assert made.created_at is not None and made.expires_at is not None
    assert (made.expires_at - made.created_at).total_seconds() == pytest.approx(600, abs=0.01)
    assert made.token not in repr(made)
    headers = {"Authorization": f"Bearer {made.token}", "HX-Request": "true"}
    async with service.http.post(service.url + "/portal/sign-in", headers=headers) as r:
        assert r.status == 200
    with pytest.raises(HooklineAPIError) as refused:
        await client.create_portal_link(expires_in=10)
    assert (refused.value.status, refused.value.field) == (422, "expires_in")
    await client.revoke_portal_links()
    async with service.http.post(service.url + "/portal/sign-in", headers=headers) as r:
        assert r.status == 401
