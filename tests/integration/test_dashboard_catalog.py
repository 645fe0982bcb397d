"""The dashboard's catalog page beside the shared catalog: shared entries are listed and marked,
and a new entry can enforce its schema."""

from __future__ import annotations

from tests.conftest import Service
from tests.integration.dashboard_client import DashboardClient, browserless


async def test_the_catalog_page_shows_shared_entries_and_adds_an_enforced_one(
    service: Service,
) -> None:
    await service.ok(
        "POST", "/v1/event-types", json={"name": "user.signup", "description": "Everyone's"}
    )
    ws, key = await service.workspace("pages")
    async with browserless() as http:
        visitor = DashboardClient(http, service.url)
        await visitor.sign_in(key)
        page = await visitor.get("/event-types")
        assert page.status == 200
        assert 'id="et-user.signup"' in page.text and "Everyone&#39;s" in page.text
        section = page.text.split('id="et-user.signup"')[1].split("</section>")[0]
        assert '<span class="badge">shared</span>' in section

        form = {"csrf_token": page.csrf(), "name": "order.paid", "description": ""}
        form |= {"schema": '{"type": "object", "required": ["id"]}', "enforce": "on"}
        created = await visitor.post("/event-types", form)
        assert created.location == "/event-types#et-order.paid"
    made = await service.ok("GET", f"/v1/workspaces/{ws}/event-types/order.paid", token=key)
    assert (made["enforce"], made["shared"]) == (True, False)
    status, body = await service.call(
        "POST", f"/v1/workspaces/{ws}/events", token=key,
        json={"type": "order.paid", "payload": {}},
    )  # fmt: skip
    assert (status, body["error"]["code"]) == (422, "schema_mismatch")
