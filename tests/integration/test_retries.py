"""What follows a failed attempt, end to end: retries, give-ups, Retry-After, 410, timeouts,
redirects, manual retry and replay, and the SSRF guard, against real receivers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import Receiver, Service, start_receiver
from tests.integration.engine_helpers import Api, running_service, statuses, workspace


async def test_retries_until_the_receiver_succeeds(service: Service, receiver: Receiver) -> None:
    api = await workspace(service)
    await api.hook(receiver.url)
    receiver.statuses = [500, 500]
    published = await api.publish()
    detail = await api.settled(published["deliveries"][0]["id"], "succeeded")
    assert len(await receiver.wait_for(3)) == 3
    assert statuses(detail) == [500, 500, 200]
    assert [a["number"] for a in detail["attempts"]] == [1, 2, 3]
    assert [a["error_class"] for a in detail["attempts"]] == ["http_status", "http_status", None]
    assert detail["attempt_count"] == 3


async def test_max_attempts_is_respected(service: Service, receiver: Receiver) -> None:
    api = await workspace(service)
    await api.hook(receiver.url, max_attempts=3)
    receiver.status = 500
    published = await api.publish()
    detail = await api.settled(published["deliveries"][0]["id"], "failed")
    assert statuses(detail) == [500, 500, 500]
    assert detail["last_status"] == 500
    assert len(receiver.requests) == 3


async def test_retry_after_overrides_the_schedule(service: Service, receiver: Receiver) -> None:
    api = await workspace(service)
    await api.hook(receiver.url, retry_schedule=[0, 0.1])
    receiver.statuses = [429, 503]
    receiver.headers = {"Retry-After": "1"}
    published = await api.publish()
    await api.settled(published["deliveries"][0]["id"], "succeeded")
    first, second, third = await receiver.wait_for(3)
    assert second.at - first.at >= 0.95
    assert third.at - second.at >= 0.95


async def test_410_gone_disables_the_webhook(service: Service, receiver: Receiver) -> None:
    api = await workspace(service)
    hook = await api.hook(receiver.url)
    receiver.status = 410
    published = await api.publish()
    detail = await api.settled(published["deliveries"][0]["id"], "failed")
    assert statuses(detail) == [410]
    found = await api.ok("GET", f"/webhooks/{hook['id']}")
    assert found["enabled"] is False
    assert found["disabled_reason"]
    later = await api.publish()
    [held] = later["deliveries"]  # made, and held until the webhook is enabled again
    assert (await api.delivery(held["id"]))["status"] == "pending"
    assert len(receiver.requests) == 1


async def test_timeouts_are_recorded(service: Service, receiver: Receiver) -> None:
    api = await workspace(service)
    await api.hook(receiver.url, timeout_seconds=0.5, max_attempts=1)
    receiver.delay = 1.0
    published = await api.publish()
    detail = await api.settled(published["deliveries"][0]["id"], "failed")
    [attempt] = detail["attempts"]
    assert attempt["error_class"] == "timeout"
    assert attempt["response"]["status"] is None
    assert attempt["duration_ms"] >= 450


async def test_redirects_are_not_followed(service: Service, receiver: Receiver) -> None:
    api = await workspace(service)
    await api.hook(receiver.url + "/moved", max_attempts=1)
    receiver.status = 302
    receiver.headers = {"Location": receiver.url + "/elsewhere"}
    published = await api.publish()
    detail = await api.settled(published["deliveries"][0]["id"], "failed")
    [attempt] = detail["attempts"]
    assert (attempt["response"]["status"], attempt["error_class"]) == (302, "http_status")
    assert [r.path for r in receiver.requests] == ["/moved"]


async def test_manual_retry_and_replay_send_again(service: Service, receiver: Receiver) -> None:
    api = await workspace(service)
    hook = await api.hook(receiver.url, max_attempts=1)
    receiver.status = 500
    first, *rest = [(await api.publish({"n": n}))["deliveries"][0]["id"] for n in range(3)]
    for delivery_id in (first, *rest):
        await api.settled(delivery_id, "failed")
    receiver.status = 200

    queued = await api.ok("POST", f"/deliveries/{first}/retry")
    assert queued["status"] == "pending"
    assert statuses(await api.settled(first, "succeeded")) == [500, 200]
    original, again = [r for r in await receiver.wait_for(4) if b'"n": 0' in r.body]
    assert original.body == again.body
    assert original.headers["X-Hookline-Event-Id"] == again.headers["X-Hookline-Event-Id"]

    now = datetime.now(UTC)
    window = {
        "since": (now - timedelta(minutes=1)).isoformat(),
        "until": (now + timedelta(minutes=1)).isoformat(),
        "statuses": ["failed"],  # the one that succeeded is left alone
    }
    replayed = await api.ok("POST", f"/webhooks/{hook['id']}/replay", json=window)
    assert replayed == {"queued": 2}
    for delivery_id in rest:
        assert statuses(await api.settled(delivery_id, "succeeded")) == [500, 200]
    replayed_bodies = {r.body for r in (await receiver.wait_for(6))[4:]}
    assert replayed_bodies == {b'{"n": 1}', b'{"n": 2}'}


async def _assert_blocked(api: Api, receiver: Receiver, delivery_id: str) -> None:
    detail = await api.settled(delivery_id, "failed")
    [attempt] = detail["attempts"]  # refused for good: never retried
    assert attempt["error_class"] == "blocked"
    assert "not allowed" in attempt["error_message"]
    assert receiver.requests == []


async def test_ssrf_guard_refuses_loopback_by_name(database_url: str) -> None:
    """Without allowed networks (the production default) a name resolving to loopback is
    refused when sending, and a metadata address already when the webhook is created."""
    receiver, runner = await start_receiver()
    try:
        async with running_service(database_url, allowed_networks=()) as svc:
            api = await workspace(svc)
            await api.hook(receiver.url.replace("127.0.0.1", "localhost"), max_attempts=5)
            published = await api.publish()
            await _assert_blocked(api, receiver, published["deliveries"][0]["id"])
            status, body = await api.call(
                "POST", "/webhooks", json={"name": "imds", "url": "http://169.254.169.254/"}
            )
            assert (status, body["error"]["field"]) == (422, "url")
            assert "url" in body["error"]["message"]
    finally:
        await runner.cleanup()


async def test_ssrf_guard_refuses_a_loopback_literal(database_url: str) -> None:
    """A delivery queued while loopback was allowed is refused once the operator closes it."""
    receiver, runner = await start_receiver()
    try:
        async with running_service(database_url, worker=False) as svc:
            api = await workspace(svc)
            await api.hook(receiver.url, max_attempts=5)
            published = await api.publish()
        async with running_service(database_url, allowed_networks=()) as svc:
            api = Api(svc, api.ws, api.key)
            await _assert_blocked(api, receiver, published["deliveries"][0]["id"])
    finally:
        await runner.cleanup()
