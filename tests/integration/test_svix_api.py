"""The Svix-compatible API over HTTP: its conventions (error shapes, 501s, uid or id in paths,
paging, idempotent POSTs), channels, and what a workspace key may reach. The official SDKs
drive it in ``tests/svix``."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tests.conftest import Receiver, Service
from tests.polling import eventually

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


async def svix(
    service: Service, method: str, path: str, *, token: str | None = None, json: Any = None,
    key: str | None = None,
) -> tuple[int, Any]:  # fmt: skip
    headers = {"Authorization": f"Bearer {token or service.admin_token}"}
    if key is not None:
        headers["idempotency-key"] = key
    url = service.url + "/api/v1" + path
    async with service.http.request(method, url, json=json, headers=headers) as r:
        text = await r.text()
        return r.status, (await r.json(content_type=None)) if text else None


async def test_errors_have_svix_shapes(service: Service) -> None:
    status, body = await svix(service, "GET", "/app", token="nope")
    assert (status, body["code"]) == (401, "authentication_failed")
    status, body = await svix(service, "GET", "/app/missing")
    assert (status, body["code"]) == (404, "not_found")
    assert isinstance(body["detail"], str)
    status, body = await svix(service, "POST", "/app", json={"uid": "a b"})
    assert status == 422
    assert {tuple(d["loc"]) for d in body["detail"]} == {("body", "name"), ("body", "uid")}
    assert all({"loc", "msg", "type"} <= d.keys() for d in body["detail"])
    for path in ("/stream/sink", "/app/x/transformation", "/environment/export"):
        status, body = await svix(service, "POST", path, json={})
        assert (status, body["code"]) == (501, "not_implemented"), path


async def test_an_application_is_a_workspace_found_by_id_or_uid(service: Service) -> None:
    status, made = await svix(service, "POST", "/app", json={
        "name": "Acme", "uid": "acme", "metadata": {"plan": "pro"}, "throttleRate": 5})  # fmt: skip
    assert status == 201
    assert (made["uid"], made["metadata"], made["throttleRate"]) == ("acme", {"plan": "pro"}, 5)
    status, again = await svix(service, "POST", "/app?get_if_exists=true", json={"name": "x",
                               "uid": "acme"})  # fmt: skip
    assert (status, again["id"]) == (200, made["id"])
    status, body = await svix(service, "POST", "/app", json={"name": "Other", "uid": "acme"})
    assert (status, body["code"]) == (409, "conflict")
    for ref in (made["id"], "acme"):
        assert (await svix(service, "GET", f"/app/{ref}"))[1]["name"] == "Acme"
    # The same workspace in Hookline's own API.
    assert (await service.ok("GET", f"/v1/workspaces/{made['id']}"))["name"] == "Acme"
    status, patched = await svix(service, "PATCH", "/app/acme", json={"name": "Acme Inc"})
    assert (status, patched["name"], patched["uid"]) == (200, "Acme Inc", "acme")
    status, body = await svix(service, "POST", "/app", json={"name": "Bad", "uid": "ws_123"})
    assert status == 422
    assert (await svix(service, "DELETE", "/app/acme"))[0] == 204
    assert (await svix(service, "GET", f"/app/{made['id']}"))[0] == 404


async def test_applications_page_forwards_and_back(service: Service) -> None:
    for i in range(7):
        await svix(service, "POST", "/app", json={"name": f"app {i}", "uid": f"page-{i}"})
    seen: list[str] = []
    iterator = ""
    pages = []
    while True:
        status, page = await svix(service, "GET", f"/app?limit=3&iterator={iterator}")
        assert status == 200
        pages.append(page)
        seen += [a["uid"] for a in page["data"]]
        if page["done"]:
            break
        iterator = page["iterator"]
    assert seen == [f"page-{i}" for i in range(7)]
    back = await svix(service, "GET", f"/app?limit=3&iterator={pages[1]['prevIterator']}")
    assert [a["uid"] for a in back[1]["data"]] == ["page-0", "page-1", "page-2"]
    assert (await svix(service, "GET", "/app?limit=250"))[0] == 200
    status, refused = await svix(service, "GET", "/app?limit=251")
    assert status == 422 and refused["detail"][0]["loc"] == ["query", "limit"]


async def test_a_workspace_key_reaches_its_own_application_only(service: Service) -> None:
    ws, key = await service.workspace("mine")
    other, _ = await service.workspace("theirs")
    assert (await svix(service, "GET", f"/app/{ws}", token=key))[0] == 200
    status, body = await svix(service, "GET", f"/app/{other}", token=key)
    assert (status, body["code"]) == (403, "forbidden")
    assert (await svix(service, "GET", "/app/no-such-uid", token=key))[0] == 403
    listed = (await svix(service, "GET", "/app", token=key))[1]
    assert [a["id"] for a in listed["data"]] == [ws]
    assert (await svix(service, "POST", "/app", token=key, json={"name": "x"}))[0] == 403


async def test_channels_choose_the_endpoints(service: Service, receiver: Receiver) -> None:
    await svix(service, "POST", "/app", json={"name": "Acme", "uid": "acme"})
    for uid, channels in (("eu", ["eu"]), ("us", ["us"]), ("all", None)):
        status, _ = await svix(service, "POST", "/app/acme/endpoint", json={
            "url": f"{receiver.url}/{uid}", "uid": uid, "channels": channels,
            "secret": SECRET})  # fmt: skip
        assert status == 201
    published = {"eventType": "order.paid", "payload": {"n": 1}, "channels": ["eu"], "tags": ["t1"]}
    status, msg = await svix(service, "POST", "/app/acme/msg", json=published)
    assert status == 202
    got = await receiver.wait_for(2)
    await asyncio.sleep(0.3)  # a third delivery, if any, would have arrived by now
    assert sorted(r.path for r in receiver.requests) == ["/all", "/eu"]
    assert {"svix-id", "svix-timestamp", "svix-signature"} <= {k.lower() for k in got[0].headers}
    listed = (await svix(service, "GET", "/app/acme/msg?channel=eu&tag=t1"))[1]
    assert [m["id"] for m in listed["data"]] == [msg["id"]]
    assert (await svix(service, "GET", "/app/acme/msg?channel=us"))[1]["data"] == []

    async def destinations() -> list[Any]:
        found = (await svix(service, "GET", f"/app/acme/msg/{msg['id']}/endpoint"))[1]["data"]
        return list(found)

    def both_succeeded(found: list[Any]) -> bool:
        return sorted(e["uid"] for e in found) == ["all", "eu"] and all(
            e["status"] == 0 for e in found
        )

    await eventually(destinations, both_succeeded, what="both deliveries succeeded")
    attempts = (await svix(service, "GET", "/app/acme/attempt/endpoint/eu?status=0"))[1]
    assert [a["msgId"] for a in attempts["data"]] == [msg["id"]]
    assert attempts["data"][0]["responseStatusCode"] == 200
    assert (await svix(service, "GET", "/app/acme/attempt/endpoint/eu?status=2"))[1]["data"] == []


async def test_a_repeated_idempotency_key_replays_the_first_answer(service: Service) -> None:
    await svix(service, "POST", "/app", json={"name": "Acme", "uid": "acme"})
    body = {"eventType": "order.paid", "payload": {"n": 1}}
    same = [svix(service, "POST", "/app/acme/msg", json=body, key="same") for _ in range(5)]
    answers = await asyncio.gather(*same)
    assert {status for status, _ in answers} == {202}
    assert len({m["id"] for _, m in answers}) == 1
    listed = (await svix(service, "GET", "/app/acme/msg"))[1]["data"]
    assert len(listed) == 1
    # Another key is another request; an error answer frees its key for a retry.
    assert (await svix(service, "POST", "/app/acme/msg", json=body, key="other"))[0] == 202
    bad = {"eventType": "order.paid"}
    assert (await svix(service, "POST", "/app/acme/msg", json=bad, key="retry"))[0] == 422
    assert (await svix(service, "POST", "/app/acme/msg", json=body, key="retry"))[0] == 202


async def test_a_repeated_event_id_is_a_conflict(service: Service) -> None:
    await svix(service, "POST", "/app", json={"name": "Acme", "uid": "acme"})
    body = {"eventType": "order.paid", "payload": {"n": 1}, "eventId": "order-1"}
    status, first = await svix(service, "POST", "/app/acme/msg", json=body)
    assert status == 202
    status, again = await svix(service, "POST", "/app/acme/msg", json=body)
    assert (status, again["code"]) == (409, "conflict")
    assert (await svix(service, "GET", "/app/acme/msg/order-1"))[1]["id"] == first["id"]
    assert (await svix(service, "DELETE", "/app/acme/msg/order-1/content"))[0] == 204
    assert (await svix(service, "GET", "/app/acme/msg/order-1"))[1]["payload"] == {}


async def test_a_message_can_create_its_application(service: Service) -> None:
    body = {"eventType": "a.b", "payload": {}, "application": {"name": "New", "uid": "fresh"}}
    assert (await svix(service, "POST", "/app/fresh/msg", json=body))[0] == 202
    assert (await svix(service, "GET", "/app/fresh"))[1]["name"] == "New"
    body["application"] = {"name": "New", "uid": "different"}
    assert (await svix(service, "POST", "/app/absent/msg", json=body))[0] == 422


async def test_endpoint_headers_and_secret(service: Service) -> None:
    await svix(service, "POST", "/app", json={"name": "Acme", "uid": "acme"})
    await svix(service, "POST", "/app/acme/endpoint", json={
        "url": "https://example.com/hook", "uid": "ep", "secret": SECRET})  # fmt: skip
    assert (await svix(service, "GET", "/app/acme/endpoint/ep/secret"))[1]["key"] == SECRET
    put = {"headers": {"X-Team": "blue", "Authorization": "Bearer s3cr3t"}}
    assert (await svix(service, "PUT", "/app/acme/endpoint/ep/headers", json=put))[0] == 204
    shown = (await svix(service, "GET", "/app/acme/endpoint/ep/headers"))[1]
    assert shown == {"headers": {"X-Team": "blue"}, "sensitive": ["Authorization"]}
    patch = {"headers": {"X-Team": None, "X-Env": "prod"}}
    assert (await svix(service, "PATCH", "/app/acme/endpoint/ep/headers", json=patch))[0] == 204
    shown = (await svix(service, "GET", "/app/acme/endpoint/ep/headers"))[1]
    assert shown["headers"] == {"X-Env": "prod"}
    status, rotated = await svix(service, "POST", "/app/acme/endpoint/ep/secret/rotate", json={})
    assert status == 200 and rotated["key"].startswith("whsec_") and rotated["key"] != SECRET
    assert (await svix(service, "GET", "/app/acme/endpoint/ep/secret"))[1]["key"] == rotated["key"]


async def test_hookline_api_sets_what_the_svix_api_shows(service: Service) -> None:
    fields = {"name": "Beta", "uid": "beta", "metadata": {"tier": "gold"}, "throttle_rate": 9}
    made = await service.ok("POST", "/v1/workspaces", json=fields)
    assert (made["uid"], made["metadata"], made["throttle_rate"]) == ("beta", {"tier": "gold"}, 9)
    shown = (await svix(service, "GET", "/app/beta"))[1]
    assert (shown["id"], shown["throttleRate"], shown["metadata"]) == (
        made["id"],
        9,
        {"tier": "gold"},
    )
    cleared = await service.ok("PATCH", f"/v1/workspaces/{made['id']}", json={
        "uid": None, "throttle_rate": None})  # fmt: skip
    assert (cleared["uid"], cleared["throttle_rate"], cleared["name"]) == (None, None, "Beta")
    assert (await svix(service, "GET", "/app/beta"))[0] == 404
    status, body = await service.call("POST", "/v1/workspaces", json={"name": "x", "uid": "ws_1"})
    assert (status, body["error"]["field"]) == (422, "uid")


async def test_a_key_of_one_application_can_do_nothing_to_another(service: Service) -> None:
    """Every application-scoped Svix operation in the OpenAPI document, called with A's key on
    B's objects (by id and by uid): refused with 403, and B is untouched."""
    _ws_a, key_a = await service.workspace("a")
    ws_b, _key_b = await service.workspace("b")
    await service.ok("PATCH", f"/v1/workspaces/{ws_b}", json={"uid": "b-app"})
    made = (await svix(service, "POST", "/app/b-app/endpoint", json={
        "url": "https://example.com/hook", "uid": "b-ep"}))[1]  # fmt: skip
    msg = (await svix(service, "POST", "/app/b-app/msg", json={
        "eventType": "x.y", "payload": {}, "eventId": "b-msg"}))[1]  # fmt: skip
    spec = await service.ok("GET", "/openapi.json")
    checked = 0
    for app_ref, ids in (
        (ws_b, {"endpoint_id": made["id"], "msg_id": msg["id"]}),
        ("b-app", {"endpoint_id": "b-ep", "msg_id": "b-msg"}),
    ):
        ids = ids | {"app_id": app_ref, "attempt_id": "atmpt_x"}
        for path, methods in spec["paths"].items():
            if "{app_id}" not in path:
                continue
            concrete = _filled(path, ids)
            for method in methods:
                body = {"name": "evil", "url": "https://evil.example", "eventType": "x.y",
                        "payload": {}, "since": "2020-01-01T00:00:00Z", "headers": {}}  # fmt: skip
                status, answer = await svix(
                    service, method.upper(), concrete.removeprefix("/api/v1"), token=key_a,
                    json=body,
                )  # fmt: skip
                assert (status, answer["code"]) == (403, "forbidden"), (method, path, answer)
                checked += 1
    assert checked >= 50
    # B is untouched.
    assert (await svix(service, "GET", "/app/b-app/endpoint/b-ep"))[1]["url"] == made["url"]
    assert (await svix(service, "GET", "/app/b-app"))[1]["name"] == "b"
    assert (await svix(service, "GET", "/app/b-app/msg/b-msg"))[0] == 200


def _filled(path: str, ids: dict[str, str]) -> str:
    """``path`` with each ``{name}`` replaced by ``ids[name]``."""
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


async def test_endpoints_and_event_types_page_back(service: Service) -> None:
    await svix(service, "POST", "/app", json={"name": "Acme", "uid": "acme"})
    for i in range(5):
        body = {"url": f"https://example.com/{i}", "uid": f"ep-{i}"}
        assert (await svix(service, "POST", "/app/acme/endpoint", json=body))[0] == 201
        body = {"name": f"type.{i}", "description": "d"}
        assert (await svix(service, "POST", "/event-type", json=body))[0] == 201
    for path, key in (("/app/acme/endpoint", "uid"), ("/event-type", "name")):
        first = (await svix(service, "GET", f"{path}?limit=2"))[1]
        second = (await svix(service, "GET", f"{path}?limit=2&iterator={first['iterator']}"))[1]
        back = (await svix(service, "GET", f"{path}?limit=2&iterator={second['prevIterator']}"))[1]
        assert [x[key] for x in back["data"]] == [x[key] for x in first["data"]], path
        assert [x[key] for x in second["data"]] != [x[key] for x in first["data"]]
