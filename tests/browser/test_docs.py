"""The API documentation at /docs in real Chromium: Swagger UI renders every operation from
this origin alone, under the page's Content-Security-Policy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from tests.browser.conftest import TIMEOUT_MS, expect
from tests.conftest import Service

pytestmark = pytest.mark.asyncio(loop_scope="session")

# Runs before the page's own scripts (Playwright's init scripts are not subject to the CSP).
_RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest_asyncio.fixture(loop_scope="session")
async def page(service: Service, browser: Any) -> AsyncIterator[Any]:
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = await context.new_page()
        await page.add_init_script(_RECORD_VIOLATIONS)
        yield page
    finally:
        await context.close()


async def test_docs_render_every_operation_from_this_origin(service: Service, page: Any) -> None:
    origin = urlsplit(service.url).netloc
    elsewhere: list[str] = []
    errors: list[str] = []
    page.on(
        "request",
        lambda r: elsewhere.append(r.url) if urlsplit(r.url).netloc != origin else None,
    )
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    await page.goto(service.url + "/docs")
    publish = page.locator(
        '.opblock-post .opblock-summary-path[data-path="/v1/workspaces/{ws}/events"]'
    )
    await expect(publish).to_be_visible()
    assert await page.locator(".opblock").count() > 20

    # 'Try it out' calls the API from the page (connect-src 'self').
    health = page.locator("#operations-health-healthz_healthz_get")
    await health.locator(".opblock-summary").click()
    await health.get_by_role("button", name="Try it out").click()
    await health.get_by_role("button", name="Execute").click()
    answer = health.locator(".live-responses-table tr.response")
    await expect(answer.locator(".response-col_status")).to_have_text("200")
    await expect(answer.locator(".microlight").first).to_contain_text('"status": "ok"')

    assert await page.evaluate("window.cspViolations") == []
    assert errors == []
    assert elsewhere == []
