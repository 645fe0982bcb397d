"""A capture bin's answer, opened in the browser of a signed-in admin, runs no script and sets no
cookie on the dashboard's origin."""

from __future__ import annotations

import time

import pytest

from hookline.settings import Settings
from hookline.store import open_store
from hookline.store.bins import Bin, BinConfig
from tests.browser.conftest import Dashboard, expect

pytestmark = pytest.mark.asyncio(loop_scope="session")

# Were it to run: it renames the page, plants a cookie, reads the dashboard with the visitor's
# session and posts what it read to another bin.
ATTACK = """<!doctype html><title>bin</title><p id="shown">hello</p><script>
document.title = "ran";
document.cookie = "planted=1; path=/";
fetch("/inspector").then(r => r.text()).then(t => fetch("/in/DROP", {method: "POST", body: t}));
</script>"""


async def _stored_bin(dashboard: Dashboard, bin_id: str, config: BinConfig) -> str:
    """A bin put straight into the database, as one created before bins were held to the
    rules of today (so it may carry a Set-Cookie)."""
    store = await open_store(Settings(database_url=dashboard.service.settings.database_url))
    now = time.time()
    try:
        await store.inspector.create_bin(
            Bin(bin_id, dashboard.workspace_id, bin_id, config, 0, now + 600, now)
        )
    finally:
        await store.close()
    return f"{dashboard.url}/in/{bin_id}"


async def test_a_bin_runs_no_script_and_sets_no_cookie(dashboard: Dashboard) -> None:
    page = dashboard.page
    await dashboard.sign_in()
    signed_in = await page.context.cookies()
    assert signed_in
    bins = f"/v1/workspaces/{dashboard.workspace_id}/bins"
    drop = await dashboard.service.ok("POST", bins, token=dashboard.api_key, json={})
    html = {"Content-Type": "text/html"}
    body = ATTACK.replace("DROP", drop["id"])
    attack = await dashboard.service.ok(
        "POST",
        bins,
        token=dashboard.api_key,
        json={"response_body": body, "response_headers": html},
    )
    cookie = {"Set-Cookie": "planted=2; Path=/", **html}
    old = await _stored_bin(
        dashboard, "bin_old", BinConfig(response_headers=cookie, response_body=body)
    )

    for url in (attack["capture_url"], old):
        await page.goto(url)
        await expect(page.locator("#shown")).to_have_text("hello")  # the HTML is shown
        assert await page.title() == "bin"  # but its script never ran
        assert await page.context.cookies() == signed_in
    caught = await dashboard.service.ok("GET", f"{bins}/{drop['id']}", token=dashboard.api_key)
    assert caught["request_count"] == 0
    await page.goto(dashboard.url + "/webhooks")  # the admin's session is untouched
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def test_the_dashboard_chooses_what_a_full_bin_does_and_keeps_to_the_bin_limit(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    await dashboard.sign_in()
    await page.goto(dashboard.url + "/inspector")
    await page.get_by_label("Name").fill("rolling")
    await page.get_by_label("When full").select_option(label="Drop the oldest requests")
    await page.get_by_role("button", name="Create bin").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Bin rolling")
    await expect(page.locator("dl.facts")).to_contain_text("when full: drop the oldest")
    bins = f"/v1/workspaces/{dashboard.workspace_id}/bins"
    [created] = (await dashboard.service.ok("GET", bins, token=dashboard.api_key))["data"]
    assert created["when_full"] == "drop_oldest"

    most = dashboard.service.settings.max_bins_per_workspace
    for _ in range(most - 1):
        await dashboard.service.ok("POST", bins, token=dashboard.api_key, json={})
    await page.goto(dashboard.url + "/inspector")
    await page.get_by_label("Name").fill("one too many")
    await page.get_by_role("button", name="Create bin").click()
    new_bin = page.get_by_role("region", name="New capture bin")
    await expect(new_bin).to_contain_text(f"a workspace has at most {most} bins")
