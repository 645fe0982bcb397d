"""``HOOKLINE_CLAIM_INTERVAL`` through the real API, worker and a receiver, on SQLite and
PostgreSQL: an idle worker claims as soon as it is woken, one whose last claim found all that was
due waits out the interval, and a backlog is claimed without waiting."""

from __future__ import annotations

import asyncio
import time

from tests.conftest import Receiver, started

INTERVAL = 1.0


async def test_claims_are_spaced_only_under_steady_load(
    database_url: str, receiver: Receiver
) -> None:
    async for service in started(database_url, claim_interval=INTERVAL):
        ws, key = await service.workspace()
        body = {"name": "hook", "url": receiver.url + "/in", "events": ["*"]}
        await service.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=body)
        events = f"/v1/workspaces/{ws}/events"

        one = {"type": "task.completed", "payload": {}}
        start = time.monotonic()
        await service.ok("POST", events, token=key, json=one)
        await receiver.wait_for(1)
        idle = time.monotonic() - start
        await service.ok("POST", events, token=key, json=one)  # the last claim found all due
        await receiver.wait_for(2)
        spaced = time.monotonic() - start
        assert idle < INTERVAL * 0.8, idle  # an idle worker claims at once
        assert spaced >= INTERVAL, spaced  # the next claim waited out the interval

        await asyncio.sleep(INTERVAL * 1.2)  # the spaced claim after the second found nothing
        backlog = [{"type": "task.completed", "payload": {"n": n}} for n in range(30)]
        start = time.monotonic()
        await service.ok("POST", events + "/batch", token=key, json={"events": backlog})
        await receiver.wait_for(32)
        # The first claim fills the webhook's room (a new webhook's: 4 x 5), so the rest is
        # claimed as soon as there is room, not an interval later.
        assert time.monotonic() - start < INTERVAL * 0.8
