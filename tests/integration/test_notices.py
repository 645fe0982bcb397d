"""Operational events reach a webhook subscribed to hookline.*."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Receiver, Service, start_receiver
from tests.polling import eventually


async def _alerts(receiver: Receiver, type: str, count: int = 1) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]]:
        return [
            json.loads(r.body)
            for r in receiver.requests
            if r.headers.get("X-Hookline-Event-Type") == type
        ]

    return await eventually(found, lambda alerts: len(alerts) >= count, what=f"{count} {type}")


async def test_failures_disabling_and_recovery_are_announced(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    hooks = f"/v1/workspaces/{ws}/webhooks"
    alert_body = {"name": "alerts", "url": receiver.url + "/alerts", "events": ["hookline.*"]}
    await service.ok("POST", hooks, token=key, json=alert_body)
    flaky, runner = await start_receiver()
    try:
        flaky.statuses = [500, 500, 500, 500, 500, 200]
        body = {
            "name": "flaky",
            "url": flaky.url,
            "events": ["order.*"],
            "max_attempts": 2,
            "retry_schedule": [0, 0.1],
        }
        hook = await service.ok("POST", hooks, token=key, json=body)
        for n in range(3):  # 2 + 2 failed attempts, then 500 and finally a 200
            event = {"type": "order.paid", "payload": {"n": n}}
            await service.ok("POST", f"/v1/workspaces/{ws}/events", token=key, json=event)
            await flaky.wait_for(2 * n + 2)  # each event's two attempts, before the next
        [failed, *_] = await _alerts(receiver, "hookline.delivery.failed", 2)
        assert failed["webhook_id"] == hook["id"] and failed["attempts"] == 2
        assert failed["event_type"] == "order.paid" and failed["last_status"] == 500
        [recovered] = await _alerts(receiver, "hookline.webhook.recovered")
        assert recovered["webhook_id"] == hook["id"] and recovered["failed_attempts"] >= 3
        flaky.statuses = [410]
        event = {"type": "order.paid", "payload": {"n": 9}}
        await service.ok("POST", f"/v1/workspaces/{ws}/events", token=key, json=event)
        [disabled] = await _alerts(receiver, "hookline.webhook.disabled")
        assert disabled["webhook_id"] == hook["id"] and "410" in disabled["reason"]
    finally:
        await runner.cleanup()
