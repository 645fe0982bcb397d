"""The REST API's contract: auth, tenant isolation, validation, errors, idempotency, paging."""

from __future__ import annotations

import re

import aiohttp

from tests.conftest import Service

GOOD_HOOK = {"name": "h", "url": "https://example.com/hook", "events": ["*"]}


async def test_auth_is_required_and_scoped(service: Service) -> None:
    async with service.http.get(service.url + "/v1/workspaces") as r:
        assert r.status == 401
        assert (await r.json())["error"]["code"] == "unauthorized"
    status, body = await service.call("GET", "/v1/workspaces", token="hlk_wrong")
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    _ws, key = await service.workspace()
    status, body = await service.call("GET", "/v1/workspaces", token=key)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, _ = await service.call("POST", "/v1/workspaces", token=key, json={"name": "x"})
    assert status == 403


async def test_revoked_key_stops_working(service: Service) -> None:
    ws, key = await service.workspace()
    created = await service.ok("POST", f"/v1/workspaces/{ws}/api-keys", json={"name": "ci"})
    second = created["key"]
    await service.ok("GET", f"/v1/workspaces/{ws}/webhooks", token=second)
    listed = await service.ok("GET", f"/v1/workspaces/{ws}/api-keys", token=key)
    assert all("key" not in k or k["key"] is None for k in listed["data"])
    await service.ok("DELETE", f"/v1/workspaces/{ws}/api-keys/{created['id']}", token=key)
    status, _ = await service.call("GET", f"/v1/workspaces/{ws}/webhooks", token=second)
    assert status == 401


async def test_a_key_of_one_workspace_can_do_nothing_to_another(service: Service) -> None:
    """Every workspace-scoped route in the OpenAPI document, called with A's key on B: refused
    with 403 ``wrong_workspace``, naming the cause."""
    ws_a, key_a = await service.workspace("a")
    ws_b, key_b = await service.workspace("b")
    await service.ok(
        "POST", f"/v1/workspaces/{ws_b}/event-types", token=key_b, json={"name": "x.y"}
    )
    hook = await service.ok("POST", f"/v1/workspaces/{ws_b}/webhooks", token=key_b, json=GOOD_HOOK)
    flow = await service.ok("POST", f"/v1/workspaces/{ws_b}/flows", token=key_b, json={"name": "f"})
    event = await service.ok(
        "POST", f"/v1/workspaces/{ws_b}/events", token=key_b, json={"type": "x.y", "payload": {}}
    )
    await service.ok(
        "POST", f"/v1/workspaces/{ws_b}/entities/packets/p1", token=key_b,
        json={"properties": {"status": "open"}},
    )  # fmt: skip
    bin_ = await service.ok("POST", f"/v1/workspaces/{ws_b}/bins", token=key_b, json={})
    async with service.http.post(bin_["capture_url"], data=b"captured") as r:
        assert r.status == 200
    captured = await service.ok(
        "GET", f"/v1/workspaces/{ws_b}/bins/{bin_['id']}/requests", token=key_b
    )
    ids = {
        "ws": ws_b,
        "path": "packets/p1",
        "bin_id": bin_["id"],
        "rid": captured["data"][0]["id"],
        "webhook_id": hook["id"],
        "flow_id": flow["id"],
        "event_id": event["id"],
        "delivery_id": event["deliveries"][0]["id"],
        "name": "x.y",
        "key_id": "key_x",
    }
    spec = await service.ok("GET", "/openapi.json")
    checked = 0
    for path, methods in spec["paths"].items():
        if "{ws}" not in path:
            continue
        concrete = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
        for method in methods:
            body = {"name": "evil", "type": "x.y", "payload": {}, "since": "2020-01-01T00:00:00Z"}
            status, answer = await service.call(method.upper(), concrete, token=key_a, json=body)
            assert status == 403, (method, path, status, answer)
            assert answer["error"]["code"] == "wrong_workspace"
            assert answer["error"]["message"] == "this key belongs to another workspace"
            checked += 1
    assert checked >= 20
    # B is untouched.
    still = await service.ok("GET", f"/v1/workspaces/{ws_b}/webhooks/{hook['id']}", token=key_b)
    assert still["name"] == "h"
    events = await service.ok("GET", f"/v1/workspaces/{ws_b}/events", token=key_b)
    assert len(events["data"]) == 2  # the x.y event and the packet.created entity event
    # And A cannot reach B's resources through its own workspace path either.
    status, _ = await service.call(
        "GET", f"/v1/workspaces/{ws_a}/webhooks/{hook['id']}", token=key_a
    )
    assert status == 404


