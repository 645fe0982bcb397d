"""Customer-portal links over REST, on a real service with SQLite under ``tmp_path``: each
option and its checks, who may make them, revoking (links and the sessions opened with them),
expired links, the sign-in rate limit, the workspace's theme, the audit log, where a token may
appear (the answer that creates it, nowhere else: not in listings, pages or logs), and the
portal's framing and referrer headers beside the dashboard's."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict

from hookline.domain import keys
from hookline.runtime.logs import JsonFormatter
from tests.conftest import Service, started
from tests.integration.portal_client import link, sign_in, visit

WEEK = 7 * 86400
EXPIRED = "This link has expired"


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    async for svc in started(f"sqlite:///{tmp_path}/hookline.db"):
        yield svc


def _lasts(made: dict[str, Any]) -> int:
    created = datetime.fromisoformat(made["created_at"])
    return round((datetime.fromisoformat(made["expires_at"]) - created).total_seconds())


def _fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body["error"]["errors"]]


async def test_a_link_is_made_with_each_option(service: Service) -> None:
    ws, _ = await service.workspace()
    plain = await link(service, ws)
    assert plain["token"].startswith("hlp_")
    assert plain["url"] == f"{service.url}/portal/#{plain['token']}"
    assert _lasts(plain) == 3600
    assert (plain["read_only"], plain["event_types"], plain["theme"], plain["user"]) == (
        False, None, None, None,
    )  # fmt: skip
    assert plain["feature_flags"] == []
    assert plain["created_by"] == "admin"
    options: dict[str, Any] = {
        "expires_in": 60,
        "read_only": True,
        "event_types": ["invoice.*", "order.paid"],
        "theme": {"product_name": "Acme Hooks", "primary_color": "#00aa55", "mode": "dark"},
        "user": "ann@example.com",
        "feature_flags": ["beta", "eu-only"],
    }
    full = await link(service, ws, **options)
    assert _lasts(full) == 60
    assert (full["read_only"], full["event_types"], full["theme"], full["user"]) == (
        True, options["event_types"], options["theme"], "ann@example.com",
    )  # fmt: skip
    assert full["feature_flags"] == ["beta", "eu-only"]
    longest = await link(service, ws, expires_in=WEEK)
    assert _lasts(longest) == WEEK
    listed = await service.ok("GET", f"/v1/workspaces/{ws}/portal-links")
    assert sorted(k["id"] for k in listed["data"]) == sorted(
        k["id"] for k in (plain, full, longest)
    )
    for shown in listed["data"]:
        assert "token" not in shown and "url" not in shown
    status, text = await _raw(service, f"/v1/workspaces/{ws}/portal-links")
    assert status == 200
    for made in (plain, full, longest):
        assert made["token"] not in text


async def _raw(service: Service, path: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token or service.admin_token}"}
    async with service.http.get(service.url + path, headers=headers) as r:
        return r.status, await r.text()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"expires_in": 59}, ["expires_in"]),
        ({"expires_in": WEEK + 1}, ["expires_in"]),
        ({"event_types": ["order.paid", "not a pattern!"]}, ["event_types.1"]),
        ({"event_types": ["x"] * 201}, ["event_types"]),
        ({"user": ""}, ["user"]),
        ({"feature_flags": ["beta", "not a flag"]}, ["feature_flags.1"]),
        ({"feature_flags": ["", "x" * 257]}, ["feature_flags.0", "feature_flags.1"]),
        ({"feature_flags": ["f"] * 51}, ["feature_flags"]),
        ({"feature_flags": "beta"}, ["feature_flags"]),
        ({"read_only": 0}, ["read_only"]),
        ({"token": "hlp_mine"}, ["token"]),
        ({"theme": {"primary_color": "red"}}, ["theme.primary_color"]),
        ({"theme": {"logo_url": "http://cdn.example.com/logo.png"}}, ["theme.logo_url"]),
        ({"theme": {"font_family": "Inter; background: red"}}, ["theme.font_family"]),
        ({"theme": {"mode": "sepia", "colour": "#fff"}}, ["theme.mode", "theme.colour"]),
        (
            {"expires_in": 10, "event_types": ["a b"], "theme": {"primary_color": "#12"}},
            ["expires_in", "event_types.0", "theme.primary_color"],
        ),
    ],
)
async def test_a_bad_option_is_422_naming_its_field(
    service: Service, body: dict[str, Any], fields: list[str]
) -> None:
    ws, _ = await service.workspace()
    status, answer = await service.call("POST", f"/v1/workspaces/{ws}/portal-links", json=body)
    assert status == 422, answer
    assert sorted(_fields(answer)) == sorted(fields)
    listed = await service.ok("GET", f"/v1/workspaces/{ws}/portal-links")
    assert listed["data"] == []


async def test_who_may_make_revoke_and_read_links(service: Service) -> None:
    ws, own_key = await service.workspace("acme")
    other_ws, other_key = await service.workspace("other")
    operator = await service.ok("POST", "/v1/operator-keys", json={"name": "backend"})
    by_operator = await link(service, ws, token=operator["token"])
    assert by_operator["created_by"] == f"operator key {operator['id']}"
    by_own_key = await link(service, ws, token=own_key)
    assert by_own_key["created_by"].startswith("workspace API key key_")
    for method, path in (
        ("POST", "portal-links"),
        ("GET", "portal-links"),
        ("DELETE", "portal-links"),
        ("GET", "portal-theme"),
        ("PUT", "portal-theme"),
        ("GET", "audit-log"),
    ):
        json: dict[str, Any] | None = {} if method in ("POST", "PUT") else None
        status, body = await service.call(
            method, f"/v1/workspaces/{ws}/{path}", token=other_key, json=json
        )
        assert (status, body["error"]["code"]) == (403, "wrong_workspace"), (method, path)
        status, _ = await service.call(method, f"/v1/workspaces/{ws}/{path}", token="nope")
        assert status == 401
    assert len((await service.ok("GET", f"/v1/workspaces/{ws}/portal-links"))["data"]) == 2
    status, _ = await service.call("POST", "/v1/workspaces/ws_missing/portal-links", json={})
    assert status == 404
    assert (await service.ok("GET", f"/v1/workspaces/{other_ws}/portal-links"))["data"] == []


async def test_revoking_ends_every_link_and_every_session_opened_with_one(
    service: Service,
) -> None:
    ws, _ = await service.workspace()
    first, second = await link(service, ws), await link(service, ws)
    opened = await sign_in(service, first["token"])
    assert opened.status == 200
    session = opened.session()
    assert (await visit(service, "GET", "/portal/endpoints", session)).status == 200
    await service.ok("DELETE", f"/v1/workspaces/{ws}/portal-links")
    after = await visit(service, "GET", "/portal/endpoints", session)
    assert after.status == 401
    assert EXPIRED in after.text
    assert after.headers["HX-Retarget"] == "#portal"
    for made in (first, second):
        again = await sign_in(service, made["token"])
        assert (again.status, EXPIRED in again.text) == (401, True)
    assert (await service.ok("GET", f"/v1/workspaces/{ws}/portal-links"))["data"] == []
    fresh = await link(service, ws)
    assert (await sign_in(service, fresh["token"])).status == 200


def _database(service: Service) -> str:
    return service.settings.database_url.removeprefix("sqlite:///")


async def test_an_expired_link_opens_nothing(service: Service) -> None:
    """A link past its ``expires_at``, written straight into the database (no clock to move in
    a running service): it neither signs in nor is listed."""
    ws, _ = await service.workspace()
    token = keys.new_token("hlp_")
    with closing(sqlite3.connect(_database(service), isolation_level=None)) as db:
        db.execute(
            "INSERT INTO portal_links (id, workspace_id, token_hash, created_at, expires_at,"
            " read_only, created_by) VALUES (?, ?, ?, ?, ?, 0, 'admin')",
            ("pl_expired", ws, keys.hash_token(token), time.time() - 120, time.time() - 1),
        )
    gone = await sign_in(service, token)
    assert (gone.status, EXPIRED in gone.text) == (401, True)
    assert (await service.ok("GET", f"/v1/workspaces/{ws}/portal-links"))["data"] == []


async def test_sign_in_is_refused_to_an_address_after_twenty_failures(service: Service) -> None:
    ws, _ = await service.workspace()
    good = await link(service, ws)
    for n in range(20):
        failed = await sign_in(service, f"hlp_guess{n}" if n % 2 else None)
        assert failed.status == 401, n
    refused = await sign_in(service, "hlp_guess20")
    assert refused.status == 429
    assert "Too many attempts" in refused.text
    assert (await sign_in(service, good["token"])).status == 429, "whatever the address sends"


async def test_the_workspace_theme_is_set_checked_and_drawn_under_a_link_s_own(
    service: Service,
) -> None:
    ws, key = await service.workspace()
    path = f"/v1/workspaces/{ws}/portal-theme"
    assert await service.ok("GET", path) == {}
    theme = {"product_name": "Acme Hooks", "primary_color": "#ff0000", "show_powered_by": True}
    assert await service.ok("PUT", path, json=theme, token=key) == theme
    assert await service.ok("GET", path) == theme
    status, body = await service.call(
        "PUT", path, json={"primary_color": "blue", "logo_url": "javascript:alert(1)"}
    )
    assert status == 422
    assert sorted(_fields(body)) == ["logo_url", "primary_color"]
    assert await service.ok("GET", path) == theme, "a refused theme changes nothing"
    made = await link(service, ws, theme={"primary_color": "#00ff00", "mode": "dark"})
    page = (await sign_in(service, made["token"])).text
    assert 'data-primary="#00ff00"' in page and 'data-mode="dark"' in page
    assert "Acme Hooks" in page and "Powered by Hookline" in page
    assert await service.ok("PUT", path, json={}) == {}
    page = (await sign_in(service, (await link(service, ws))["token"])).text
    assert 'data-primary="#2563eb"' in page and "Acme Hooks" not in page
    assert "Powered by Hookline" not in page and ">Webhooks<" in page


async def test_the_audit_log_names_who_made_and_revoked_links_and_pages_back(
    service: Service,
) -> None:
    ws, key = await service.workspace()
    operator = await service.ok("POST", "/v1/operator-keys", json={"name": "backend"})
    by_admin = await link(service, ws)
    by_operator = await link(service, ws, token=operator["token"])
    by_key = await link(service, ws, token=key, user="ann@example.com", feature_flags=["beta"])
    await sign_in(service, by_key["token"])
    await service.ok("DELETE", f"/v1/workspaces/{ws}/portal-links", token=operator["token"])
    log = await service.ok("GET", f"/v1/workspaces/{ws}/audit-log")
    assert log["next_cursor"] is None
    seen = [(e["action"], e["actor"], e["link_id"]) for e in log["data"]]
    key_actor = by_key["created_by"]
    assert seen == [
        ("portal_links.revoked", f"operator key {operator['id']}", None),
        ("portal.opened", "ann@example.com", by_key["id"]),
        ("portal_link.created", key_actor, by_key["id"]),
        ("portal_link.created", f"operator key {operator['id']}", by_operator["id"]),
        ("portal_link.created", "admin", by_admin["id"]),
    ]
    assert log["data"][0]["detail"] == {"links": 3}
    assert log["data"][2]["detail"]["read_only"] is False
    assert log["data"][2]["detail"]["feature_flags"] == ["beta"]
    assert "feature_flags" not in log["data"][4]["detail"]
    pages, cursor = [], ""
    while True:
        query = f"?limit=2&before={cursor}" if cursor else "?limit=2"
        page = await service.ok("GET", f"/v1/workspaces/{ws}/audit-log{query}")
        pages.append([e["id"] for e in page["data"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [
        [e["id"] for e in log["data"][:2]],
        [e["id"] for e in log["data"][2:4]],
        [log["data"][4]["id"]],
    ]
    for bad in ("?limit=0", "?limit=501"):
        status, _ = await service.call("GET", f"/v1/workspaces/{ws}/audit-log{bad}")
        assert status == 422


async def test_a_token_appears_in_its_creating_answer_only(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ws, _ = await service.workspace()
    made = await link(service, ws, user="ann@example.com")
    token = made["token"]
    opened = await sign_in(service, token)
    assert token not in opened.text
    session = opened.session()
    answers = [opened.text, (await visit(service, "GET", "/portal/endpoints", session)).text]
    for path in ("portal-links", "audit-log", "portal-theme"):
        answers.append((await _raw(service, f"/v1/workspaces/{ws}/{path}"))[1])
    await sign_in(service, token + "x")  # a failed sign-in with most of it
    await service.ok("DELETE", f"/v1/workspaces/{ws}/portal-links")
    answers.append((await sign_in(service, token)).text)
    for answer in answers:
        assert token not in answer and token[4:] not in answer
    formatter = JsonFormatter()
    logged = [formatter.format(record) for record in caplog.records]
    assert logged, "the service logged nothing at DEBUG: this test would prove nothing"
    assert not [line for line in logged if token[4:] in line]


async def test_portal_pages_may_be_framed_by_the_configured_origins_only(
    tmp_path: Path,
) -> None:
    ancestors = "https://app.example.com https://*.example.com"
    url = f"sqlite:///{tmp_path}/hookline.db"
    async for svc in started(url, portal_frame_ancestors=ancestors):
        ws, _ = await svc.workspace()
        made = await link(svc, ws)
        opened = await sign_in(svc, made["token"])
        session = opened.session()
        async with svc.http.get(svc.url + "/portal/") as r:
            shell = CIMultiDict(r.headers)
        answers = [shell, opened.headers, (await sign_in(svc, "hlp_unknown")).headers]
        answers.append((await visit(svc, "GET", "/portal/endpoints", session)).headers)
        for headers in answers:
            assert f"frame-ancestors {ancestors}" in headers["Content-Security-Policy"]
            assert headers["Referrer-Policy"] == "no-referrer"
            assert "X-Frame-Options" not in headers
        async with svc.http.get(svc.url + "/login") as r:
            dashboard = CIMultiDict(r.headers)
        assert "frame-ancestors 'none'" in dashboard["Content-Security-Policy"]
        assert dashboard["X-Frame-Options"] == "DENY"


async def test_without_configured_origins_the_portal_may_not_be_framed(service: Service) -> None:
    async with service.http.get(service.url + "/portal/") as r:
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


async def test_a_mangled_session_or_token_is_the_expired_page_not_an_error(
    service: Service,
) -> None:
    ws, _ = await service.workspace()
    session = (await sign_in(service, (await link(service, ws))["token"])).session()
    forged = session | {"X-Portal-Session": session["X-Portal-Session"][:-4] + "é"}
    for headers in (forged, {"X-Portal-Session": "p1.é.é", "HX-Request": "true"}):
        gone = await visit(service, "GET", "/portal/endpoints", headers)
        assert (gone.status, EXPIRED in gone.text) == (401, True)
    mangled = session | {"X-CSRF-Token": "é" * 64}
    refused = await visit(service, "POST", "/portal/endpoints", mangled, data={"url": "x"})
    assert refused.status == 403
    assert (await sign_in(service, "hlp_é")).status == 401


async def test_a_link_opens_the_portal_and_nothing_else(service: Service) -> None:
    """Single-purpose: neither a link's token nor a portal session is a key of the REST API,
    the Svix-compatible API or the dashboard."""
    ws, _ = await service.workspace()
    token = (await link(service, ws))["token"]
    session = (await sign_in(service, token)).session()
    for path in (f"/v1/workspaces/{ws}/webhooks", "/v1/workspaces", f"/api/v1/app/{ws}/endpoint"):
        assert (await _raw(service, path, token))[0] == 401, path
        async with service.http.get(service.url + path, headers=session) as r:
            assert r.status == 401, path
    async with service.http.post(
        service.url + "/login", data={"token": token}, allow_redirects=False
    ) as r:
        assert r.status in (401, 403)
    async with service.http.get(
        service.url + "/webhooks", headers=session, allow_redirects=False
    ) as r:
        assert r.headers.get("HX-Redirect") == "/login"  # htmx asked: sent to sign in
