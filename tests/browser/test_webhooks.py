"""The main scenario in a real browser: create a webhook through the form, press Test, watch
the delivery reach a real receiver, open the attempt, retry it, and a validation error."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import Dashboard, expect
from tests.conftest import Receiver

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_create_test_inspect_and_retry(dashboard: Dashboard, receiver: Receiver) -> None:
    page = dashboard.page
    await dashboard.sign_in()
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    await page.get_by_role("link", name="Create Webhook").click()

    await page.get_by_label("Name", exact=True).fill("orders")
    await page.get_by_label("Callback URL").fill("ftp://example.com/hooks")
    await page.get_by_label("All events (*)").check()
    await page.get_by_role("button", name="Create", exact=True).click()
    url_field = page.get_by_label("Callback URL")
    await expect(url_field).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#err-url")).to_contain_text("http:// or https://")

    await url_field.fill(receiver.url + "/hooks")
    await page.get_by_label("Max attempts").fill("3")
    await expect(page.locator("#preview")).to_contain_text("POST " + receiver.url + "/hooks")
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("orders")

    await page.get_by_role("button", name="Test").click()
    result = page.locator("#test-result")
    await expect(result.locator(".test-status")).to_have_text("200")
    await expect(result.locator(".test-latency")).to_contain_text("ms")
    await expect(result).to_contain_text("ok")
    arrived = await receiver.wait_for(1)
    assert arrived[0].path == "/hooks"
    assert "X-Hookline-Event-Id" in arrived[0].headers

    await result.get_by_role("link", name="Open this delivery").click()
    attempt = page.locator("details.attempt").first
    await expect(attempt).to_contain_text("HTTP 200")
    await expect(attempt.get_by_role("table", name="Request headers")).to_contain_text(
        "X-Hookline-Event-Type"
    )
    await expect(attempt).to_contain_text('"message": "Test event from Hookline"')

    await page.get_by_role("button", name="Retry now").click()
    await receiver.wait_for(2)
    await expect(page.locator("details.attempt")).to_have_count(2)
    await expect(page.locator(".delivery-status")).to_have_text(re.compile("succeeded"))


async def test_edit_shows_api_errors_beside_fields(
    dashboard: Dashboard, receiver: Receiver
) -> None:
    ws = dashboard.workspace_id
    created = await dashboard.service.ok(
        "POST", f"/v1/workspaces/{ws}/webhooks", json={"name": "billing", "url": receiver.url}
    )
    page = dashboard.page
    await dashboard.sign_in()
    await page.goto(f"{dashboard.url}/webhooks/{created['id']}/edit")
    await page.get_by_label("Payload filter (JSON)").fill("{not json")
    await page.get_by_label("Timeout (seconds)").fill("90")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#err-filter")).to_contain_text("not valid JSON")
    await expect(page.locator("#err-timeout_seconds")).to_contain_text("less than or equal to 30")

    await page.get_by_label("Payload filter (JSON)").fill("")
    await page.get_by_label("Timeout (seconds)").fill("10")
    await page.get_by_label("Callback URL").fill("http://10.1.2.3/hooks")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#err-url")).to_contain_text("10.1.2.3")
    stored = await dashboard.service.ok("GET", f"/v1/workspaces/{ws}/webhooks/{created['id']}")
    assert stored["url"] == receiver.url


async def test_every_problem_shows_on_the_first_submit_and_the_preview_body_is_as_sent(
    dashboard: Dashboard, receiver: Receiver
) -> None:
    ws = dashboard.workspace_id
    example = {"order": {"id": "o-1", "lines": [1, 2]}}
    await dashboard.service.ok(
        "POST", f"/v1/workspaces/{ws}/event-types", json={"name": "order.paid", "example": example}
    )
    page = dashboard.page
    await dashboard.sign_in()
    await page.goto(f"{dashboard.url}/webhooks/new")
    await expect(page.locator("#preview")).to_contain_text("name: must not be empty")
    await expect(page.locator("#preview")).not_to_contain_text("should")

    await page.get_by_label("Callback URL").fill("http://10.1.2.3/hooks")
    await page.get_by_label("Timeout (seconds)").fill("90")
    await page.get_by_label("Other event types or patterns").fill("no.such")
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.locator("#err-name")).to_have_text("must not be empty")
    await expect(page.locator("#err-timeout_seconds")).to_have_text(
        "must be less than or equal to 30"
    )
    await expect(page.locator("#err-url")).to_contain_text("10.1.2.3")
    await expect(page.locator("#err-events")).to_contain_text("'no.such'")

    await page.get_by_label("Name", exact=True).fill("orders")
    await page.get_by_label("Callback URL").fill(receiver.url)
    await page.get_by_label("Timeout (seconds)").fill("10")
    await page.get_by_label("Other event types or patterns").fill("")
    await page.get_by_label("order.paid").check()
    body = page.locator("#preview .preview-body")
    await expect(body).to_have_text('{"order": {"id": "o-1", "lines": [1, 2]}}')


async def test_deleting_a_webhook_asks_first(dashboard: Dashboard, receiver: Receiver) -> None:
    ws = dashboard.workspace_id
    created = await dashboard.service.ok(
        "POST", f"/v1/workspaces/{ws}/webhooks", json={"name": "doomed", "url": receiver.url}
    )
    page = dashboard.page
    await dashboard.sign_in()
    await page.goto(f"{dashboard.url}/webhooks/{created['id']}/edit")
    asked: list[str] = []

    async def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        await dialog.dismiss()

    page.once("dialog", dismiss)
    await page.get_by_role("button", name=re.compile("^Delete")).click()
    await expect(page).to_have_url(re.compile("/edit$"))
    assert asked and "doomed" in asked[0]
    status, _ = await dashboard.service.call("GET", f"/v1/workspaces/{ws}/webhooks/{created['id']}")
    assert status == 200

    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name=re.compile("^Delete")).click()
    await page.wait_for_url(re.compile("/webhooks$"))
    status, _ = await dashboard.service.call("GET", f"/v1/workspaces/{ws}/webhooks/{created['id']}")
    assert status == 404