async def test_a_workspace_key_on_another_path_is_403_and_admin_on_unknown_is_404(
    service: Service,
) -> None:
    """A key on a workspace path not its own answers 403 whether that workspace exists or not
    (so the answer tells nothing of other workspaces); the admin token on an unknown one, 404."""
    ws_a, key_a = await service.workspace("a")
    ws_b, _ = await service.workspace("b")
    for ws in (ws_b, "ws_does_not_exist"):
        status, body = await service.call("GET", f"/v1/workspaces/{ws}/webhooks", token=key_a)
        assert (status, body["error"]["code"]) == (403, "wrong_workspace")
        assert body["error"]["message"] == "this key belongs to another workspace"
    status, body = await service.call("GET", "/v1/workspaces/ws_does_not_exist/webhooks")
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert body["error"]["message"] == "workspace ws_does_not_exist not found"
    await service.ok("GET", f"/v1/workspaces/{ws_a}/webhooks", token=key_a)
    status, body = await service.call(
        "POST", f"/v1/workspaces/{ws_b}/events", token=key_a, json={"type": "x", "payload": {}}
    )
    assert (status, body["error"]["code"]) == (403, "wrong_workspace")


async def _invalid(service: Service, ws: str, key: str, **changes: object) -> dict[str, str]:
    status, body = await service.call(
        "POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=GOOD_HOOK | changes
    )
    assert status == 422, (changes, status, body)
    assert body["error"]["code"] in ("validation_failed", "limit_exceeded")
    return body["error"]  # type: ignore[no-any-return]


async def test_webhook_validation_names_the_field(service: Service) -> None:
    ws, key = await service.workspace()
    cases: list[tuple[dict[str, object], str]] = [
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "http://169.254.169.254/latest"}, "url"),
        ({"method": "TRACE"}, "method"),
        ({"headers": {"X-Bad": "a\r\nInjected: yes"}}, "headers"),
        ({"headers": {"Bad Name": "x"}}, "headers"),
        ({"headers": {"Host": "evil"}}, "headers"),
        ({"body_template": '{"a": ${unclosed'}, "body_template"),
        ({"events": ["no.such.type"]}, "events"),
        ({"signature_schemes": ["github", "hub-sha1"], "secret": "s"}, "signature_schemes"),
        ({"signature_schemes": ["nope"], "secret": "s"}, "signature_schemes"),
        ({"signature_schemes": ["standard"], "secret": "not-whsec"}, "secret"),
        ({"timeout_seconds": 31}, "timeout_seconds"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"filter": {"$bogus": 1}}, "filter"),
        ({"content_type": "text/xml"}, "content_type"),
        ({"flow": "flow_missing"}, "flow"),
        ({"unknown_field": 1}, "unknown_field"),
    ]
    for changes, field in cases:
        error = await _invalid(service, ws, key, **changes)
        assert error["field"] is not None and error["field"].split(".")[0] == field, (
            changes,
            error,
        )
        assert error["message"]


async def test_patch_validates_the_merged_configuration(service: Service) -> None:
    ws, key = await service.workspace()
    hook = await service.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=GOOD_HOOK)
    path = f"/v1/workspaces/{ws}/webhooks/{hook['id']}"
    status, body = await service.call("PATCH", path, token=key, json={"url": "nope"})
    assert (status, body["error"]["field"]) == (422, "url")
    updated = await service.ok("PATCH", path, token=key, json={"method": "put", "enabled": False})
    assert (updated["method"], updated["enabled"], updated["url"]) == (
        "PUT",
        False,
        GOOD_HOOK["url"],
    )
    status, body = await service.call(
        "POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=GOOD_HOOK
    )
    assert (status, body["error"]["code"]) == (409, "conflict")


async def test_secret_is_write_only_unless_asked_for(service: Service) -> None:
    ws, key = await service.workspace()
    secret = "whsec_" + "A" * 32
    hook = await service.ok(
        "POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=GOOD_HOOK | {"secret": secret}
    )
    assert hook["secret"] is None and hook["has_secret"] is True
    assert hook["signature_schemes"] == ["standard"]
    path = f"/v1/workspaces/{ws}/webhooks/{hook['id']}"
    assert (await service.ok("GET", path, token=key))["secret"] is None
    assert (await service.ok("GET", path + "?include_secret=true", token=key))["secret"] == secret


