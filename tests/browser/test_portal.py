"""The customer portal as a vendor's customer meets it: inside a cross-site iframe of the
vendor's page, in Chromium with third-party cookies blocked.

The vendor's page is served from ``http://localhost:PORT_A/`` and frames a portal link on
``http://127.0.0.1:PORT_B/``: different sites, so the frame is third-party and the browser
keeps no cookie and no storage for it (each test checks that first). Everything the customer
does happens inside that frame.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, expect, require_browser
from tests.conftest import Receiver, Service, free_port, start_service

pytestmark = pytest.mark.asyncio(loop_scope="session")

#: What Chromium's settings call "Block third-party cookies", set in the profile it starts with.
BLOCK_THIRD_PARTY = {"profile": {"cookie_controls_mode": 1, "block_third_party_cookies": True}}
PROBE = """() => {
  document.cookie = "probe=1; SameSite=None; Secure";
  let storage = "kept";
  try { window.sessionStorage.setItem("probe", "1"); } catch (e) { storage = "refused"; }
  return [document.cookie, storage];
}"""


@dataclass
class Vendor:
    """The vendor's site (another origin) framing the portal, the service, and a browser page."""

    host_url: str
    service: Service
    database: Path
    page: Any

    async def link(self, ws: str, **options: Any) -> str:
        made = await self.service.ok(
            "POST", f"/v1/workspaces/{ws}/portal-links", json={"user": "ann@example.com"} | options
        )
        assert made["url"].startswith(self.service.url + "/portal/#hlp_")
        return str(made["url"])

    async def embed(self, url: str) -> Any:
        """Open the vendor's page framing ``url``; the frame, once the portal has opened."""
        await self.page.goto(f"{self.host_url}/?portal={_quote(url)}")
        frame = self.page.frame_locator("iframe#portal")
        return frame

    async def frame_eval(self, script: str, *args: Any) -> Any:
        frame = self.page.frames[1]
        return await frame.evaluate(script, *args)


def _quote(url: str) -> str:
    from urllib.parse import quote

    return quote(url, safe="")


async def _host_page(request: web.Request) -> web.Response:
    src = request.query.get("portal", "")
    html = (
        "<!doctype html><title>Vendor app</title><h1>Acme Cloud: settings</h1>"
        f'<iframe id="portal" title="Webhooks" src="{src}" width="1100" height="900"></iframe>'
    )
    return web.Response(text=html, content_type="text/html")


