"""Screenshots of the dashboard (docs/dashboard.md) and of the customer portal (docs/portal.md)
for ``make screenshots``.

Starts Hookline in this process on a temporary SQLite file, with a local receiver, fills it
with sample data (a day of deliveries, some failing), opens each main page in Debian's
Chromium and saves PNGs under docs/screenshots/. The portal is shown framed in a vendor's page
served from another origin, as a vendor embeds it: once with a light theme, once dark.
"""

from __future__ import annotations

import asyncio
import random
import socket
import sys
import tempfile
import time
from html import escape
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from playwright.async_api import Page, async_playwright

from hookline.runtime.process import Roles, run
from hookline.services.publishing import new_delivery, new_event
from hookline.settings import Settings
from hookline.store import open_store

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
TOKEN = "hla_screenshots-admin-token"
ORDER_EXAMPLE = {"jobId": 4711, "jobStatus": "Complete", "outputId": 3, "flowId": 12}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_receiver() -> tuple[str, web.AppRunner]:
    """Answers 200 on /ok and, a third of the time, 503 on /flaky."""

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        if request.path.startswith("/flaky") and random.random() < 0.35:
            return web.json_response({"error": "upstream busy"}, status=503)
        return web.json_response({"received": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return f"http://127.0.0.1:{port}", runner


class Api:
    def __init__(self, http: aiohttp.ClientSession, base: str, token: str) -> None:
        self.http, self.base, self.token = http, base, token

    async def __call__(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.request(method, self.base + path, json=body, headers=headers) as r:
            answer = await r.json()
            assert r.status < 300, (path, r.status, answer)
            return answer


async def seed(api: Api, settings: Settings, receiver: str) -> dict[str, str]:
    ws = (await api("POST", "/v1/workspaces", {"name": "acme"}))["id"]
    v1 = f"/v1/workspaces/{ws}"
    schema = {"type": "object", "required": ["jobId", "jobStatus"]}
    await api("POST", f"{v1}/event-types", {
        "name": "job.completed", "description": "A job finished (any status).",
        "schema": schema, "example": ORDER_EXAMPLE,
    })  # fmt: skip
    await api("POST", f"{v1}/event-types", {
        "name": "file.uploaded", "description": "A file was uploaded.",
        "example": {"fileId": "f_93", "name": "scan.png", "bytes": 48213},
    })  # fmt: skip
    flow = await api("POST", f"{v1}/flows", {"name": "nightly-jobs", "events": ["job.*"]})
    slack = await api("POST", f"{v1}/webhooks", {
        "name": "slack-notify", "url": f"{receiver}/ok/slack", "events": ["job.completed"],
        "body_template": '{"text": "Job $jobId has completed. Status: $jobStatus."}',
        "secret": "generate", "flow": flow["id"],
        "headers": {"Authorization": "Bearer xoxb-example"},
    })  # fmt: skip
    flaky = await api("POST", f"{v1}/webhooks", {
        "name": "billing-sync", "url": f"{receiver}/flaky/billing", "events": ["*"],
        "max_attempts": 1, "secret": "generate", "signature_schemes": ["standard", "github"],
    })  # fmt: skip
    await api("POST", f"{v1}/webhooks", {
        "name": "legacy-crm", "url": "https://crm.example.com/hooks", "events": ["file.*"],
        "enabled": False,
    })  # fmt: skip
    await backfill(settings, ws, [slack["id"], flaky["id"]])
    sink = await api("POST", f"{v1}/bins", {"name": "receiver-debug"})
    for n in (1, 2):
        body = {"type": "job.completed", "payload": ORDER_EXAMPLE | {"jobId": 4711 + n}}
        async with api.http.post(sink["capture_url"] + "/hooks", json=body) as r:
            assert r.status == 200
    return {"ws": ws, "slack": slack["id"], "flaky": flaky["id"], "bin": sink["id"]}


async def backfill(settings: Settings, ws: str, hook_ids: list[str]) -> None:
    """A day of events, created in the past so the chart has a shape; the worker sends them."""
    store = await open_store(settings)
    try:
        now = time.time()
        # In time order, so the events' ids (made now) sort as their times do.
        times = sorted(now - random.uniform(0, 23.5 * 3600) for _ in range(60))
        for i, at in enumerate(times):
            payload = ORDER_EXAMPLE | {"jobId": 5000 + i, "jobStatus": random.choice(
                ["Complete", "Complete", "Failed"])}  # fmt: skip
            event = new_event(ws, "job.completed", payload, None, at)
            await store.publishing.publish(event, [new_delivery(event, h, at) for h in hook_ids])
    finally:
        await store.close()


async def wait_delivered(api: Api, ws: str) -> None:
    for _ in range(200):
        found = await api("GET", f"/v1/workspaces/{ws}/deliveries?status=pending&limit=1")
        if not found["data"]:
            return
        await asyncio.sleep(0.2)


async def shoot(page: Page, base: str, ids: dict[str, str]) -> None:
    async def snap(name: str, path: str | None, *, full: bool = False) -> None:
        if path is not None:
            await page.goto(base + path)
        await page.wait_for_load_state("networkidle")
        await page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
        print(f"  docs/screenshots/{name}.png")

    await snap("login", "/login")
    await page.get_by_label("Admin token or workspace API key").fill(TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="Open workspace acme").click()
    await snap("webhooks", "/webhooks")
    await page.goto(base + "/webhooks/new")
    await page.get_by_label("Name", exact=True).fill("orders-to-erp")
    await page.get_by_label("Callback URL").fill("https://erp.example.com/hooks/orders")
    await page.get_by_label("All events (*)").uncheck()
    await page.get_by_label("job.completed").check()
    await page.get_by_label("Body template").fill('{"order": $jobId, "status": "$jobStatus"}')
    await page.wait_for_timeout(1200)  # the live preview
    await page.evaluate("window.scrollTo(0, 0)")
    await snap("webhook-form", None)
    await page.goto(base + f"/webhooks/{ids['flaky']}")
    await page.get_by_role("button", name="Test").click()
    await page.locator("#test-result p").first.wait_for()
    await snap("webhook-detail", None, full=True)
    await page.locator("table.list a").first.click()
    await snap("delivery", None, full=True)
    await snap("events", "/events")
    await snap("flows", "/flows")
    await snap("event-types", "/event-types")
    await page.goto(base + f"/inspector/{ids['bin']}")
    await page.locator("details.captured summary").first.click()
    await snap("inspector", None)
    await page.set_viewport_size({"width": 390, "height": 844})
    await snap("webhooks-narrow", "/webhooks")


VENDOR_PAGE = """<!doctype html><html><head><title>Acme Cloud</title><style>
body {{ margin: 0; font-family: system-ui, sans-serif; background: {bg}; color: {fg}; }}
header {{ padding: 14px 24px; background: {bar}; color: #fff; font-weight: 700; }}
main {{ padding: 16px 24px; }} h1 {{ font-size: 20px; margin: 0 0 12px; }}
iframe {{ width: 100%; height: 760px; border: 1px solid {line}; border-radius: 8px; }}
</style></head><body><header>Acme Cloud</header><main><h1>Settings · Webhooks</h1>
<iframe src="{src}" title="Webhooks"></iframe></main></body></html>"""


async def start_vendor() -> tuple[str, web.AppRunner]:
    """The vendor's product page, on another origin, framing the portal link it is given."""

    async def page(request: web.Request) -> web.Response:
        dark = request.query.get("mode") == "dark"
        colours = (
            {"bg": "#0f1115", "fg": "#e6e8eb", "bar": "#4c1d95", "line": "#353b45"}
            if dark
            else {"bg": "#f3f4f6", "fg": "#111827", "bar": "#6d28d9", "line": "#d1d5db"}
        )
        html = VENDOR_PAGE.format(src=escape(request.query["src"]), **colours)
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return f"http://localhost:{port}", runner


async def shoot_portal(page: Page, api: Api, vendor: str, ids: dict[str, str]) -> None:
    """The portal inside the vendor's page: endpoints (light), an endpoint's health (light),
    the message log (dark), and the portal alone at 390 px."""
    from urllib.parse import quote

    async def link(mode: str) -> str:
        theme = {"product_name": "Acme Cloud", "primary_color": "#6d28d9", "mode": mode}
        made = await api("POST", f"/v1/workspaces/{ids['ws']}/portal-links", {
            "user": "ann@customer.example", "theme": theme,
        })  # fmt: skip
        return str(made["url"])

    async def framed(name: str, mode: str, path: str | None = None) -> None:
        url = await link(mode)
        await page.goto(f"{vendor}/?mode={mode}&src={quote(url, safe='')}")
        frame = page.frame_locator("iframe")
        await frame.get_by_role("navigation", name="Portal").wait_for()
        if path is not None:
            await frame.locator("#portal").evaluate(
                "(el, path) => htmx.ajax('GET', path, {source: el, target: el,"
                " swap: 'outerHTML', select: '#portal'})",
                path,
            )
            await frame.locator(f'#portal[data-path^="{path}"]').wait_for()
        await page.wait_for_timeout(400)
        await page.screenshot(path=str(OUT / f"{name}.png"))
        print(f"  docs/screenshots/{name}.png")

    await framed("portal-light", "light")
    await framed("portal-health", "light", f"/portal/endpoints/{ids['flaky']}/health")
    await framed("portal-dark", "dark", "/portal/messages")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(await link("light"))
    await page.get_by_role("navigation", name="Portal").wait_for()
    await page.wait_for_timeout(400)
    await page.screenshot(path=str(OUT / "portal-narrow.png"))
    print("  docs/screenshots/portal-narrow.png")


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    random.seed(6)
    receiver, runner = await start_receiver()
    vendor, vendor_runner = await start_vendor()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        settings = Settings(
            database_url=f"sqlite:///{tmp}/hookline.db",
            admin_token=TOKEN,
            allowed_networks=("127.0.0.0/8",),
            poll_interval=0.2,
            portal_frame_ancestors=vendor.removesuffix("/"),
        )
        stop = asyncio.Event()
        roles = Roles(api=True, worker=True, port=port)
        task = asyncio.create_task(run(settings, roles, stop=stop, announce=lambda _: None))
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as http:
                await wait_ready(http, base, task)
                api = Api(http, base, TOKEN)
                ids = await seed(api, settings, receiver)
                await wait_delivered(api, ids["ws"])
                await browse(base, ids, api, vendor)
        finally:
            stop.set()
            await task
            await runner.cleanup()
            await vendor_runner.cleanup()


async def wait_ready(http: aiohttp.ClientSession, base: str, task: asyncio.Task[None]) -> None:
    for _ in range(200):
        if task.done():
            await task
        try:
            async with http.get(base + "/healthz") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            await asyncio.sleep(0.05)
    raise RuntimeError("Hookline did not start")


async def browse(base: str, ids: dict[str, str], api: Api, vendor: str) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 860})
            await shoot(await context.new_page(), base, ids)
            portal = await browser.new_context(viewport={"width": 1280, "height": 900})
            await shoot_portal(await portal.new_page(), api, vendor, ids)
        finally:
            await browser.close()


if __name__ == "__main__":
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    asyncio.run(main())
