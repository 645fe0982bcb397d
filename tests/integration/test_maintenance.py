"""Retention and automatic disabling, against real data from the real service."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import asyncpg
import pytest

from hookline.runtime.maintenance import Maintenance
from hookline.store import open_store
from tests.conftest import Receiver, Service
from tests.polling import eventually


async def _settled(service: Service, ws: str, key: str, status: str, count: int) -> list[Any]:
    """The deliveries in `status` once `count` of them have been attempted at least once.

    A delivery is also pending before its first attempt, so waiting for the status alone
    would race the worker."""
    path = f"/v1/workspaces/{ws}/deliveries?status={status}"

    async def tried() -> list[Any]:
        page = await service.ok("GET", path, token=key)
        return [d for d in page["data"] if d["attempt_count"] >= 1]

    return await eventually(tried, lambda found: len(found) >= count, what=f"{count} {status}")


async def test_retention_purges_finished_work_and_keeps_pending(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    hook = {"name": "h", "url": receiver.url, "events": ["*"], "retry_schedule": [0, 3600]}
    await service.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=hook)
    receiver.statuses = [200, 200, 500]
    for n in range(3):
        event = {"type": "a.b", "payload": {"n": n}}
        await service.ok("POST", f"/v1/workspaces/{ws}/events", token=key, json=event)
    await _settled(service, ws, key, "succeeded", 2)
    [waiting] = await _settled(service, ws, key, "pending", 1)
    store = await open_store(service.settings)
    try:
        # Only retention here: 31 days on, the retrying webhook would also count as failing.
        upkeep = Maintenance(store, replace(service.settings, auto_disable_after_seconds=0))
        assert await upkeep.run_once(time.time()) == (0, 0)  # nothing is 30 days old yet
        purged, _ = await upkeep.run_once(time.time() + 31 * 86400)
        if store.partitions is None:
            assert purged == 2 + 2  # two deliveries and their two events (attempts go with them)
        else:  # PostgreSQL drops whole days: the pending delivery keeps today's
            assert purged == 0
    finally:
        await store.close()
    listed = await service.ok("GET", f"/v1/workspaces/{ws}/deliveries", token=key)
    events = await service.ok("GET", f"/v1/workspaces/{ws}/events", token=key)
    if store.partitions is not None:
        assert len(listed["data"]) == 3 and len(events["data"]) == 3
        return
    assert [d["id"] for d in listed["data"]] == [waiting["id"]]
    assert [e["id"] for e in events["data"]] == [waiting["event_id"]]
    detail = await service.ok("GET", f"/v1/workspaces/{ws}/deliveries/{waiting['id']}", token=key)
    assert len(detail["attempts"]) == 1


async def test_retention_drops_the_partitions_of_finished_days_on_postgresql(
    service: Service, receiver: Receiver
) -> None:
    if service.settings.is_sqlite:
        pytest.skip("SQLite keeps its history in plain tables (retention deletes rows)")
    ws, key = await service.workspace()
    hook = {"name": "h", "url": receiver.url, "events": ["*"]}
    await service.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=hook)
    path = f"/v1/workspaces/{ws}/events"
    for n in range(3):
        event = {"type": "a.b", "payload": {"n": n}, "idempotency_key": f"k{n}"}
        await service.ok("POST", path, token=key, json=event)
    await _settled(service, ws, key, "succeeded", 3)
    store = await open_store(service.settings)
    try:
        upkeep = Maintenance(store, replace(service.settings, auto_disable_after_seconds=0))
        purged, _ = await upkeep.run_once(time.time() + 31 * 86400)
        assert purged >= 4  # today's events, deliveries, attempts and window links
    finally:
        await store.close()
    listed = await service.ok("GET", f"/v1/workspaces/{ws}/deliveries", token=key)
    events = await service.ok("GET", path, token=key)
    assert listed["data"] == [] and events["data"] == []
    # The events' idempotency keys went with them. (Publishing again would need today's
    # partition back: this pass ran 31 days ahead and dropped it.)
    conn = await asyncpg.connect(service.settings.database_url)
    try:
        assert await conn.fetchval("SELECT COUNT(*) FROM event_keys") == 0
    finally:
        await conn.close()


async def _failed_once(service: Service, receiver: Receiver, ws: str, key: str, name: str) -> Any:
    """A webhook of one attempt whose first delivery has failed (its receiver answers 500)."""
    body = {"name": name, "url": f"{receiver.url}/{name}", "events": ["a.*"], "max_attempts": 1}
    hook = await service.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=body)
    receiver.statuses = [500]
    await service.ok(
        "POST", f"/v1/workspaces/{ws}/events", token=key, json={"type": "a.b", "payload": {}}
    )
    await _settled(service, ws, key, "failed", 1)
    return hook


async def test_a_webhook_failing_for_days_is_disabled_with_a_notice(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    hooks = f"/v1/workspaces/{ws}/webhooks"
    await service.ok(
        "POST", hooks, token=key, json={"name": "alerts", "url": receiver.url + "/alerts",
                                          "events": ["hookline.webhook.disabled"]},
    )  # fmt: skip
    dead = await _failed_once(service, receiver, ws, key, "dead")
    store = await open_store(service.settings)
    try:
        upkeep = Maintenance(store, service.settings)
        assert (await upkeep.run_once(time.time() + 86400))[1] == 0  # one day: keep trying
        assert (await upkeep.run_once(time.time() + 6 * 86400))[1] == 1
    finally:
        await store.close()
    found = await service.ok("GET", f"{hooks}/{dead['id']}", token=key)
    assert found["enabled"] is False and "failing" in found["disabled_reason"]
    [notice] = [r for r in await receiver.wait_for(2) if r.path == "/alerts"]
    assert notice.headers["X-Hookline-Event-Type"] == "hookline.webhook.disabled"


async def test_a_webhook_enabled_again_gets_a_fresh_auto_disable_period(
    service: Service, receiver: Receiver
) -> None:
    """Failures from before a webhook was enabled again (or otherwise changed) do not count
    towards disabling it again: the operator gets the whole period to see it recover."""
    ws, key = await service.workspace()
    hook = await _failed_once(service, receiver, ws, key, "flaky")
    store = await open_store(service.settings)
    try:
        upkeep = Maintenance(store, service.settings)
        later = time.time() + 6 * 86400
        assert (await upkeep.run_once(later))[1] == 1  # failing for six days: disabled
        await store.config.set_webhook_enabled(hook["id"], True, None, later + 60)  # enabled again
        assert (await upkeep.run_once(later + 120))[1] == 0
        assert (await upkeep.run_once(later + 60 + 6 * 86400))[1] == 1  # still failing
    finally:
        await store.close()
