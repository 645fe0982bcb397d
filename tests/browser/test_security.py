"""Sessions and forms: CSRF tokens, the session cookie, sign-out, rate-limited sign-in."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Dashboard, expect

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_post_without_csrf_token_is_refused(dashboard: Dashboard) -> None:
    await dashboard.sign_in()
    request = dashboard.page.request
    form = {"name": "sneaky", "url": "https://example.com/", "events": "*", "ordering": "none"}
    refused = await request.post(dashboard.url + "/webhooks/new", form=form, max_redirects=0)
    assert refused.status == 403
    forged = await request.post(
        dashboard.url + "/webhooks/new", form=form | {"csrf_token": "0" * 64}, max_redirects=0
    )
    assert forged.status == 403
    token = await dashboard.csrf()
    accepted = await request.post(
        dashboard.url + "/webhooks/new", form=form | {"csrf_token": token}, max_redirects=0
    )
    assert accepted.status == 303
    hooks = await dashboard.service.ok("GET", f"/v1/workspaces/{dashboard.workspace_id}/webhooks")
    assert [h["name"] for h in hooks["data"]] == ["sneaky"]


async def test_session_cookie_and_sign_out(dashboard: Dashboard) -> None:
    page = dashboard.page
    await dashboard.sign_in(dashboard.api_key)
    (cookie,) = await page.context.cookies()
    # http://127.0.0.1 is a secure context: the cookie is Secure and host-only.
    assert cookie["name"] == "__Host-hookline_session" and cookie["secure"]
    assert cookie["path"] == "/" and cookie["domain"] == "127.0.0.1"
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert dashboard.api_key not in cookie["value"]
    assert "hlk_" not in cookie["value"]

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(re.compile(r"/login$"))
    await page.goto(dashboard.url + "/webhooks")
    await expect(page).to_have_url(re.compile(r"/login$"))
    # A copy of the signed-out cookie does not sign anybody in again.
    await page.context.add_cookies([cookie])
    await page.goto(dashboard.url + "/webhooks")
    await expect(page).to_have_url(re.compile(r"/login$"))


async def test_revoked_key_ends_the_session(dashboard: Dashboard) -> None:
    page = dashboard.page
    ws = dashboard.workspace_id
    await dashboard.sign_in(dashboard.api_key)
    keys = await dashboard.service.ok("GET", f"/v1/workspaces/{ws}/api-keys")
    await dashboard.service.ok("DELETE", f"/v1/workspaces/{ws}/api-keys/{keys['data'][0]['id']}")
    await page.goto(dashboard.url + "/webhooks")
    await expect(page).to_have_url(re.compile(r"/login$"))


async def test_sign_in_attempts_are_rate_limited(dashboard: Dashboard) -> None:
    page = dashboard.page
    await page.goto(dashboard.url + "/login")
    field = page.get_by_label("Admin token or workspace API key")
    for _ in range(10):
        await field.fill("hla_wrong")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("#err-token")).to_have_text("Unknown or revoked token.")
    await field.fill(dashboard.service.admin_token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#err-token")).to_contain_text("Too many sign-in attempts")
