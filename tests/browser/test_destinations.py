"""A RabbitMQ action created through the webhook form in a real browser: choosing the kind
shows its settings in place of the HTTP ones, the preview follows, and the list names the
destination without its password."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Dashboard, expect

pytestmark = pytest.mark.asyncio(loop_scope="session")

PASSWORD = "pw-s3cret-rabbit"


async def test_a_rabbitmq_action_is_created_through_the_form(dashboard: Dashboard) -> None:
    page = dashboard.page
    await dashboard.sign_in()
    await page.get_by_role("link", name="Create Webhook").click()
    await page.get_by_label("Name", exact=True).fill("to-rabbit")
    rabbit_url = page.get_by_label("RabbitMQ URL")
    await expect(rabbit_url).to_be_hidden()

    await page.get_by_label("Destination", exact=True).select_option("rabbitmq")
    await expect(page.get_by_label("Callback URL")).to_be_hidden()
    await rabbit_url.fill(f"amqp://hook:{PASSWORD}@127.0.0.1:5672/%2F")
    await page.get_by_label("Exchange", exact=True).fill("events")
    await page.get_by_label("All events (*)").check()
    await expect(page.locator("#preview")).to_contain_text(
        "PUBLISH amqp://hook@127.0.0.1:5672/%2F?exchange=events"
    )
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("to-rabbit")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    row = page.get_by_role("row").filter(has_text="to-rabbit")
    await expect(row).to_contain_text("rabbitmq")
    await expect(row).to_contain_text("amqp://hook@127.0.0.1:5672/%2F?exchange=events")
    assert PASSWORD not in await page.content()
