"""The shared catalog, versioned schemas and the schemas that hold at publish time, through the
REST API of the real service on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import Service, started

ORDER_SCHEMA = {
    "type": "object",
    "required": ["order"],
    "properties": {
        "order": {
            "type": "object",
            "properties": {"total": {"type": "number"}, "items": {"type": "array"}},
        }
    },
}
DRAFT_07 = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Service]:
    """The API alone (no worker: what is published stays as stored)."""
    async for svc in started(database_url, worker=False):
        yield svc


async def publish(api: Service, ws: str, key: str, type: str, payload: Any) -> tuple[int, Any]:
    body = {"type": type, "payload": payload}
    return await api.call("POST", f"/v1/workspaces/{ws}/events", token=key, json=body)


async def stored_events(api: Service, ws: str, key: str) -> list[Any]:
    return list((await api.ok("GET", f"/v1/workspaces/{ws}/events", token=key))["data"])


async def test_a_shared_type_is_in_every_workspace_catalog(api: Service) -> None:
    created = await api.ok(
        "POST", "/v1/event-types", json={"name": "user.signup", "description": "shared"}
    )
    assert (created["shared"], created["schema"], created["archived"]) == (True, None, False)
    ws_a, key_a = await api.workspace("a")
    ws_b, key_b = await api.workspace("b")
    await api.ok("POST", f"/v1/workspaces/{ws_a}/event-types", token=key_a, json={"name": "a.own"})
    for ws, key, names in ((ws_a, key_a, ["a.own", "user.signup"]), (ws_b, key_b, ["user.signup"])):
        listed = (await api.ok("GET", f"/v1/workspaces/{ws}/event-types", token=key))["data"]
        assert [(e["name"], e["shared"]) for e in listed] == [
            (n, n == "user.signup") for n in names
        ]

    # A's own entry of the same name takes the shared one's place, in A only.
    await api.ok(
        "POST", f"/v1/workspaces/{ws_a}/event-types", token=key_a,
        json={"name": "user.signup", "description": "A's"},
    )  # fmt: skip
    mine = await api.ok("GET", f"/v1/workspaces/{ws_a}/event-types/user.signup", token=key_a)
    theirs = await api.ok("GET", f"/v1/workspaces/{ws_b}/event-types/user.signup", token=key_b)
    assert (mine["description"], mine["shared"]) == ("A's", False)
    assert (theirs["description"], theirs["shared"]) == ("shared", True)

    # Only the admin changes the shared catalog.
    status, body = await api.call("POST", "/v1/event-types", token=key_b, json={"name": "x.y"})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = await api.call(
        "PATCH", f"/v1/workspaces/{ws_b}/event-types/user.signup", token=key_b,
        json={"description": "mine now"},
    )  # fmt: skip
    assert (status, body["error"]["code"]) == (403, "shared_event_type")
    status, _ = await api.call("DELETE", f"/v1/workspaces/{ws_b}/event-types/user.signup")
    assert status == 403
    assert (await api.ok("GET", "/v1/event-types/user.signup"))["description"] == "shared"


async def test_a_name_taken_is_409_and_an_archived_one_comes_back(api: Service) -> None:
    await api.ok("POST", "/v1/event-types", json={"name": "invoice.paid"})
    status, body = await api.call("POST", "/v1/event-types", json={"name": "invoice.paid"})
    assert (status, body["error"]["code"], body["error"]["field"]) == (409, "conflict", "name")
    ws, key = await api.workspace()
    path = f"/v1/workspaces/{ws}/event-types"
    await api.ok("POST", path, token=key, json={"name": "a.b"})
    status, body = await api.call("POST", path, token=key, json={"name": "a.b"})
    assert (status, body["error"]["code"]) == (409, "conflict")

    # Deleting archives by default: hidden from listings, brought back by creating it again.
    await api.ok("DELETE", "/v1/event-types/invoice.paid")
    assert (await api.ok("GET", "/v1/event-types/invoice.paid"))["archived"] is True
    assert (await api.ok("GET", "/v1/event-types"))["data"] == []
    listed = await api.ok("GET", "/v1/event-types?include_archived=true")
    assert [e["name"] for e in listed["data"]] == ["invoice.paid"]
    assert (await api.ok("GET", path, token=key))["data"][0]["name"] == "a.b"
    back = await api.ok(
        "POST", "/v1/event-types", json={"name": "invoice.paid", "description": "again"}
    )
    assert (back["archived"], back["description"]) == (False, "again")
    await api.ok("DELETE", "/v1/event-types/invoice.paid?expunge=true")
    status, _ = await api.call("GET", "/v1/event-types/invoice.paid")
    assert status == 404


async def test_svix_names_paging_and_put(api: Service) -> None:
    for name in ("c-3", "a_1", "b.2"):
        await api.ok("POST", "/v1/event-types", json={"name": name})
    status, body = await api.call("POST", "/v1/event-types", json={"name": "no spaces"})
    assert (status, body["error"]["field"]) == (422, "name")
    first = await api.ok("GET", "/v1/event-types?limit=2")
    assert [e["name"] for e in first["data"]] == ["a_1", "b.2"]
    assert first["next_cursor"] == "b.2"
    rest = await api.ok("GET", f"/v1/event-types?limit=2&cursor={first['next_cursor']}")
    assert ([e["name"] for e in rest["data"]], rest["next_cursor"]) == (["c-3"], None)

    status, made = await api.call(
        "PUT", "/v1/event-types/d.4", json={"description": "made", "group_name": "billing"}
    )
    assert (status, made["name"], made["group_name"]) == (201, "d.4", "billing")
    status, again = await api.call(
        "PUT", "/v1/event-types/d.4", json={"description": "replaced", "feature_flags": ["beta"]}
    )
    assert status == 200
    assert (again["id"], again["description"]) == (made["id"], "replaced")
    assert (again["group_name"], again["feature_flags"]) == (None, ["beta"])


async def test_versioned_schemas_round_trip(api: Service) -> None:
    versions = {"1": {"type": "object"}, "2": ORDER_SCHEMA}
    created = await api.ok(
        "POST", "/v1/event-types", json={"name": "order.paid", "schemas": versions}
    )
    assert (created["schemas"], created["schema"]) == (versions, ORDER_SCHEMA)

    # ``schema`` replaces the newest version; ``schemas`` replaces them all.
    patched = await api.ok("PATCH", "/v1/event-types/order.paid", json={"schema": DRAFT_07})
    assert patched["schemas"] == {"1": {"type": "object"}, "2": DRAFT_07}
    three = versions | {"3": DRAFT_07}
    patched = await api.ok("PATCH", "/v1/event-types/order.paid", json={"schemas": three})
    assert (patched["schemas"], patched["schema"]) == (three, DRAFT_07)
    assert (await api.ok("GET", "/v1/event-types/order.paid"))["schemas"] == three

    # A workspace's own entry: ``schema`` alone is version 1.
    ws, key = await api.workspace()
    mine = await api.ok(
        "POST", f"/v1/workspaces/{ws}/event-types", token=key,
        json={"name": "order.made", "schema": ORDER_SCHEMA},
    )  # fmt: skip
    assert mine["schemas"] == {"1": ORDER_SCHEMA}

    cases: list[tuple[dict[str, Any], str]] = [
        ({"schemas": {"one": {"type": "object"}}}, "schemas.one"),
        ({"schemas": {"01": {"type": "object"}}}, "schemas.01"),
        ({"schemas": {"1": {"type": 5}}}, "schemas.1"),
        ({"schemas": {"1": {"$schema": 5}}}, "schemas.1"),
        ({"schema": {"type": 5}}, "schema"),
        ({"schema": {"type": "object"}, "schemas": {"1": {"type": "object"}}}, "schema"),
        ({"schemas": {"1": ORDER_SCHEMA}, "example": {"order": {"total": "x"}}}, "example"),
    ]
    for body, field in cases:
        status, answer = await api.call("POST", "/v1/event-types", json={"name": "bad.one", **body})
        assert status == 422, (body, answer)
        assert answer["error"]["field"] == field, (body, answer)
    assert [e["name"] for e in (await api.ok("GET", "/v1/event-types"))["data"]] == ["order.paid"]


async def test_an_enforced_schema_refuses_a_mismatch_and_stores_nothing(api: Service) -> None:
    ws, key = await api.workspace()
    await api.ok(
        "POST", "/v1/event-types",
        json={"name": "order.paid", "schema": ORDER_SCHEMA, "enforce": True},
    )  # fmt: skip
    status, body = await publish(api, ws, key, "order.paid", {"order": {"total": "abc"}})
    assert status == 422, body
    error = body["error"]
    assert (error["code"], error["field"]) == ("schema_mismatch", "payload.order.total")
    assert error["message"] == "payload.order.total: 'abc' is not of type 'number'"
    status, body = await publish(api, ws, key, "order.paid", {"nothing": 1})
    assert (status, body["error"]["field"]) == (422, "payload")
    assert await stored_events(api, ws, key) == []
    status, _ = await publish(api, ws, key, "order.paid", {"order": {"total": 12.5}})
    assert status == 202

    # Turned off, the same payload passes; the workspace's own entry shadows the shared one.
    await api.ok("PATCH", "/v1/event-types/order.paid", json={"enforce": False})
    status, _ = await publish(api, ws, key, "order.paid", {"order": {"total": "abc"}})
    assert status == 202
    await api.ok("PATCH", "/v1/event-types/order.paid", json={"enforce": True})
    await api.ok(
        "POST", f"/v1/workspaces/{ws}/event-types", token=key,
        json={"name": "order.paid", "schema": {"type": "object"}},
    )  # fmt: skip
    status, _ = await publish(api, ws, key, "order.paid", {"order": {"total": "abc"}})
    assert status == 202
    own = f"/v1/workspaces/{ws}/event-types/order.paid"
    await api.ok("PATCH", own, token=key, json={"enforce": True, "schema": ORDER_SCHEMA})
    status, body = await publish(api, ws, key, "order.paid", {"order": {"total": "abc"}})
    assert (status, body["error"]["code"]) == (422, "schema_mismatch")
    assert len(await stored_events(api, ws, key)) == 3


async def test_strict_event_types_refuse_an_unknown_type(api: Service) -> None:
    ws, key = await api.workspace()
    status, _ = await publish(api, ws, key, "anything.goes", {})
    assert status == 202  # off by default
    assert (await api.ok("GET", f"/v1/workspaces/{ws}"))["strict_event_types"] is False

    await api.ok("POST", "/v1/event-types", json={"name": "shared.one"})
    await api.ok("POST", f"/v1/workspaces/{ws}/event-types", token=key, json={"name": "own.one"})
    status, body = await api.call(
        "PATCH", f"/v1/workspaces/{ws}", token=key, json={"strict_event_types": True}
    )
    assert (status, body["error"]["code"]) == (403, "forbidden")
    changed = await api.ok("PATCH", f"/v1/workspaces/{ws}", json={"strict_event_types": True})
    assert changed["strict_event_types"] is True and changed["name"] == "acme"
    assert (await api.ok("GET", f"/v1/workspaces/{ws}"))["strict_event_types"] is True

    status, body = await publish(api, ws, key, "anything.goes", {})
    assert status == 422, body
    assert (body["error"]["code"], body["error"]["field"]) == ("unknown_event_type", "type")
    for known in ("shared.one", "own.one"):
        status, _ = await publish(api, ws, key, known, {})
        assert status == 202
    await api.ok("DELETE", "/v1/event-types/shared.one")  # archived: no longer known
    status, body = await publish(api, ws, key, "shared.one", {})
    assert (status, body["error"]["code"]) == (422, "unknown_event_type")
    assert len(await stored_events(api, ws, key)) == 3

    renamed = await api.ok("PATCH", f"/v1/workspaces/{ws}", json={"name": "renamed"})
    assert (renamed["name"], renamed["strict_event_types"]) == ("renamed", True)


async def test_a_batch_names_every_refused_event_and_stores_none(api: Service) -> None:
    ws, key = await api.workspace()
    await api.ok(
        "POST", "/v1/event-types",
        json={"name": "order.paid", "schema": ORDER_SCHEMA, "enforce": True},
    )  # fmt: skip
    await api.ok("PATCH", f"/v1/workspaces/{ws}", json={"strict_event_types": True})
    events = [
        {"type": "order.paid", "payload": {"order": {"total": 3}}},
        {"type": "order.paid", "payload": {"order": {"items": "none"}}},
        {"type": "nobody.knows", "payload": {}},
    ]
    path = f"/v1/workspaces/{ws}/events/batch"
    status, body = await api.call("POST", path, token=key, json={"events": events})
    assert status == 422, body
    assert [(e["field"], e["code"]) for e in body["error"]["errors"]] == [
        ("events.1.payload.order.items", "schema_mismatch"),
        ("events.2.type", "unknown_event_type"),
    ]
    assert await stored_events(api, ws, key) == []
    status, body = await api.call("POST", path, token=key, json={"events": events[:1]})
    assert status == 202, body
