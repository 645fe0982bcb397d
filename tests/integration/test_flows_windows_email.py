"""Flows, aggregation windows and email actions, end to end with real receivers and a real
SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import Receiver, Service, start_service
from tests.integration.smtp_helpers import Inbox, smtp_server, wait_mail


async def _publish(service: Service, ws: str, key: str, type: str, payload: Any) -> dict[str, Any]:
    body = {"type": type, "payload": payload}
    return await service.ok("POST", f"/v1/workspaces/{ws}/events", token=key, json=body)  # type: ignore[no-any-return]


async def _hook(service: Service, ws: str, key: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "h", "events": ["*"], **fields}
    return await service.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=body)  # type: ignore[no-any-return]


async def test_a_window_turns_many_events_into_one_request(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    await _hook(service, ws, key, url=receiver.url, aggregation_seconds=2)
    first = await _publish(service, ws, key, "task.completed", {"n": 0})
    for n in range(1, 25):
        published = await _publish(service, ws, key, "task.completed", {"n": n})
        assert published["deliveries"] == first["deliveries"]  # all join one window
    [request] = await receiver.wait_for(1, timeout=10)
    await asyncio.sleep(0.5)
    assert len(receiver.requests) == 1
    batch = json.loads(request.body)
    assert request.body == json.dumps(batch).encode()  # byte-identical to json.dumps
    assert batch["type"] == "hookline.batch" and batch["count"] == 25
    assert [e["payload"]["n"] for e in batch["events"]] == list(range(25))
    assert batch["window_start"] < batch["window_end"]
    assert request.headers["X-Hookline-Event-Type"] == "hookline.batch"
    # The next event opens a new window.
    await _publish(service, ws, key, "task.completed", {"n": 99})
    await receiver.wait_for(2, timeout=10)
    assert json.loads(receiver.requests[1].body)["count"] == 1


async def test_max_events_closes_a_window_early(service: Service, receiver: Receiver) -> None:
    ws, key = await service.workspace()
    await _hook(
        service, ws, key, url=receiver.url, aggregation_seconds=600, aggregation_max_events=3
    )
    for n in range(7):
        await _publish(service, ws, key, "a.b", {"n": n})
    await receiver.wait_for(2, timeout=10)
    counts = [json.loads(r.body)["count"] for r in receiver.requests]
    assert counts == [3, 3]  # the 7th event waits in an open window


async def test_windows_are_per_webhook_and_per_workspace(
    service: Service, receiver: Receiver
) -> None:
    ws1, key1 = await service.workspace("one")
    ws2, key2 = await service.workspace("two")
    await _hook(service, ws1, key1, url=receiver.url + "/one", aggregation_seconds=1)
    await _hook(service, ws2, key2, url=receiver.url + "/two", aggregation_seconds=1)
    for n in range(3):
        await _publish(service, ws1, key1, "a.b", {"ws": 1, "n": n})
        await _publish(service, ws2, key2, "a.b", {"ws": 2, "n": n})
    await receiver.wait_for(2, timeout=10)
    by_path = {r.path: json.loads(r.body) for r in receiver.requests}
    assert {e["payload"]["ws"] for e in by_path["/one"]["events"]} == {1}
    assert {e["payload"]["ws"] for e in by_path["/two"]["events"]} == {2}
    assert by_path["/one"]["count"] == by_path["/two"]["count"] == 3


async def test_a_window_survives_a_restart_and_is_sent_once(
    database_url: str, receiver: Receiver
) -> None:
    service, stop, task = await start_service(database_url)
    ws, key = await service.workspace()
    await _hook(service, ws, key, url=receiver.url, aggregation_seconds=2)
    for n in range(5):
        await _publish(service, ws, key, "a.b", {"n": n})
    stop.set()
    await task
    await service.http.close()
    assert receiver.requests == []
    again, stop, task = await start_service(database_url)
    try:
        [request] = await receiver.wait_for(1, timeout=10)
        assert [e["payload"]["n"] for e in json.loads(request.body)["events"]] == list(range(5))
        await asyncio.sleep(1.0)
        assert len(receiver.requests) == 1
    finally:
        stop.set()
        await task
        await again.http.close()


async def test_a_flow_gates_and_windows_its_webhooks(service: Service, receiver: Receiver) -> None:
    ws, key = await service.workspace()
    flow = await service.ok(
        "POST",
        f"/v1/workspaces/{ws}/flows",
        token=key,
        json={
            "name": "completed tasks",
            "events": ["task.*"],
            "filter": {"status": "completed"},
            "aggregation_seconds": 1,
        },
    )
    await _hook(service, ws, key, url=receiver.url + "/flow", flow=flow["id"])
    await _publish(service, ws, key, "task.updated", {"status": "completed", "id": 1})
    await _publish(service, ws, key, "task.updated", {"status": "open", "id": 2})
    await _publish(service, ws, key, "file.uploaded", {"status": "completed", "id": 3})
    await _publish(service, ws, key, "task.created", {"status": "completed", "id": 4})
    [request] = await receiver.wait_for(1, timeout=10)
    assert [e["payload"]["id"] for e in json.loads(request.body)["events"]] == [1, 4]


async def test_a_flow_holds_at_most_50_webhooks(service: Service) -> None:
    ws, key = await service.workspace()
    flow = await service.ok("POST", f"/v1/workspaces/{ws}/flows", token=key, json={"name": "f"})
    for i in range(50):
        await _hook(service, ws, key, name=f"h{i}", url="https://example.com/x", flow=flow["id"])
    status, body = await service.call(
        "POST",
        f"/v1/workspaces/{ws}/webhooks",
        token=key,
        json={"name": "h50", "url": "https://example.com/x", "flow": flow["id"]},
    )
    assert status == 422
    assert (body["error"]["code"], body["error"]["field"]) == ("limit_exceeded", "flow")
    assert "50" in body["error"]["message"]


@pytest.fixture
async def mail_service(database_url: str) -> AsyncIterator[tuple[Service, Inbox]]:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        url = f"smtp://127.0.0.1:{port}?starttls=false&from=hookline@example.com"
        service, stop, task = await start_service(database_url, smtp_url=url)
        try:
            yield service, inbox
        finally:
            stop.set()
            await task
            await service.http.close()


async def test_an_email_action_arrives_with_templated_subject_and_body(
    mail_service: tuple[Service, Inbox],
) -> None:
    service, inbox = mail_service
    ws, key = await service.workspace()
    action = {
        "to": ["team@example.com"],
        "subject": "Task $task_id completed",
        "body": "Task $task_id is done: ${links.task}\n",
    }
    hook = await _hook(service, ws, key, kind="email", email=action, retry_schedule=[0, 0.2])
    assert hook["url"] is None
    payload = {"task_id": 42, "links": {"task": "https://app.example.com/tasks/42"}}
    published = await _publish(service, ws, key, "task.completed", payload)
    [message] = await wait_mail(inbox, 1)
    assert message["Subject"] == "Task 42 completed"
    assert message["To"] == "team@example.com"
    assert message["From"] == "hookline@example.com"
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)  # a single-part message
    text = body.replace(b"\r\n", b"\n")  # SMTP lines end in CRLF
    assert text == b"Task 42 is done: https://app.example.com/tasks/42\n"
    delivery_id = published["deliveries"][0]["id"]
    for _ in range(50):
        detail = await service.ok("GET", f"/v1/workspaces/{ws}/deliveries/{delivery_id}", token=key)
        if detail["status"] == "succeeded":
            break
        await asyncio.sleep(0.1)
    assert detail["status"] == "succeeded"
    assert detail["attempts"][0]["request"]["method"] == "SMTP"
    # The attempt log shows the email as sent, not the event it was made from.
    logged = detail["attempts"][0]["request"]["body"].replace("\r\n", "\n")
    assert logged == "Task 42 is done: https://app.example.com/tasks/42\n"


async def test_an_email_action_is_retried_when_the_server_refuses(
    mail_service: tuple[Service, Inbox],
) -> None:
    service, inbox = mail_service
    inbox.fail_next = 1
    ws, key = await service.workspace()
    action = {"to": ["ops@example.com"], "subject": "Job $jobId: $jobStatus"}
    await _hook(service, ws, key, kind="email", email=action, retry_schedule=[0, 0.3])
    await _publish(service, ws, key, "job.failed", {"jobId": 7, "jobStatus": "Failed"})
    [message] = await wait_mail(inbox, 1)
    assert message["Subject"] == "Job 7: Failed"


async def test_email_action_validation(service: Service) -> None:
    ws, key = await service.workspace()
    path = f"/v1/workspaces/{ws}/webhooks"
    status, body = await service.call("POST", path, token=key, json={"name": "e", "kind": "email"})
    assert (status, body["error"]["field"]) == (422, "email")
    bad = {"name": "e", "kind": "email", "email": {"to": ["not-an-address"], "subject": "x"}}
    status, body = await service.call("POST", path, token=key, json=bad)
    assert status == 422 and body["error"]["field"].startswith("email")
    status, body = await service.call("POST", path, token=key, json={"name": "w"})
    assert (status, body["error"]["field"]) == (422, "url")
