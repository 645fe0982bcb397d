"""Every customer-portal route, asked with a link of workspace A about workspace B's objects,
answers as if they did not exist, and changes nothing of B's.

The routes are read from the portal's router, so a new route is swept as soon as it exists; a
path parameter this test does not know fails it, rather than being skipped.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from hookline import portal
from tests.conftest import Receiver, Service, started
from tests.integration import portal_client
from tests.polling import eventually


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    async for svc in started(f"sqlite:///{tmp_path}/hookline.db"):
        yield svc


async def _session(svc: Service, ws: str) -> dict[str, str]:
    """The headers a portal page sends: its session and CSRF token, as htmx would."""
    made = await svc.ok("POST", f"/v1/workspaces/{ws}/portal-links", json={})
    opened = await portal_client.sign_in(svc, made["token"])
    assert opened.status == 200, opened.text[:300]
    return opened.session()


async def _objects_of_b(svc: Service, receiver: Receiver) -> dict[str, str]:
    ws, _ = await svc.workspace("b")
    hook = await svc.ok(
        "POST", f"/v1/workspaces/{ws}/webhooks", json={"name": "b-only", "url": receiver.url}
    )
    event = await svc.ok(
        "POST", f"/v1/workspaces/{ws}/events", json={"type": "b.secret", "payload": {"b": 1}}
    )
    deliveries = await eventually(
        lambda: svc.ok("GET", f"/v1/workspaces/{ws}/deliveries?status=succeeded"),
        lambda page: len(page["data"]) == 1,
        what="B's delivery succeeding",
    )
    delivery = deliveries["data"][0]
    detail = await svc.ok("GET", f"/v1/workspaces/{ws}/deliveries/{delivery['id']}")
    return {
        "ws": ws,
        "webhook": hook["id"],
        "event": event["id"],
        "delivery": delivery["id"],
        "attempt": detail["attempts"][0]["id"],
    }


def _routes(router: Any) -> list[APIRoute]:
    """Every route of the router and of the routers included in it."""
    found: list[APIRoute] = []
    for route in router.routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # an included router (FastAPI keeps it whole)
            found += _routes(route.original_router)
    return found


def _fill(path: str, b: dict[str, str]) -> str:
    names = {
        "id": "webhook", "endpoint_id": "webhook", "webhook_id": "webhook",
        "event_id": "event", "message_id": "event", "delivery_id": "delivery",
        "attempt_id": "attempt",
    }  # fmt: skip

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in names, f"a portal path parameter this test does not know: {name}"
        return b[names[name]]

    return re.sub(r"\{(\w+)\}", value, path)


async def test_every_route_with_another_workspaces_ids(
    service: Service, receiver: Receiver
) -> None:
    svc = service
    b = await _objects_of_b(svc, receiver)
    ws_a, _ = await svc.workspace("a")
    headers = await _session(svc, ws_a)
    routes = [r for r in _routes(portal.router) if "{" in r.path and "{rest" not in r.path]
    assert len(routes) >= 10, [r.path for r in routes]
    for route in routes:
        for method in sorted((route.methods or set()) - {"HEAD"}):
            url = svc.url + _fill(route.path, b)
            async with svc.http.request(method, url, headers=headers, data={}) as r:
                text = await r.text()
                assert r.status == 404, (method, route.path, r.status, text[:300])
                assert "b-only" not in text and "b.secret" not in text, (method, route.path)
    hook = await svc.ok("GET", f"/v1/workspaces/{b['ws']}/webhooks/{b['webhook']}")
    assert hook["enabled"] is True and hook["name"] == "b-only"
    delivery = await svc.ok("GET", f"/v1/workspaces/{b['ws']}/deliveries/{b['delivery']}")
    assert delivery["status"] == "succeeded" and len(delivery["attempts"]) == 1
    audit = await svc.ok("GET", f"/v1/workspaces/{b['ws']}/audit-log")
    assert audit["data"] == []


async def test_no_route_answers_without_a_session(service: Service) -> None:
    """Without the session header, every route answers the expired page (or, for a plain GET,
    the shell, which holds no data), whatever the method."""
    for route in _routes(portal.router):
        if route.path in ("/portal/", "/portal/sign-in"):
            continue
        path = re.sub(r"\{\w+(:path)?\}", "x", route.path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            async with service.http.request(
                method, service.url + path, headers={"HX-Request": "true"}
            ) as r:
                assert r.status == 401, (method, route.path, r.status)
                assert "This link has expired" in await r.text()
