"""Prometheus metrics after real deliveries."""

from __future__ import annotations

import asyncio
import re

from tests.conftest import Receiver, Service


def _value(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match, f"{name} not in metrics"
    return float(match.group(1))


async def test_metrics_count_outcomes_latency_streaks_and_queue(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    hook = {"name": "h", "url": receiver.url, "events": ["*"], "retry_schedule": [0, 60]}
    created = await service.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=hook)
    receiver.statuses = [500]
    for n in range(3):
        event = {"type": "a.b", "payload": {"n": n}}
        await service.ok("POST", f"/v1/workspaces/{ws}/events", token=key, json=event)
    await receiver.wait_for(3)
    text = ""
    for _ in range(50):
        async with service.http.get(service.url + "/metrics") as r:
            assert r.status == 200
            text = await r.text()
        done = 'hookline_attempts_total{error_class="",outcome="succeeded"} 2.0' in text
        if done and "hookline_queue_depth 1.0" in text:  # once the results are committed
            break
        await asyncio.sleep(0.1)
    assert _value(text, 'hookline_attempts_total{error_class="",outcome="succeeded"}') == 2
    assert _value(text, 'hookline_attempts_total{error_class="http_status",outcome="retry"}') == 1
    assert _value(text, "hookline_attempt_duration_seconds_count") == 3
    assert _value(text, "hookline_queue_depth") == 1  # the one waiting 60 s for its retry
    assert _value(text, "hookline_oldest_due_age_seconds") < 1  # the retry is not due yet
    # Its streak series exists only while it is failing (unit-tested in tests/unit/test_metrics).
    assert "# TYPE hookline_webhook_failure_streak gauge" in text
    assert created["id"]
