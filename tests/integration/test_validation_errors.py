"""Every 422 the API answers lists every problem it found in ``errors`` (one entry per field,
``{"field", "code", "message"}``), the first being the one ``code``, ``message`` and ``field``
describe: FastAPI's own body validation, and the checks the services make (what a webhook
refers to, its URL, its secret; a flow's trigger; a flow import's whole document) alike."""

from __future__ import annotations

from typing import Any

from tests.conftest import Receiver, Service, started

BLOCKED = "http://10.1.2.3/hooks"  # outside the test service's allowed networks


def _error(body: Any) -> dict[str, Any]:
    error: dict[str, Any] = body["error"]
    first = error["errors"][0]
    assert (error["field"], error["message"]) == (
        first["field"],
        f"{first['field']}: {first['message']}" if first["field"] else first["message"],
    )
    return error


def _entries(error: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in error["errors"]]


async def test_a_create_with_three_independent_problems_lists_all_three(
    service: Service,
) -> None:
    ws, key = await service.workspace()
    path = f"/v1/workspaces/{ws}/webhooks"
    draft = {"name": "n", "url": BLOCKED, "events": ["no.such"], "flow": "flow_nope"}
    status, body = await service.call("POST", path, token=key, json=draft)
    assert status == 422, body
    error = _error(body)
    assert error["code"] == "validation_failed"
    assert _entries(error) == [("events", "invalid"), ("flow", "invalid"), ("url", "invalid")]
    messages = [e["message"] for e in error["errors"]]
    assert "'no.such'" in messages[0] and "flow_nope" in messages[1] and "10.1.2.3" in messages[2]
    assert (await service.ok("GET", path, token=key))["data"] == []  # nothing was saved


async def test_a_change_lists_every_problem_of_the_merged_configuration(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    path = f"/v1/workspaces/{ws}/webhooks"
    hook = await service.ok("POST", path, token=key, json={"name": "n", "url": receiver.url})
    changes = {"events": ["no.such"], "url": BLOCKED}
    status, body = await service.call("PATCH", f"{path}/{hook['id']}", token=key, json=changes)
    assert status == 422, body
    assert _entries(_error(body)) == [("events", "invalid"), ("url", "invalid")]
    stored = await service.ok("GET", f"{path}/{hook['id']}", token=key)
    assert stored["url"] == receiver.url and stored["events"] == hook["events"]


async def test_a_single_problem_and_a_refused_path_list_one_entry(service: Service) -> None:
    ws, key = await service.workspace()
    draft = {"name": "n", "url": BLOCKED}
    status, body = await service.call(
        "POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=draft
    )
    assert status == 422
    assert _entries(_error(body)) == [("url", "invalid")]
    # Refused before any route runs (U+0000 in the query), still in the same shape.
    status, body = await service.call("GET", f"/v1/workspaces/{ws}/webhooks?search=%00", token=key)
    assert status == 422
    assert _entries(_error(body)) == [(None, "invalid")]


async def test_a_limit_keeps_its_own_code_beside_the_other_problems(database_url: str) -> None:
    async for service in started(database_url, worker=False, max_webhooks_per_flow=1):
        ws, key = await service.workspace()
        flow = await service.ok("POST", f"/v1/workspaces/{ws}/flows", token=key, json={"name": "F"})
        path = f"/v1/workspaces/{ws}/webhooks"
        first = {"name": "a", "url": "http://127.0.0.1:9/a", "flow": flow["id"]}
        await service.ok("POST", path, token=key, json=first)
        status, body = await service.call(
            "POST", path, token=key, json=first | {"name": "b", "url": BLOCKED}
        )
        assert status == 422, body
        error = _error(body)
        assert error["code"] == "limit_exceeded"
        assert _entries(error) == [("flow", "limit_exceeded"), ("url", "invalid")]


async def test_a_flow_change_lists_every_invalid_field(service: Service) -> None:
    ws, key = await service.workspace()
    flow = await service.ok("POST", f"/v1/workspaces/{ws}/flows", token=key, json={"name": "F"})
    changes = {"aggregation_seconds": -1, "aggregation_max_events": 0}
    status, body = await service.call(
        "PATCH", f"/v1/workspaces/{ws}/flows/{flow['id']}", token=key, json=changes
    )
    assert status == 422, body
    error = _error(body)
    assert error["code"] == "validation_failed"
    assert _entries(error) == [
        ("aggregation_seconds", "invalid"),
        ("aggregation_max_events", "invalid"),
    ]


async def test_a_flow_import_checks_its_webhooks_as_a_create_does_and_lists_every_problem(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    document = {
        "hookline": "flow-export",
        "version": 1,
        "flow": {"name": "F"},
        "webhooks": [
            {"name": "ok", "url": receiver.url},
            {"name": "blocked", "url": BLOCKED},
            {"name": "unsigned", "url": receiver.url, "secret": "not-a-whsec-key"},
            {"url": receiver.url},
            {"name": "ok", "url": receiver.url},
        ],
        "event_types": [{"name": "a.b", "schema": {"type": 5}}],
    }
    path = f"/v1/workspaces/{ws}/flows/import"
    status, body = await service.call("POST", path, token=key, json=document)
    assert status == 422, body
    error = _error(body)
    assert _entries(error) == [
        ("webhooks.2.secret", "invalid"),
        ("webhooks.3.name", "required"),
        ("webhooks.1.url", "invalid"),
        ("webhooks.4.name", "invalid"),
        ("event_types.0", "invalid"),
    ]
    # The URL and the secret are refused in the words a webhook's create uses.
    hooks = f"/v1/workspaces/{ws}/webhooks"
    for draft, at in [
        ({"name": "n", "url": BLOCKED}, "webhooks.1.url"),
        ({"name": "n", "url": receiver.url, "secret": "not-a-whsec-key"}, "webhooks.2.secret"),
    ]:
        status, created = await service.call("POST", hooks, token=key, json=draft)
        assert status == 422, created
        [imported] = [e for e in error["errors"] if e["field"] == at]
        assert created["error"]["errors"][0]["message"] == imported["message"]
    assert (await service.ok("GET", f"/v1/workspaces/{ws}/flows", token=key))["data"] == []
