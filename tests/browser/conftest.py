"""Real Chromium (Debian's, at /usr/bin/chromium) driving the real service through Playwright.

Without the browser the tests skip with the reason, except under ``CI=true`` where they fail:
CI must run them (``make test`` installs Chromium where it can).

Starting Playwright's driver and Chromium takes seconds, so one browser serves the whole
session: these tests and their fixtures run in the session's event loop (``loop_scope``), and
each test gets a fresh browser context (its own cookies) and a fresh service.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from tests.conftest import IN_CI, Receiver, Service, start_receiver, start_service

if TYPE_CHECKING:  # re-exported for the tests (playwright is a test dependency)
    from playwright.async_api import expect as expect
else:
    try:
        from playwright.async_api import expect
    except ImportError:  # the fixtures then skip, or fail under CI, saying why
        expect = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
TIMEOUT_MS = 10_000


def _missing() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is absent: install Debian's chromium (make test does, as root)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:  # pragma: no cover
        return "playwright is not installed: pip install -e '.[test]'"
    return None


def require_browser() -> None:
    reason = _missing()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"{reason}: CI must run the browser tests")
    pytest.skip(reason)


@dataclass
class Dashboard:
    """The service, a workspace in it, and a browser page."""

    service: Service
    workspace_id: str
    api_key: str
    page: Any

    @property
    def url(self) -> str:
        return self.service.url

    async def sign_in(self, token: str | None = None) -> None:
        """Sign in (as the admin unless a token is given) and open the workspace."""
        page = self.page
        await page.goto(self.url + "/login")
        await page.get_by_label("Admin token or workspace API key").fill(
            token or self.service.admin_token
        )
        await page.get_by_role("button", name="Sign in").click()
        if token is None:
            await page.get_by_role("button", name="Open workspace demo").click()
        await page.wait_for_url(re.compile(r"/webhooks$"))

    async def csrf(self) -> str:
        value = await self.page.locator("input[name=csrf_token]").first.get_attribute("value")
        assert value
        return str(value)


@pytest_asyncio.fixture(loop_scope="session")
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    """The real service with its worker, on SQLite (the dashboard only uses store operations,
    which the contract suite checks on every database)."""
    require_browser()
    svc, stop, task = await start_service(f"sqlite:///{tmp_path}/hookline.db")
    try:
        yield svc
    finally:
        stop.set()
        await task
        await svc.http.close()


@pytest_asyncio.fixture(loop_scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    rec, runner = await start_receiver()
    try:
        yield rec
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def dashboard(service: Service, browser: Any) -> AsyncIterator[Dashboard]:
    workspace_id, api_key = await service.workspace("demo")
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = await context.new_page()
        yield Dashboard(service, workspace_id, api_key, page)
    finally:
        await context.close()
