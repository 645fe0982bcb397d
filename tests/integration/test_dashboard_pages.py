"""The dashboard's catalog, events, inspector and flows pages over plain HTTP: each shows what
the workspace holds, and acts through the same operations as the REST API."""

from __future__ import annotations

import json

from tests.conftest import Service
from tests.integration.dashboard_client import DashboardClient, browserless


async def test_catalog_events_inspector_and_flows_pages(service: Service) -> None:
    ws, key = await service.workspace("pages")
    v1 = f"/v1/workspaces/{ws}"
    async with browserless() as http:
        visitor = DashboardClient(http, service.url)
        assert (await visitor.sign_in(key)).location == "/webhooks"

        page = await visitor.get("/event-types")
        schema = '{"type": "object", "required": ["id"]}'
        form = {"csrf_token": page.csrf(), "name": "order.paid", "description": ""}
        form |= {"schema": schema, "example": '{"n": 1}'}
        refused = await visitor.post("/event-types", form)
        assert refused.status == 422 and "example does not match the schema" in refused.text
        created = await visitor.post("/event-types", form | {"example": '{"id": 7}'})
        assert created.location == "/event-types#et-order.paid"
        assert (await service.ok("GET", f"{v1}/event-types/order.paid"))["example"] == {"id": 7}

        event = await service.ok(
            "POST", f"{v1}/events", token=key, json={"type": "order.paid", "payload": {"id": 7}}
        )
        for query in ("?q=order.paid", "?q=%22id%22%3A%207&by=text", f"?q={event['id']}&by=id"):
            listed = await visitor.get(f"/events{query}")
            assert listed.status == 200 and event["id"] in listed.text, query
        assert (await visitor.get(f"/events/{event['id']}")).status == 200
        assert (await visitor.get("/events/evt_missing")).status == 404

        page = await visitor.get("/inspector")
        made = await visitor.post("/inspector", {"csrf_token": page.csrf(), "name": "probe"})
        assert made.location is not None and made.location.startswith("/inspector/bin_")
        bin_id = made.location.rsplit("/", 1)[1]
        async with service.http.post(f"{service.url}/in/{bin_id}/x", data=b"hello") as r:
            assert r.status == 200
        polled = await visitor.get(f"/inspector/{bin_id}/poll?after=")
        assert polled.status == 200 and "/x" in polled.text

        flow = await service.ok("POST", f"{v1}/flows", token=key, json={"name": "nightly"})
        assert "nightly" in (await visitor.get("/flows")).text
        exported = await visitor.get(f"/flows/{flow['id']}/export")
        assert json.loads(exported.text)["flow"]["name"] == "nightly"


async def test_a_key_sees_only_its_own_workspace_on_the_dashboard(service: Service) -> None:
    _, key_a = await service.workspace("a")
    ws_b, key_b = await service.workspace("b")
    event = await service.ok(
        "POST", f"/v1/workspaces/{ws_b}/events", token=key_b, json={"type": "x", "payload": {}}
    )
    async with browserless() as http:
        visitor = DashboardClient(http, service.url)
        await visitor.sign_in(key_a)
        assert (await visitor.get(f"/events/{event['id']}")).status == 404
        assert event["id"] not in (await visitor.get("/events")).text


async def test_the_flow_import_page_lists_every_problem_of_the_document(service: Service) -> None:
    _, key = await service.workspace("imports")
    document = {
        "hookline": "flow-export",
        "version": 1,
        "flow": {"name": "F"},
        "webhooks": [
            {"name": "blocked", "url": "http://10.1.2.3/hooks"},
            {"name": "also blocked", "url": "http://10.1.2.4/hooks"},
            {"url": "http://10.1.2.5/hooks"},
        ],
    }
    async with browserless() as http:
        visitor = DashboardClient(http, service.url)
        await visitor.sign_in(key)
        page = await visitor.get("/flows")
        form = {"csrf_token": page.csrf(), "document_text": json.dumps(document), "name": ""}
        refused = await visitor.post("/flows/import", form)
    assert refused.status == 422
    for field in ("webhooks.0.url", "webhooks.1.url", "webhooks.2.name"):
        assert f"{field}:" in refused.text, field
