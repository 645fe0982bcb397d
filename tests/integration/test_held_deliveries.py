"""Events published while a webhook is disabled are held, not lost: whichever way the webhook
was disabled (by hand, by a 410 Gone, by the maintenance task after days of failures), enabling
it sends every one of them to a real receiver, in order. Held too long, they expire with an
operational event."""

from __future__ import annotations

import json
import time
from typing import Any

from hookline.runtime.maintenance import Maintenance
from hookline.store import open_store
from hookline.store.held import EXPIRED
from tests.conftest import Receiver, Service
from tests.integration.engine_helpers import Api, workspace


def numbers(receiver: Receiver, path: str = "/") -> list[int]:
    """The ``n`` of every payload that reached ``path``, in arrival order."""
    return [json.loads(r.body)["n"] for r in receiver.requests if r.path == path]


async def publish_while_disabled(api: Api, hook: dict[str, Any], ns: range) -> list[str]:
    """Publish ``{"n": n}`` for each n; the ids of the webhook's deliveries, held meanwhile."""
    made = []
    for n in ns:
        published = await api.publish({"n": n})
        [delivery] = [d for d in published["deliveries"] if d["webhook_id"] == hook["id"]]
        made.append(delivery["id"])
    for delivery_id in made:
        held = await api.delivery(delivery_id)
        assert (held["status"], held["attempt_count"]) == ("pending", 0)
    return made


async def enable_and_expect(
    api: Api, receiver: Receiver, hook: dict[str, Any], made: list[str], expected: list[int]
) -> None:
    """Enable the webhook; the receiver gets ``expected`` in order, each held one sent once."""
    found = await api.ok("GET", f"/webhooks/{hook['id']}")
    assert found["enabled"] is False
    await api.ok("PATCH", f"/webhooks/{hook['id']}", json={"enabled": True})
    await receiver.wait_for(len(expected))
    for delivery_id in made:
        detail = await api.settled(delivery_id, "succeeded")
        assert detail["attempt_count"] == 1  # no attempt was used while held
    assert numbers(receiver) == expected


async def test_a_webhook_paused_by_hand_gets_every_event_once_enabled(
    service: Service, receiver: Receiver
) -> None:
    api = await workspace(service)
    hook = await api.hook(receiver.url + "/", ordering="fifo")
    await api.ok("PATCH", f"/webhooks/{hook['id']}", json={"enabled": False})
    made = await publish_while_disabled(api, hook, range(1, 6))
    assert receiver.requests == []
    await enable_and_expect(api, receiver, hook, made, [1, 2, 3, 4, 5])


async def test_a_webhook_disabled_by_410_gets_every_later_event_once_enabled(
    service: Service, receiver: Receiver
) -> None:
    api = await workspace(service)
    hook = await api.hook(receiver.url + "/", ordering="fifo")
    receiver.statuses = [410]
    gone = await api.publish({"n": 0})
    await api.settled(gone["deliveries"][0]["id"], "failed")
    made = await publish_while_disabled(api, hook, range(1, 6))
    await enable_and_expect(api, receiver, hook, made, [0, 1, 2, 3, 4, 5])


async def test_a_webhook_disabled_by_maintenance_gets_every_later_event_once_enabled(
    service: Service, receiver: Receiver
) -> None:
    api = await workspace(service)
    hook = await api.hook(receiver.url + "/", ordering="fifo", max_attempts=1)
    receiver.statuses = [500]
    failed = await api.publish({"n": 0})
    await api.settled(failed["deliveries"][0]["id"], "failed")
    store = await open_store(service.settings)
    try:
        _, disabled = await Maintenance(store, service.settings).run_once(time.time() + 6 * 86400)
        assert disabled == 1
    finally:
        await store.close()
    made = await publish_while_disabled(api, hook, range(1, 6))
    await enable_and_expect(api, receiver, hook, made, [0, 1, 2, 3, 4, 5])


async def test_held_deliveries_expire_after_the_retention_period_with_a_notice(
    service: Service, receiver: Receiver
) -> None:
    api = await workspace(service)
    await api.hook(receiver.url + "/alerts", events=["hookline.webhook.deliveries_expired"])
    hook = await api.hook(receiver.url + "/gone")
    await api.ok("PATCH", f"/webhooks/{hook['id']}", json={"enabled": False})
    [held] = await publish_while_disabled(api, hook, range(1, 2))
    store = await open_store(service.settings)
    try:
        upkeep = Maintenance(store, service.settings)
        await upkeep.run_once(time.time() + 29 * 86400)  # within the 30 days: kept, held
        assert (await api.delivery(held))["status"] == "pending"
        await upkeep.run_once(time.time() + 31 * 86400)
        expired = await api.delivery(held)
        assert (expired["status"], expired["last_error"]) == ("failed", EXPIRED)
        assert expired["attempt_count"] == 0
        [notice] = await receiver.wait_for(1)
        assert notice.path == "/alerts"
        assert notice.headers["X-Hookline-Event-Type"] == "hookline.webhook.deliveries_expired"
        payload = json.loads(notice.body)
        assert payload == {
            "webhook_id": hook["id"],
            "webhook_name": hook["name"],
            "deliveries": 1,
            "reason": EXPIRED,
        }
        await upkeep.run_once(time.time() + 32 * 86400)  # retention now removes it
        status, _ = await api.call("GET", f"/deliveries/{held}")
        assert status == 404
    finally:
        await store.close()
