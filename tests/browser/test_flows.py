"""Flows: export downloads the API's document; importing it (a multipart upload) recreates it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser.conftest import Dashboard, expect
from tests.conftest import Receiver

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_export_then_import_a_flow(dashboard: Dashboard, receiver: Receiver) -> None:
    v1 = f"/v1/workspaces/{dashboard.workspace_id}"
    flow = await dashboard.service.ok("POST", f"{v1}/flows", json={"name": "nightly"})
    hook = await dashboard.service.ok(
        "POST", f"{v1}/webhooks", json={"name": "n1", "url": receiver.url, "flow": flow["id"]}
    )
    page = dashboard.page
    await dashboard.sign_in()
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Flows").click()
    section = page.get_by_role("region", name="nightly")
    await expect(section.get_by_role("link", name="n1")).to_be_visible()
    async with page.expect_download() as info:
        await section.get_by_role("link", name="Export").click()
    download = await info.value
    path = Path(str(await download.path()))
    document = json.loads(path.read_text())
    assert document["hookline"] == "flow-export" and document["webhooks"][0]["name"] == "n1"

    await page.get_by_label("Exported flow file (.json)").set_input_files(str(path))
    await page.get_by_label("Import under another name (optional)").fill("nightly-copy")
    await page.get_by_role("button", name="Import").click()
    # Webhook names are unique in a workspace: the API refuses, and nothing is imported.
    await expect(page.locator(".error").first).to_contain_text("'n1' already exist")
    flows = await dashboard.service.ok("GET", f"{v1}/flows")
    assert [f["name"] for f in flows["data"]] == ["nightly"]

    await dashboard.service.ok("DELETE", f"{v1}/webhooks/{hook['id']}")
    await page.get_by_label("Exported flow file (.json)").set_input_files(str(path))
    await page.get_by_label("Import under another name (optional)").fill("nightly-copy")
    await page.get_by_role("button", name="Import").click()
    await expect(page.get_by_role("status")).to_contain_text("Imported flow nightly-copy")
    await expect(page.get_by_role("region", name="nightly-copy")).to_contain_text("n1")
