"""Publish → deliver → inspect, through the real API, worker and receivers."""

from __future__ import annotations

from typing import Any

from tests.conftest import Receiver, Service
from tests.polling import eventually


async def _hook(service: Service, ws: str, key: str, url: str, **fields: object) -> dict[str, Any]:
    body = {"name": fields.pop("name", "hook"), "url": url, "events": ["*"], **fields}
    hook: dict[str, Any] = await service.ok(
        "POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=body
    )
    return hook


async def _wait_status(
    service: Service, ws: str, key: str, dlv: str, status: str
) -> dict[str, Any]:
    found: dict[str, Any] = await eventually(
        lambda: service.ok("GET", f"/v1/workspaces/{ws}/deliveries/{dlv}", token=key),
        lambda d: d["status"] == status,
        what=f"delivery {dlv} {status}",
    )
    return found


async def test_publish_delivers_and_records(service: Service, receiver: Receiver) -> None:
    ws, key = await service.workspace()
    hook = await _hook(service, ws, key, receiver.url + "/in")
    published = await service.ok(
        "POST",
        f"/v1/workspaces/{ws}/events",
        token=key,
        json={"type": "task.completed", "payload": {"id": 1}},
    )
    assert [d["webhook_id"] for d in published["deliveries"]] == [hook["id"]]
    [req] = await receiver.wait_for(1)
    assert req.body == b'{"id": 1}'
    assert req.headers["X-Hookline-Event-Type"] == "task.completed"
    detail = await _wait_status(service, ws, key, published["deliveries"][0]["id"], "succeeded")
    [attempt] = detail["attempts"]
    assert attempt["response"]["status"] == 200
    assert attempt["request"]["body"] == '{"id": 1}'  # kept once, with the event


async def test_the_attempt_log_shows_the_body_sent_templated_or_not(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    plain = await _hook(service, ws, key, receiver.url + "/plain", name="plain")
    reshaped = await _hook(
        service, ws, key, receiver.url + "/reshaped", name="reshaped",
        body_template='{"text": "task ${id} done"}',
    )  # fmt: skip
    payload = {"id": 7, "note": "caf\u00e9"}
    published = await service.ok(
        "POST", f"/v1/workspaces/{ws}/events", token=key,
        json={"type": "task.completed", "payload": payload},
    )  # fmt: skip
    sent = {r.path: r.body.decode() for r in await receiver.wait_for(2)}
    logged = {}
    for delivery in published["deliveries"]:
        detail = await _wait_status(service, ws, key, delivery["id"], "succeeded")
        [attempt] = detail["attempts"]
        logged[delivery["webhook_id"]] = attempt["request"]["body"]
    assert logged == {plain["id"]: sent["/plain"], reshaped["id"]: sent["/reshaped"]}
    assert sent["/reshaped"] == '{"text": "task 7 done"}'
