"""The dashboard on a phone (390 px wide), and flows created, edited and deleted through their
form in a real browser."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Dashboard, expect
from tests.conftest import Receiver

pytestmark = pytest.mark.asyncio(loop_scope="session")

PHONE = {"width": 390, "height": 844}
NAV = ("Webhooks", "Events", "Flows", "Event types", "Inspector")
LONG_PATH = "/hooks/a/rather/long/path/that/a/phone/cannot/show/on/one/line?token=" + "t" * 40


async def _fits(page: Any, name: str, shots: Path) -> None:
    """No horizontal page overflow; every main navigation link on screen; a screenshot."""
    width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1] == PHONE["width"], (name, page.url, width)
    nav = page.get_by_role("navigation", name="Main")
    for label in NAV:
        link = nav.get_by_role("link", name=label, exact=True)
        await expect(link).to_be_visible()
        box = await link.bounding_box()
        assert box is not None and box["x"] >= 0, (name, label, box)
        assert box["x"] + box["width"] <= PHONE["width"], (name, label, box)
    path = shots / f"{name}.png"
    await page.screenshot(path=str(path))
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), name
    assert struct.unpack(">I", data[16:20])[0] == PHONE["width"], name  # the IHDR width


async def _go(page: Any, label: str, url: str) -> None:
    await (
        page.get_by_role("navigation", name="Main")
        .get_by_role("link", name=label, exact=True)
        .click()
    )
    await page.wait_for_url(re.compile(url))


async def test_every_page_fits_a_phone_screen(
    dashboard: Dashboard, receiver: Receiver, tmp_path: Path
) -> None:
    service, v1 = dashboard.service, f"/v1/workspaces/{dashboard.workspace_id}"
    await service.ok("POST", f"{v1}/event-types", json={"name": "order.paid.in.full"})
    flow = await service.ok("POST", f"{v1}/flows", json={"name": "nightly-settlement"})
    hook = await service.ok(
        "POST",
        f"{v1}/webhooks",
        json={"name": "orders-to-billing", "url": receiver.url + LONG_PATH, "flow": flow["id"]},
    )
    payload = {"order_reference": "o-" + "7" * 90}
    event = await service.ok(
        "POST", f"{v1}/events", json={"type": "order.paid.in.full", "payload": payload}
    )
    await receiver.wait_for(1)
    made = await service.ok("POST", f"{v1}/bins", json={"name": "probe"})
    async with service.http.post(made["capture_url"] + "/x?" + "q" * 80, json=payload) as r:
        assert r.status == 200

    page = dashboard.page
    await page.set_viewport_size(PHONE)
    await page.goto(dashboard.url + "/login")
    width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    await dashboard.sign_in()
    await _fits(page, "webhooks", tmp_path)
    await page.get_by_role("link", name="orders-to-billing").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("orders-to-billing")
    await _fits(page, "webhook", tmp_path)
    await page.get_by_role("link", name=re.compile("^dlv_")).first.click()
    await expect(page.locator("details.attempt")).to_contain_text("HTTP 200")
    await _fits(page, "delivery", tmp_path)
    for label, url, name in (
        ("Events", r"/events$", "events"),
        ("Flows", r"/flows$", "flows"),
        ("Event types", r"/event-types$", "event-types"),
        ("Inspector", r"/inspector$", "inspector"),
        ("Webhooks", r"/webhooks$", "webhooks-again"),
    ):
        await _go(page, label, url)
        await _fits(page, name, tmp_path)
    for path, name in (
        (f"/webhooks/{hook['id']}/edit", "webhook-form"),
        (f"/events/{event['id']}", "event"),
        ("/flows/new", "flow-form"),
        (f"/flows/{flow['id']}/delete", "flow-delete"),
    ):
        await page.goto(dashboard.url + path)
        await _fits(page, name, tmp_path)
    await page.goto(f"{dashboard.url}/inspector/{made['id']}")
    await page.locator("details.captured summary").click()  # the request's headers and body
    await expect(page.get_by_role("button", name="Verify")).to_be_visible()
    await _fits(page, "bin", tmp_path)
    await page.goto(dashboard.url + "/workspace")
    width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width


async def test_create_edit_and_delete_a_flow(dashboard: Dashboard, receiver: Receiver) -> None:
    service, v1 = dashboard.service, f"/v1/workspaces/{dashboard.workspace_id}"
    page = dashboard.page
    await dashboard.sign_in()
    await _go(page, "Flows", r"/flows$")
    await page.get_by_role("link", name="New flow").click()
    await page.get_by_label("Name", exact=True).fill("nightly")
    await page.get_by_label("Trigger event patterns").fill("order.*\ninvoice.paid")
    await page.get_by_label("Payload filter (JSON)").fill("{not json")
    await page.get_by_label("Window (seconds)").fill("-5")
    await page.get_by_role("button", name="Create flow").click()
    window = page.get_by_label("Window (seconds)")
    await expect(window).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#err-aggregation_seconds")).to_contain_text(
        "greater than or equal to 0"
    )
    await expect(page.locator("#err-filter")).to_contain_text("not valid JSON")
    await expect(page.get_by_label("Name", exact=True)).to_have_value("nightly")
    assert (await service.ok("GET", f"{v1}/flows"))["data"] == []

    await page.get_by_label("Payload filter (JSON)").fill('{"region": "eu"}')
    await window.fill("60")
    await page.get_by_label("Most events a window").fill("100")
    await page.get_by_role("button", name="Create flow").click()
    await expect(page.get_by_role("status")).to_have_text("Flow created.")
    card = page.get_by_role("region", name="nightly")
    await expect(card).to_contain_text("order.*, invoice.paid")
    await expect(card).to_contain_text("aggregated every 60 s, at most 100 events a window")
    [stored] = (await service.ok("GET", f"{v1}/flows"))["data"]
    assert stored["events"] == ["order.*", "invoice.paid"]
    assert stored["filter"] == {"region": "eu"} and stored["aggregation_max_events"] == 100
    hook = await service.ok(
        "POST", f"{v1}/webhooks", json={"name": "n1", "url": receiver.url, "flow": stored["id"]}
    )

    await card.get_by_role("link", name="Edit nightly").click()
    await expect(page.get_by_label("Trigger event patterns")).to_have_value("order.*\ninvoice.paid")
    await page.get_by_label("Name", exact=True).fill("nightly-eu")
    await page.get_by_label("Trigger event patterns").fill("order.paid")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_have_text("Flow saved.")
    card = page.get_by_role("region", name="nightly-eu")
    await expect(card).to_contain_text("Trigger: order.paid;")
    await expect(card.get_by_role("link", name="n1")).to_be_visible()
    await expect(page.get_by_role("region", name="nightly", exact=True)).to_have_count(0)

    await card.get_by_role("link", name="Delete nightly-eu").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Delete flow nightly-eu?")
    await expect(page.locator("main")).to_contain_text("Its 1 webhook is kept")
    await page.get_by_role("button", name="Delete flow").click()
    await expect(page.get_by_role("status")).to_contain_text("Flow deleted")
    await expect(page.locator("section.flow")).to_have_count(0)
    assert (await service.ok("GET", f"{v1}/flows"))["data"] == []
    kept = await service.ok("GET", f"{v1}/webhooks/{hook['id']}")
    assert kept["flow"] is None
