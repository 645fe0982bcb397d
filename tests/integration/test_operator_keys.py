"""Operator keys through the running service: made by the admin, used as the admin (REST and
dashboard), revoked (at once here, within the key cache's lifetime in another process), and out
of a workspace key's reach."""

from __future__ import annotations

from typing import Any

from tests.conftest import Service
from tests.integration.dashboard_client import DashboardClient, browserless
from tests.integration.engine_helpers import running_service
from tests.polling import eventually


async def operator_key(service: Service, name: str = "deploy", **kw: Any) -> dict[str, Any]:
    created: dict[str, Any] = await service.ok(
        "POST", "/v1/operator-keys", json={"name": name}, **kw
    )
    return created


async def test_an_operator_key_acts_as_the_admin_until_it_is_revoked(service: Service) -> None:
    created = await operator_key(service)
    token = created["token"]
    assert token.startswith("hlo_") and created["id"].startswith("opk_")
    assert created["prefix"] == token[:10] and created["name"] == "deploy"
    assert set(created) == {"id", "name", "prefix", "created_at", "token"}

    made = await service.ok("POST", "/v1/workspaces", token=token, json={"name": "by-operator"})
    listed = await service.ok("GET", "/v1/workspaces", token=token)
    assert made["id"] in [w["id"] for w in listed["data"]]
    await service.ok("GET", f"/v1/workspaces/{made['id']}/webhooks", token=token)
    second = await operator_key(service, "ci", token=token)  # keys may make keys
    keys = await service.ok("GET", "/v1/operator-keys", token=second["token"])
    assert [k["name"] for k in keys["data"]] == ["deploy", "ci"]
    assert all("token" not in k for k in keys["data"])

    await service.ok("DELETE", f"/v1/operator-keys/{created['id']}", token=second["token"])
    status, body = await service.call("GET", "/v1/workspaces", token=token)
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    status, body = await service.call("DELETE", f"/v1/operator-keys/{created['id']}")
    assert (status, body["error"]["code"]) == (404, "not_found")
    keys = await service.ok("GET", "/v1/operator-keys")
    revoked = {k["name"]: k["revoked_at"] for k in keys["data"]}
    assert revoked["deploy"] is not None and revoked["ci"] is None


async def test_a_workspace_key_cannot_manage_operator_keys(service: Service) -> None:
    ws, key = await service.workspace()
    made = await operator_key(service)
    for method, path, body in (
        ("POST", "/v1/operator-keys", {"name": "mine"}),
        ("GET", "/v1/operator-keys", None),
        ("DELETE", f"/v1/operator-keys/{made['id']}", None),
    ):
        status, answer = await service.call(method, path, token=key, json=body)
        assert (status, answer["error"]["code"]) == (403, "forbidden"), (method, path)
    status, _ = await service.call("GET", "/v1/operator-keys", token="hlo_unknown")
    assert status == 401
    await service.ok("GET", f"/v1/workspaces/{ws}/webhooks", token=made["token"])  # still live


async def test_a_new_operator_key_needs_a_name(service: Service) -> None:
    for body in ({}, {"name": ""}, {"name": "x", "scopes": ["all"]}):
        status, answer = await service.call("POST", "/v1/operator-keys", json=body)
        assert (status, answer["error"]["code"]) == (422, "validation_failed"), body
        assert answer["error"]["errors"], body
    assert (await service.ok("GET", "/v1/operator-keys"))["data"] == []


async def test_another_process_refuses_a_revoked_key_within_its_cache_lifetime(
    database_url: str,
) -> None:
    async with (
        running_service(database_url, worker=False) as first,
        running_service(database_url, worker=False, api_key_cache_seconds=1.0) as other,
    ):
        created = await operator_key(first)
        await other.ok("GET", "/v1/workspaces", token=created["token"])  # now in its cache
        await first.ok("DELETE", f"/v1/operator-keys/{created['id']}")

        async def status() -> int:
            found, _ = await other.call("GET", "/v1/workspaces", token=created["token"])
            return found

        await eventually(status, lambda s: s == 401, 5.0, what="the other process refusing it")


async def test_the_dashboard_signs_in_with_an_operator_key_until_it_is_revoked(
    service: Service,
) -> None:
    created = await operator_key(service)
    ws, _ = await service.workspace("shop")
    async with browserless() as http:
        visitor = DashboardClient(http, service.url)
        assert (await visitor.sign_in(created["token"])).location == "/workspace"
        page = await visitor.get("/workspace")  # an admin's page: every workspace to pick
        assert page.status == 200 and ws in page.text
        chosen = await visitor.post("/workspace", {"csrf_token": page.csrf(), "workspace_id": ws})
        assert chosen.location == "/webhooks"
        assert (await visitor.get("/webhooks")).status == 200

        await service.ok("DELETE", f"/v1/operator-keys/{created['id']}")
        ended = await visitor.get("/webhooks")
        assert (ended.status, ended.location) == (303, "/login")
        refused = await DashboardClient(http, service.url).sign_in(created["token"])
        assert refused.status == 401
