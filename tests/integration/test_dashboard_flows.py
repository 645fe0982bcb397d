"""The dashboard's flow form over its HTTP routes: every problem of a submission beside its
field in the API's words, saves through the flow services, and deleting keeps the webhooks."""

from __future__ import annotations

import html
import re

from tests.conftest import Service
from tests.integration.dashboard_client import DashboardClient, browserless

_FIELD_ERROR = re.compile(r'<p class="error" id="err-(\w+)">(.*?)</p>', re.DOTALL)


def _errors(page: str) -> dict[str, str]:
    return {name: html.unescape(text) for name, text in _FIELD_ERROR.findall(page)}


def _form(csrf: str, **fields: str) -> dict[str, str]:
    """A submission of the flow form: every field, blank unless given."""
    names = "name description events filter aggregation_seconds aggregation_max_events"
    return {"csrf_token": csrf} | dict.fromkeys(names.split(), "") | fields


async def test_the_flow_form_refuses_with_every_problem_then_creates_and_edits(
    service: Service,
) -> None:
    ws, key = await service.workspace("flows")
    v1 = f"/v1/workspaces/{ws}"
    async with browserless() as http:
        visitor = DashboardClient(http, service.url)
        await visitor.sign_in(key)
        csrf = (await visitor.get("/flows/new")).csrf()

        forged = await visitor.post("/flows", _form("not-the-token", name="x", events="*"))
        assert forged.status == 403
        refused = await visitor.post(
            "/flows",
            _form(
                csrf, events=" , \n", filter="[1", aggregation_seconds="-1",
                aggregation_max_events="0",
            ),
        )  # fmt: skip
        assert refused.status == 422
        errors = _errors(refused.text)
        assert set(errors) == {
            "name", "events", "filter", "aggregation_seconds", "aggregation_max_events"
        }  # fmt: skip
        assert errors["name"] == "must not be empty"
        assert errors["aggregation_seconds"] == "must be greater than or equal to 0"
        assert errors["filter"].startswith("not valid JSON")
        assert 'aria-invalid="true"' in refused.text
        assert (await service.ok("GET", f"{v1}/flows", token=key))["data"] == []

        made = await visitor.post(
            "/flows", _form(csrf, name="nightly", events="order.*, invoice.paid\njob.done")
        )
        assert made.status == 303 and made.location is not None
        assert made.location.startswith("/flows?done=created#flow-")
        [flow] = (await service.ok("GET", f"{v1}/flows", token=key))["data"]
        assert flow["events"] == ["order.*", "invoice.paid", "job.done"]
        assert flow["filter"] is None and flow["aggregation_seconds"] == 0
        taken = await visitor.post("/flows", _form(csrf, name="nightly", events="*"))
        assert taken.status == 409 and "exists" in _errors(taken.text)["name"]

        edit = await visitor.get(f"/flows/{flow['id']}/edit")
        assert edit.status == 200 and "order.*\ninvoice.paid\njob.done</textarea>" in edit.text
        saved = await visitor.post(
            f"/flows/{flow['id']}",
            _form(
                csrf, name="nightly-eu", description="EU only", events="order.paid",
                filter='{"region": "eu"}', aggregation_seconds="30", aggregation_max_events="5",
            ),
        )  # fmt: skip
        assert saved.location == f"/flows?done=saved#flow-{flow['id']}"
        stored = await service.ok("GET", f"{v1}/flows/{flow['id']}", token=key)
        assert (stored["name"], stored["description"]) == ("nightly-eu", "EU only")
        assert stored["events"] == ["order.paid"] and stored["filter"] == {"region": "eu"}
        assert (stored["aggregation_seconds"], stored["aggregation_max_events"]) == (30, 5)
        listed = await visitor.get("/flows?done=saved")
        assert "Flow saved." in listed.text and "at most 5 events a window" in listed.text


async def test_deleting_a_flow_asks_first_and_keeps_its_webhooks(service: Service) -> None:
    ws, key = await service.workspace("owner")
    _, other_key = await service.workspace("other")
    v1 = f"/v1/workspaces/{ws}"
    flow = await service.ok("POST", f"{v1}/flows", token=key, json={"name": "nightly"})
    hook = await service.ok(
        "POST", f"{v1}/webhooks", token=key,
        json={"name": "n1", "url": "https://example.com/hooks", "flow": flow["id"]},
    )  # fmt: skip
    async with browserless() as http:
        stranger = DashboardClient(http, service.url)
        await stranger.sign_in(other_key)
        csrf = (await stranger.get("/flows")).csrf()
        assert (await stranger.get(f"/flows/{flow['id']}/edit")).status == 404
        assert (
            await stranger.post(f"/flows/{flow['id']}/delete", {"csrf_token": csrf})
        ).status == 404
        assert (await stranger.post(f"/flows/{flow['id']}", _form(csrf, name="x"))).status == 404

        visitor = DashboardClient(http, service.url)
        await visitor.sign_in(key)
        confirm = await visitor.get(f"/flows/{flow['id']}/delete")
        assert confirm.status == 200 and "Its 1 webhook is kept" in confirm.text
        assert f'href="/webhooks/{hook["id"]}"' in confirm.text
        assert (await service.ok("GET", f"{v1}/flows", token=key))["data"] != []
        gone = await visitor.post(f"/flows/{flow['id']}/delete", {"csrf_token": confirm.csrf()})
        assert gone.location == "/flows?done=deleted"
    assert (await service.ok("GET", f"{v1}/flows", token=key))["data"] == []
    kept = await service.ok("GET", f"{v1}/webhooks/{hook['id']}", token=key)
    assert kept["flow"] is None