@pytest_asyncio.fixture(loop_scope="session")
async def vendor(tmp_path: Path) -> AsyncIterator[Vendor]:
    require_browser()
    from playwright.async_api import async_playwright

    host_port = free_port()
    app = web.Application()
    app.router.add_get("/", _host_page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", host_port).start()
    database = tmp_path / "hookline.db"
    svc, stop, task = await start_service(
        f"sqlite:///{database}", portal_frame_ancestors=f"http://localhost:{host_port}"
    )
    profile = tmp_path / "chromium-profile"
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(json.dumps(BLOCK_THIRD_PARTY))
    try:
        async with async_playwright() as pw:
            context = await pw.chromium.launch_persistent_context(
                str(profile),
                executable_path=str(CHROMIUM),
                args=CHROMIUM_ARGS,
                headless=True,
                viewport={"width": 1280, "height": 1000},
            )
            context.set_default_timeout(TIMEOUT_MS)
            try:
                page = context.pages[0] if context.pages else await context.new_page()
                yield Vendor(f"http://localhost:{host_port}", svc, database, page)
            finally:
                await context.close()
    finally:
        stop.set()
        await task
        await svc.http.close()
        await runner.cleanup()


async def _opened(vendor: Vendor, url: str) -> Any:
    frame = await vendor.embed(url)
    await expect(frame.get_by_role("navigation", name="Portal")).to_be_visible()
    cookie, storage = await vendor.frame_eval(PROBE)
    assert "probe" not in cookie, "the frame must be third-party with its cookies blocked"
    assert storage == "refused"
    return frame


async def test_customer_works_inside_a_cross_site_frame(vendor: Vendor, receiver: Receiver) -> None:
    ws, _ = await vendor.service.workspace("acme")
    await vendor.service.ok(
        "POST",
        f"/v1/workspaces/{ws}/event-types",
        json={"name": "invoice.paid", "description": "An invoice was paid", "example": {"id": 1}},
    )
    frame = await _opened(vendor, await vendor.link(ws, theme={"product_name": "Acme Cloud"}))
    await expect(frame.locator(".product-name")).to_have_text("Acme Cloud")
    assert "Hookline" not in await frame.locator("#portal").inner_text()

    await frame.get_by_role("link", name="New endpoint").click()
    await frame.get_by_label("Name", exact=True).fill("billing")
    await frame.get_by_label("Endpoint URL").fill(receiver.url + "/hooks")
    await frame.get_by_label(re.compile("invoice.paid")).check()
    await frame.get_by_role("button", name="Create").click()
    await expect(frame.get_by_role("heading", level=1)).to_contain_text("billing")

    await frame.get_by_role("button", name="Test").click()
    await expect(frame.locator("#test-result")).to_contain_text("200")
    arrived = await receiver.wait_for(1)
    assert arrived[0].path == "/hooks"

    receiver.status = 500
    await frame.get_by_role("button", name="Test").click()
    await expect(frame.locator("#test-result")).to_contain_text("500")
    await receiver.wait_for(2)
    receiver.status = 200

    await frame.get_by_role("link", name="Messages").first.click()
    await expect(frame.get_by_role("heading", level=1)).to_contain_text("Messages")
    await frame.locator("main table a").first.click()
    await expect(frame.locator("details.attempt").first).to_contain_text("500")
    await frame.get_by_role("button", name="Retry").first.click()
    await receiver.wait_for(3)
    await expect(frame.locator("details.attempt", has_text="200").first).to_be_visible()

    await frame.get_by_role("link", name="Endpoints").click()
    await frame.get_by_role("link", name="billing").click()
    await frame.get_by_role("button", name="Reveal secret").click()
    first = await frame.locator(".secret").first.inner_text()
    vendor.page.once("dialog", lambda dialog: dialog.accept())
    await frame.get_by_role("button", name="Rotate secret").click()
    await expect(frame.locator(".secret").first).not_to_have_text(first)
    rotated = (await frame.locator(".secret").first.inner_text()).strip()
    assert rotated.startswith("whsec_") and rotated != first.strip()

    audit = await vendor.service.ok("GET", f"/v1/workspaces/{ws}/audit-log")
    actions = {e["action"] for e in audit["data"]}
    assert {"endpoint.created", "endpoint.tested", "delivery.retried"} <= actions
    assert {"endpoint.secret_revealed", "endpoint.secret_rotated"} <= actions
    customer = [e for e in audit["data"] if not e["action"].startswith("portal_link")]
    assert {e["actor"] for e in customer} == {"ann@example.com"}
    made = [e for e in audit["data"] if e["action"] == "portal_link.created"]
    assert [e["actor"] for e in made] == ["admin"]


async def test_expired_and_revoked_links_are_refused(vendor: Vendor) -> None:
    ws, _ = await vendor.service.workspace("acme")
    token = "hlp_expired-link-token-for-the-browser-test-000000"
    with sqlite3.connect(vendor.database) as db:
        db.execute(
            "INSERT INTO portal_links (id, workspace_id, token_hash, created_at, expires_at,"
            " read_only, created_by) VALUES (?, ?, ?, ?, ?, 0, 'test')",
            ("pl_expired", ws, hashlib.sha256(token.encode()).hexdigest(), 0.0, time.time() - 1),
        )
    frame = await vendor.embed(f"{vendor.service.url}/portal/#{token}")
    await expect(frame.get_by_role("heading", name="This link has expired")).to_be_visible()

    url = await vendor.link(ws)
    frame = await _opened(vendor, url)
    await vendor.service.ok("DELETE", f"/v1/workspaces/{ws}/portal-links")
    await frame.get_by_role("link", name="Messages").click()
    await expect(frame.get_by_role("heading", name="This link has expired")).to_be_visible()
    frame = await vendor.embed(url)
    await expect(frame.get_by_role("heading", name="This link has expired")).to_be_visible()


async def test_read_only_link_offers_no_action(vendor: Vendor, receiver: Receiver) -> None:
    ws, _ = await vendor.service.workspace("acme")
    hook = await vendor.service.ok(
        "POST", f"/v1/workspaces/{ws}/webhooks", json={"name": "orders", "url": receiver.url}
    )
    frame = await _opened(vendor, await vendor.link(ws, read_only=True))
    await expect(frame.get_by_text("Read-only")).to_be_visible()
    await expect(frame.get_by_role("link", name="New endpoint")).to_have_count(0)
    await frame.get_by_role("link", name="orders").click()
    await expect(frame.get_by_role("heading", level=1)).to_contain_text("orders")
    await expect(frame.locator("main button")).to_have_count(0)
    await expect(frame.locator("main form")).to_have_count(0)
    statuses = await vendor.frame_eval(
        """async (id) => {
          const headers = JSON.parse(document.getElementById("portal").getAttribute("hx-headers"));
          headers["HX-Request"] = "true";
          const out = [];
          for (const path of [`/portal/endpoints/${id}/disable`, `/portal/endpoints/${id}/delete`,
                              `/portal/endpoints/${id}/rotate-secret`, "/portal/endpoints"]) {
            const r = await fetch(path, {method: "POST", headers});
            out.push(r.status);
          }
          return out;
        }""",
        hook["id"],
    )
    assert statuses == [403, 403, 403, 403]
    stored = await vendor.service.ok("GET", f"/v1/workspaces/{ws}/webhooks/{hook['id']}")
    assert stored["enabled"] is True


async def test_a_link_for_one_workspace_cannot_read_another(
    vendor: Vendor, receiver: Receiver
) -> None:
    ws_a, _ = await vendor.service.workspace("a")
    ws_b, _ = await vendor.service.workspace("b")
    theirs = await vendor.service.ok(
        "POST", f"/v1/workspaces/{ws_b}/webhooks", json={"name": "secret-b", "url": receiver.url}
    )
    await _opened(vendor, await vendor.link(ws_a))
    answers = await vendor.frame_eval(
        """async (id) => {
          const headers = JSON.parse(document.getElementById("portal").getAttribute("hx-headers"));
          headers["HX-Request"] = "true";
          const out = [];
          for (const path of [`/portal/endpoints/${id}`, `/portal/endpoints/${id}/edit`,
                              `/portal/endpoints/${id}/health`]) {
            const r = await fetch(path, {headers});
            out.push([r.status, (await r.text()).includes("secret-b")]);
          }
          return out;
        }""",
        theirs["id"],
    )
    assert answers == [[404, False]] * 3


async def test_portal_fits_a_390px_screen(
    vendor: Vendor, receiver: Receiver, tmp_path: Path
) -> None:
    ws, _ = await vendor.service.workspace("acme")
    hook = await vendor.service.ok(
        "POST",
        f"/v1/workspaces/{ws}/webhooks",
        json={"name": "a-long-endpoint-name-for-a-narrow-screen", "url": receiver.url + "/x" * 40},
    )
    event = await vendor.service.ok(
        "POST", f"/v1/workspaces/{ws}/events", json={"type": "order.created", "payload": {"a": 1}}
    )
    await receiver.wait_for(1)
    page = vendor.page
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(await vendor.link(ws, theme={"mode": "dark"}))
    nav = page.get_by_role("navigation", name="Portal")
    await expect(nav).to_be_visible()
    for path in (
        "/portal/endpoints",
        f"/portal/endpoints/{hook['id']}",
        f"/portal/endpoints/{hook['id']}/health",
        "/portal/messages",
        f"/portal/messages/{event['id']}",
        "/portal/event-types",
    ):
        await page.evaluate(
            "(path) => htmx.ajax('GET', path, {source: '#portal', target: '#portal',"
            " swap: 'outerHTML', select: '#portal'})",
            path,
        )
        landed = re.compile("^" + re.escape(path) + r"(\?.*)?$")
        await expect(page.locator("#portal")).to_have_attribute("data-path", landed)
        width = await page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert width[0] <= width[1], (path, width)
        for name in ("Endpoints", "Messages", "Event types"):
            await expect(nav.get_by_role("link", name=name)).to_be_in_viewport()
    shot = tmp_path / "portal-390.png"
    await page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5000
    assert await page.evaluate("document.documentElement.dataset.mode") == "dark"
