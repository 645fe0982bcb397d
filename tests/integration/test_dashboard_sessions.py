"""Dashboard sessions: a sign-out holds across restarts and processes, and the session cookie
is one that nothing outside the dashboard can set."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from hookline.runtime.maintenance import Maintenance
from hookline.store import open_store
from tests.integration.dashboard_client import DashboardClient, browserless
from tests.integration.engine_helpers import running_service as running

HOST_COOKIE, PLAIN_COOKIE = "__Host-hookline_session", "hookline_session"


async def test_a_signed_out_session_is_refused_by_other_processes_and_after_a_restart(
    database_url: str,
) -> None:
    async with browserless() as http, running(database_url, worker=False) as other:
        async with running(database_url) as first:
            visitor = DashboardClient(http, first.url)
            assert (await visitor.sign_in(first.admin_token)).location == "/workspace"
            cookie = dict(visitor.cookies)
            copy = DashboardClient(http, other.url, cookies=dict(cookie))
            assert (await copy.get("/workspace")).status == 200  # one session, every process
            page = await visitor.get("/workspace")
            assert (await visitor.post("/logout", {"csrf_token": page.csrf()})).status == 303
            refused = await DashboardClient(http, other.url, cookies=dict(cookie)).get("/workspace")
            assert (refused.status, refused.location) == (303, "/login")
        async with running(database_url) as restarted:
            again = DashboardClient(http, restarted.url, cookies=dict(cookie))
            assert (await again.get("/workspace")).location == "/login"
            # A session that was not signed out still works after the restart.
            fresh = DashboardClient(http, restarted.url)
            await fresh.sign_in(restarted.admin_token)
            async with running(database_url) as restarted_again:
                kept = DashboardClient(http, restarted_again.url, cookies=dict(fresh.cookies))
                assert (await kept.get("/workspace")).status == 200


async def test_maintenance_forgets_sign_outs_once_their_sessions_expire(database_url: str) -> None:
    async with running(database_url, worker=False) as svc:
        store = await open_store(svc.settings)
        try:
            await store.config.revoke_session("sid-expired", 1000.0)
            await store.config.revoke_session("sid-live", 3000.0)
            await Maintenance(store, svc.settings).run_once(2000.0)
            assert await store.config.session_revoked("sid-expired") is False
            assert await store.config.session_revoked("sid-live") is True
        finally:
            await store.close()


async def test_on_a_loopback_host_the_cookie_is_host_only_and_secure(tmp_path: Any) -> None:
    async with browserless() as http, running(f"sqlite:///{tmp_path}/h.db") as svc:
        visitor = DashboardClient(http, svc.url)
        page = await visitor.get("/login")
        cookie = page.cookies[HOST_COOKIE]
        assert cookie["secure"] and cookie["httponly"] and cookie["path"] == "/"
        assert cookie["samesite"].lower() == "lax" and not cookie["domain"]
        assert PLAIN_COOKIE not in page.cookies
        await visitor.sign_in(svc.admin_token)
        assert list(visitor.cookies) == [HOST_COOKIE]
        page = await visitor.get("/workspace")
        out = await visitor.post("/logout", {"csrf_token": page.csrf()})
        deleted = out.cookies[HOST_COOKIE]  # deleted with the attributes it was set with
        assert deleted["max-age"] == "0" and deleted["secure"] and deleted["path"] == "/"
        assert visitor.cookies == {}


async def test_a_session_under_the_plain_name_is_ignored_where_the_host_cookie_is_used(
    tmp_path: Any,
) -> None:
    """A plain-named cookie can be set by a sibling host or a plain-HTTP answer: a secure
    dashboard must not take one for its session."""
    async with browserless() as http, running(f"sqlite:///{tmp_path}/h.db") as svc:
        lan = DashboardClient(http, svc.url, headers={"Host": "hookline.lan:8000"})
        await lan.sign_in(svc.admin_token)
        assert list(lan.cookies) == [PLAIN_COOKIE]
        assert (await lan.get("/workspace")).status == 200
        loopback = DashboardClient(http, svc.url, cookies=dict(lan.cookies))
        assert (await loopback.get("/workspace")).location == "/login"


async def test_plain_http_to_another_host_gets_the_plain_cookie_and_one_warning(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with browserless() as http, running(f"sqlite:///{tmp_path}/h.db") as svc:
        lan = DashboardClient(http, svc.url, headers={"Host": "hookline.lan:8000"})
        with caplog.at_level(logging.WARNING, logger="hookline.dashboard.web"):
            page = await lan.get("/login")
            await lan.get("/login")
        cookie = page.cookies[PLAIN_COOKIE]
        assert not cookie["secure"] and cookie["httponly"] and cookie["path"] == "/"
        warnings = [r for r in caplog.records if "cannot be Secure" in r.getMessage()]
        assert len(warnings) == 1 and "hookline.lan" in warnings[0].getMessage()