async def test_bad_bodies_get_clear_errors(service: Service) -> None:
    ws, key = await service.workspace()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    url = f"{service.url}/v1/workspaces/{ws}/events"
    async with service.http.post(url, data=b"{nope", headers=headers) as r:
        assert (r.status, (await r.json())["error"]["code"]) == (400, "invalid_json")
    big = b'{"type": "a.b", "payload": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    async with service.http.post(url, data=big, headers=headers) as r:
        assert (r.status, (await r.json())["error"]["code"]) == (413, "payload_too_large")
    async with service.http.post(url, data=b"\xff\xfe", headers=headers) as r:
        assert r.status in (400, 422)
    deep = b'{"type": "a.b", "payload": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    async with service.http.post(url, data=deep, headers=headers) as r:
        assert r.status in (400, 422), await r.text()
    status, body = await service.call("GET", "/v1/nowhere")
    assert (status, body["error"]["code"]) == (404, "not_found")


async def test_publish_is_idempotent(service: Service) -> None:
    ws, key = await service.workspace()
    await service.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=GOOD_HOOK)
    event = {"type": "order.paid", "payload": {"n": 1}, "idempotency_key": "order-1-paid"}
    path = f"/v1/workspaces/{ws}/events"
    status, first = await service.call("POST", path, token=key, json=event)
    assert status == 202 and first["duplicate"] is False and len(first["deliveries"]) == 1
    status, again = await service.call("POST", path, token=key, json=event | {"payload": {"n": 2}})
    assert status == 200 and again["duplicate"] is True
    assert again["id"] == first["id"] and again["deliveries"] == first["deliveries"]
    listed = await service.ok("GET", path, token=key)
    assert [e["payload"] for e in listed["data"]] == [{"n": 1}]


async def test_listing_pages_with_cursors(service: Service) -> None:
    ws, key = await service.workspace()
    for i in range(7):
        await service.ok(
            "POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=GOOD_HOOK | {"name": f"h{i}"}
        )
    names: list[str] = []
    cursor = ""
    while True:
        page = await service.ok("GET", f"/v1/workspaces/{ws}/webhooks?limit=3{cursor}", token=key)
        names += [h["name"] for h in page["data"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert names == [f"h{i}" for i in range(7)]
    found = await service.ok("GET", f"/v1/workspaces/{ws}/webhooks?search=H3", token=key)
    assert [h["name"] for h in found["data"]] == ["h3"]


async def test_docs_health_and_readiness(service: Service) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/openapi.json", "/docs", "/healthz", "/readyz"):
            async with http.get(service.url + path) as r:
                assert r.status == 200, path


async def test_a_405_names_every_method_the_path_takes(service: Service) -> None:
    """RFC 9110: a 405 carries ``Allow``, listing the methods of every route of that path (one
    route per method, in FastAPI)."""
    for method, path, allowed in [
        ("DELETE", "/v1/workspaces", "GET, POST"),
        ("PUT", "/healthz", "GET"),
    ]:
        async with service.http.request(method, service.url + path) as r:
            assert r.status == 405
            assert r.headers["Allow"] == allowed
            assert (await r.json())["error"]["code"] == "method_not_allowed"


async def test_a_422_lists_every_invalid_field(service: Service) -> None:
    """One answer names every field at fault, so a form can show them all at once; ``field``
    and ``message`` stay those of the first."""
    ws, key = await service.workspace()
    status, body = await service.call(
        "POST", f"/v1/workspaces/{ws}/webhooks", token=key,
        json={"url": "ftp://x", "method": "TRACE", "timeout_seconds": 31},
    )  # fmt: skip
    assert status == 422
    error = body["error"]
    fields = [e["field"] for e in error["errors"]]
    assert fields == ["name", "url", "method", "timeout_seconds"]
    assert error["errors"][0]["code"] == "required"
    assert {e["code"] for e in error["errors"][1:]} == {"invalid"}
    assert (error["field"], error["code"]) == ("name", "validation_failed")
    assert error["message"] == f"name: {error['errors'][0]['message']}"
