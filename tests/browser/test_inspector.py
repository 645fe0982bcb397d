"""The inspector page: a capture bin's requests arrive live, and can be verified."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Dashboard, expect

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_captured_requests_arrive_live(dashboard: Dashboard) -> None:
    page = dashboard.page
    await dashboard.sign_in()
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Inspector").click()
    await page.get_by_label("Name").fill("sink")
    await page.get_by_role("button", name="Create bin").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Bin sink")
    capture_url = await page.locator("code.url").inner_text()
    assert re.search(r"/in/bin_\w+$", capture_url)

    async with dashboard.service.http.post(capture_url + "/orders", json={"id": 7}) as answer:
        assert answer.status == 200
    captured = page.locator("#requests details.captured")
    await expect(captured).to_have_count(1)  # polled in, no reload
    await captured.locator("summary").click()
    await expect(captured).to_contain_text('"id": 7')
    await captured.get_by_label("Secret").fill("whsec_" + "A" * 32)
    await captured.get_by_role("button", name="Verify").click()
    await expect(captured.locator("[id^=verify-]")).to_contain_text("Invalid")
