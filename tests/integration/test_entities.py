"""Entity events and job events through the real service, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from tests.conftest import Received, Receiver, Service

SLACK = '{"text":"Job $jobId has completed. Status: $jobStatus."}'


async def _hook(service: Service, ws: str, key: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "hook", **fields}
    hook: dict[str, Any] = await service.ok(
        "POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=body
    )
    return hook


async def _report(
    service: Service, ws: str, key: str, path: str, properties: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    answer: dict[str, Any] = await service.ok(
        "POST",
        f"/v1/workspaces/{ws}/entities/{path}",
        token=key,
        json={"properties": properties, **extra},
    )
    return answer


def _by_event(requests: list[Received]) -> dict[str, dict[str, Any]]:
    return {r.headers["X-Hookline-Event-Id"]: json.loads(r.body) for r in requests}


async def test_entity_lifecycle_reaches_a_subscriber(service: Service, receiver: Receiver) -> None:
    ws, key = await service.workspace()
    # A pattern needs no catalog entry, so the webhook can exist before the first packet.
    await _hook(service, ws, key, url=receiver.url + "/packets", events=["packet.*"])
    path = "pipelinesPackets/p1"

    created = await _report(service, ws, key, path, {"name": "P1", "status": "open"})
    assert created["changed"] is True
    assert (created["type"], created["operationType"]) == ("packet.created", "created")
    assert created["updateMask"] is None and len(created["deliveries"]) == 1

    same = await _report(service, ws, key, path, {"status": "open", "name": "P1"})
    assert same == {
        "changed": False,
        "event_id": None,
        "type": None,
        "operationType": None,
        "updateMask": [],
        "deliveries": [],
    }

    updated = await _report(
        service, ws, key, path, {"name": "P1", "status": "done", "owner": {"id": "u1"}}
    )
    assert (updated["type"], updated["updateMask"]) == ("packet.updated", ["owner", "status"])
    soft = await _report(
        service, ws, key, path,
        {"name": "P1", "status": "done", "owner": {"id": "u1"}, "softRemoved": True},
    )  # fmt: skip
    assert (soft["type"], soft["updateMask"]) == ("packet.deleted", None)
    kept = await service.ok("GET", f"/v1/workspaces/{ws}/entities/{path}", token=key)
    assert kept["properties"]["softRemoved"] is True and kept["kind"] == "packet"

    deleted = await service.ok("DELETE", f"/v1/workspaces/{ws}/entities/{path}", token=key)
    assert (deleted["type"], deleted["changed"]) == ("packet.deleted", True)
    status, _ = await service.call("GET", f"/v1/workspaces/{ws}/entities/{path}", token=key)
    assert status == 404
    again = await service.ok("DELETE", f"/v1/workspaces/{ws}/entities/{path}", token=key)
    assert again["changed"] is False

    events = _by_event(await receiver.wait_for(4))
    ids = [created["event_id"], updated["event_id"], soft["event_id"], deleted["event_id"]]
    c, u, s, d = (events[i] for i in ids)
    assert c["operationType"] == "created" and c["data"]["oldValue"] is None
    assert c["entityPath"] == path and c["entityId"] == "p1"
    assert c["collectionPath"] == c["entityKey"] == "pipelinesPackets"
    assert c["organizationId"] == ws
    assert u["data"]["oldValue"] == c["data"]["value"]
    assert u["data"]["updateMask"] == ["owner", "status"]
    assert u["data"]["value"]["createTime"] == c["data"]["value"]["createTime"]
    assert u["data"]["value"]["updateTime"] > c["data"]["value"]["updateTime"]
    assert s["operationType"] == "deleted" and s["data"]["oldValue"] == u["data"]["value"]
    assert s["data"]["value"]["properties"]["softRemoved"] is True
    assert d["data"] == {"value": None, "oldValue": s["data"]["value"], "updateMask": None}

    catalog = await service.ok("GET", f"/v1/workspaces/{ws}/event-types", token=key)
    registered = {et["name"]: et for et in catalog["data"]}
    assert {"packet.created", "packet.updated", "packet.deleted"} <= registered.keys()
    assert registered["packet.updated"]["example"]["data"]["updateMask"] == ["status"]


async def test_nested_comment_and_a_comment_deleted_subscription(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    path = "pipelinesPackets/p1/comments/c9"
    comment: dict[str, Any] = {
        "content": "hi",
        "parentCommentRef": None,
        "replies": [],
        "softRemoved": False,
    }
    created = await _report(
        service, ws, key, path, comment, entityKey="flows/comments", organizationId="org-7"
    )
    assert created["type"] == "comment.created"
    # The first comment registered comment.*, so a webhook can name comment.deleted now.
    hook = await _hook(service, ws, key, url=receiver.url + "/c", events=["comment.deleted"])

    edited = await _report(service, ws, key, path, comment | {"content": "hello"})
    assert edited["type"] == "comment.updated" and edited["deliveries"] == []
    removed = await _report(service, ws, key, path, comment | {"softRemoved": True})
    assert removed["type"] == "comment.deleted"
    assert [d["webhook_id"] for d in removed["deliveries"]] == [hook["id"]]

    [request] = await receiver.wait_for(1)
    event = json.loads(request.body)
    assert request.headers["X-Hookline-Event-Type"] == "comment.deleted"
    assert event["entityPath"] == path and event["entityId"] == "c9"
    assert event["collectionPath"] == "pipelinesPackets/p1/comments"
    # Given once, the entity key and organization are remembered for its later events.
    assert (event["entityKey"], event["organizationId"]) == ("flows/comments", "org-7")
    assert event["data"]["oldValue"]["properties"]["content"] == "hello"
    assert event["data"]["value"]["key"] == path


async def test_entity_requests_are_validated(service: Service) -> None:
    ws, key = await service.workspace()
    base = f"/v1/workspaces/{ws}/entities"
    for path, body, field in [
        ("packets", {"properties": {}}, "path"),
        ("packets/p1/comments", {"properties": {}}, "path"),
        ("packets/p1", {"properties": {}, "kind": "no spaces"}, "kind"),
        ("packets/p1", {"properties": []}, "properties"),
        ("packets/p1", {"properties": {}, "extra": 1}, "extra"),
        ("1234/p1", {"properties": {}}, "kind"),
    ]:
        status, answer = await service.call("POST", f"{base}/{path}", token=key, json=body)
        assert (status, answer["error"]["field"]) == (422, field), (path, answer)
    presets = await service.ok(
        "POST", f"/v1/workspaces/{ws}/event-types/presets/entities", token=key,
        json={"kinds": ["label"]},
    )  # fmt: skip
    assert presets == {
        "created": ["label.created", "label.updated", "label.deleted"],
        "existing": [],
    }


async def test_concurrent_updates_form_one_unbroken_chain(service: Service) -> None:
    ws, key = await service.workspace()
    path = "packets/p1"
    await _report(service, ws, key, path, {"n": 0})
    answers = await asyncio.gather(
        *(_report(service, ws, key, path, {"n": n}) for n in range(1, 21))
    )
    assert all(a["changed"] and a["type"] == "packet.updated" for a in answers)

    listed = await service.ok(
        "GET", f"/v1/workspaces/{ws}/events?limit=100&type=packet.updated", token=key
    )
    chain = sorted(
        (e["payload"]["data"] for e in listed["data"]), key=lambda d: d["value"]["updateTime"]
    )
    assert len(chain) == 20
    assert chain[0]["oldValue"]["properties"] == {"n": 0}
    for before, after in itertools.pairwise(chain):
        assert after["oldValue"] == before["value"]
        assert after["value"]["updateTime"] > before["value"]["updateTime"]
    assert sorted(d["value"]["properties"]["n"] for d in chain) == list(range(1, 21))
    final = await service.ok("GET", f"/v1/workspaces/{ws}/entities/{path}", token=key)
    assert final["properties"] == chain[-1]["value"]["properties"]
    assert final["updateTime"] == chain[-1]["value"]["updateTime"]


async def test_job_events_slack_template_and_output_filter(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    presets = f"/v1/workspaces/{ws}/event-types/presets/jobs"
    first = await service.ok("POST", presets, token=key)
    assert first == {"created": ["job.succeeded", "job.failed"], "existing": []}
    assert await service.ok("POST", presets, token=key) == {
        "created": [],
        "existing": ["job.succeeded", "job.failed"],
    }
    await _hook(
        service, ws, key, name="slack", url=receiver.url + "/slack", events=["job.*"],
        headers={"X-Channel": "ops"}, body_template=SLACK,
    )  # fmt: skip
    only = await _hook(
        service, ws, key, name="outputs", url=receiver.url + "/outputs", events=["job.*"],
        filter={"outputId": {"$in": [3, 7]}},
    )  # fmt: skip

    async def job(type: str, payload: dict[str, Any]) -> None:
        body = {"type": type, "payload": payload}
        await service.ok("POST", f"/v1/workspaces/{ws}/events", token=key, json=body)

    await job("job.succeeded", {"jobId": 42, "jobStatus": "Complete"})
    [slack] = await receiver.wait_for(1)
    assert slack.path == "/slack"
    assert slack.body == b'{"text":"Job 42 has completed. Status: Complete."}'
    assert slack.headers["Content-Type"] == "application/json"

    for job_id, output in ((50, 3), (51, 5), (52, 7)):
        await job("job.succeeded", {"jobId": job_id, "jobStatus": "Complete", "outputId": output})
    await job("job.failed", {"jobId": 53, "jobStatus": "Failed", "outputId": 7})
    arrived = await receiver.wait_for(8)
    outputs = sorted(json.loads(r.body)["jobId"] for r in arrived if r.path == "/outputs")
    assert outputs == [50, 52, 53]
    texts = {r.body.decode() for r in arrived if r.path == "/slack"}
    assert '{"text":"Job 53 has completed. Status: Failed."}' in texts
    await asyncio.sleep(0.3)
    listed = await service.ok(
        "GET", f"/v1/workspaces/{ws}/deliveries?webhook_id={only['id']}", token=key
    )
    assert len(listed["data"]) == 3  # jobs 42 (no output) and 51 (output 5) were filtered out
