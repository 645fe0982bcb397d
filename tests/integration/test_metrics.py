"""Prometheus metrics after real deliveries, and who may read them on which port."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp

from hookline.runtime.process import Roles, run
from hookline.settings import Settings
from tests.conftest import Receiver, Service, free_port, started
from tests.polling import eventually, until


def _value(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match, f"{name} not in metrics"
    return float(match.group(1))


async def _scrape(service: Service) -> str:
    admin = {"Authorization": f"Bearer {service.admin_token}"}
    async with service.http.get(service.url + "/metrics", headers=admin) as r:
        assert r.status == 200
        return await r.text()


async def test_metrics_count_outcomes_latency_streaks_and_queue(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    hook = {"name": "h", "url": receiver.url, "events": ["*"], "retry_schedule": [0, 60]}
    created = await service.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=hook)
    streak = f'hookline_webhook_failure_streak{{webhook_id="{created["id"]}"}}'
    receiver.statuses = [500]
    await service.ok(
        "POST", f"/v1/workspaces/{ws}/events", token=key, json={"type": "a.b", "payload": {}}
    )
    await receiver.wait_for(1)
    # A failing webhook has a streak series (the one failure), ...
    text = await eventually(lambda: _scrape(service), lambda t: streak in t, what=streak)
    assert _value(text, streak) == 1
    for n in range(2):
        event = {"type": "a.b", "payload": {"n": n}}
        await service.ok("POST", f"/v1/workspaces/{ws}/events", token=key, json=event)
    await receiver.wait_for(3)
    succeeded = 'hookline_attempts_total{error_class="",outcome="succeeded"}'
    text = await eventually(
        lambda: _scrape(service),
        lambda t: f"{succeeded} 2.0" in t and "hookline_queue_depth 1.0" in t,
        what="the results committed",
    )
    assert _value(text, succeeded) == 2
    assert _value(text, 'hookline_attempts_total{error_class="http_status",outcome="retry"}') == 1
    assert _value(text, "hookline_attempt_duration_seconds_count") == 3
    assert _value(text, "hookline_queue_depth") == 1  # the one waiting 60 s for its retry
    assert _value(text, "hookline_oldest_due_age_seconds") < 1  # the retry is not due yet
    # ... which its first success ends (unit-tested in tests/unit/test_metrics).
    assert streak not in text


async def _get(url: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as r:
        body = await r.json() if r.content_type == "application/json" else await r.text()
        return r.status, body


def _refused(answer: tuple[int, Any]) -> bool:
    status, body = answer
    return status == 401 and body["error"]["code"] == "unauthorized" and body["error"]["message"]


def _served(answer: tuple[int, Any]) -> bool:
    status, body = answer
    return status == 200 and "# TYPE hookline_queue_depth gauge" in body


async def test_metrics_on_the_api_port_answer_only_the_admin_token_by_default(
    service: Service,
) -> None:
    url = service.url + "/metrics"
    _, key = await service.workspace()
    assert _refused(await _get(url))
    assert _refused(await _get(url, key))  # a workspace's key: metrics list every workspace's
    assert _refused(await _get(url, "not-the-admin-token"))
    assert _served(await _get(url, service.admin_token))


async def test_a_metrics_token_is_the_only_one_accepted_when_set(tmp_path: Path) -> None:
    async for service in started(f"sqlite:///{tmp_path}/h.db", metrics_token="scrape-me"):
        url = service.url + "/metrics"
        assert _refused(await _get(url))
        assert _refused(await _get(url, "scrape-me-not"))
        assert _refused(await _get(url, service.admin_token))
        assert _served(await _get(url, "scrape-me"))


async def test_a_metrics_port_takes_metrics_off_the_api_port(tmp_path: Path) -> None:
    port = free_port()
    async for service in started(f"sqlite:///{tmp_path}/h.db", metrics_port=port):
        status, body = await _get(service.url + "/metrics", service.admin_token)
        assert status == 404 and body["error"]["code"] == "not_found"
        # Without a metrics token, the metrics port is the operator's monitoring network's.
        assert _served(await _get(f"http://127.0.0.1:{port}/metrics"))


async def test_a_metrics_token_is_required_on_the_metrics_port_too(tmp_path: Path) -> None:
    port = free_port()
    db = f"sqlite:///{tmp_path}/h.db"
    async for _ in started(db, metrics_port=port, metrics_token="scrape-me"):
        url = f"http://127.0.0.1:{port}/metrics"
        assert _refused(await _get(url))
        assert _refused(await _get(url, "test-admin-token"))
        assert _served(await _get(url, "scrape-me"))


async def test_a_worker_serves_metrics_on_its_port(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/h.db", metrics_port=port, metrics_token="scrape-me"
    )
    stop = asyncio.Event()
    lines: list[str] = []
    task = asyncio.create_task(run(settings, Roles(api=False), stop=stop, announce=lines.append))
    try:
        # Announced once its metrics port listens.
        await until(lambda: bool(lines) or task.done(), what="the worker's announcement")
        assert lines and not task.done()
        url = f"http://127.0.0.1:{port}/metrics"
        assert _refused(await _get(url, "wrong"))
        assert _served(await _get(url, "scrape-me"))
    finally:
        stop.set()
        await task
