"""U+0000 anywhere Hookline keeps text of its own is a 422 on both databases (PostgreSQL's text
types cannot hold it: it was an opaque 500 there), while a payload may still carry it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Service

NUL = "\x00"


async def _setup(service: Service) -> tuple[str, str]:
    ws, key = await service.workspace()
    return f"/v1/workspaces/{ws}", key


def _refused(status: int, body: Any) -> None:
    assert status == 422, body
    assert body["error"]["code"] == "validation_failed"
    assert "U+0000" in body["error"]["message"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/webhooks", {"name": f"a{NUL}b", "url": "http://127.0.0.1:9/h"}),
        ("/webhooks", {"name": "ok", "url": "http://127.0.0.1:9/h", "metadata": {"k": NUL}}),
        ("/events", {"type": "t.x", "payload": {}, "idempotency_key": f"k{NUL}"}),
        ("/events/batch", {"events": [{"type": "t.x", "payload": {}, "idempotency_key": NUL}]}),
        ("/event-types", {"name": "t.x", "description": f"d{NUL}"}),
        ("/bins", {"name": f"bin{NUL}"}),
        ("/flows", {"name": f"flow{NUL}"}),
        ("/api-keys", {"name": f"key{NUL}"}),
    ],
)
async def test_nul_in_a_stored_field_is_refused(
    service: Service, path: str, body: dict[str, Any]
) -> None:
    base, key = await _setup(service)
    status, answer = await service.call("POST", base + path, token=key, json=body)
    _refused(status, answer)


async def test_nul_in_a_workspace_name_is_refused(service: Service) -> None:
    status, answer = await service.call("POST", "/v1/workspaces", json={"name": f"w{NUL}"})
    _refused(status, answer)


@pytest.mark.parametrize(
    "query",
    ["/webhooks?search=a%00b", "/events?type=t%00x", "/deliveries?cursor=%00", "/bins/bin_%00"],
)
async def test_nul_in_a_query_or_path_is_refused(service: Service, query: str) -> None:
    base, key = await _setup(service)
    status, answer = await service.call("GET", base + query, token=key)
    _refused(status, answer)


async def test_nul_in_an_update_is_refused(service: Service) -> None:
    base, key = await _setup(service)
    hook = await service.ok(
        "POST", base + "/webhooks", token=key, json={"name": "h", "url": "http://127.0.0.1:9/"}
    )
    status, answer = await service.call(
        "PATCH", f"{base}/webhooks/{hook['id']}", token=key, json={"description": NUL}
    )
    _refused(status, answer)


async def test_a_payload_may_carry_nul(service: Service) -> None:
    base, key = await _setup(service)
    sent = {"text": f"a{NUL}b", NUL: [NUL]}
    event = await service.ok(
        "POST", base + "/events", token=key, json={"type": "t.x", "payload": sent}
    )
    got = await service.ok("GET", f"{base}/events/{event['id']}", token=key)
    assert got["payload"] == sent


async def test_capture_urls_keep_nul_in_their_path_and_query(service: Service) -> None:
    base, key = await _setup(service)
    created = await service.ok("POST", base + "/bins", token=key, json={"name": "b"})
    async with service.http.post(created["capture_url"] + "/x%00y?q=%00", data=b"\0") as r:
        assert r.status == 200
    async with service.http.post(service.url + "/in/bin_%00") as r:
        assert r.status == 422
