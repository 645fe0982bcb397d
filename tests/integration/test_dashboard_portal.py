"""The dashboard's customer portal page over plain HTTP: a link made there opens the portal,
revoking every link ends it, the theme form saves through the same checks as the REST API
(every problem beside its field) and the portal is drawn with it, and the audit log lists what
was done, newest first, a page at a time."""

from __future__ import annotations

import html
import re

from hookline.dashboard.portal_pages import AUDIT_PAGE
from tests.conftest import Service
from tests.integration import portal_client
from tests.integration.dashboard_client import DashboardClient, browserless

_LINK = re.compile(r'<code id="portal-link" class="secret">([^<]+)</code>')
_OPEN = re.compile(r'<a class="button primary" href="([^"]+)" target="_blank"')
_FIELD_ERROR = re.compile(r'<p class="error" id="err-(\w+)">(.*?)</p>', re.DOTALL)
_AUDIT_ROW = re.compile(r"<td><code>(pl_\w+)</code></td>\s*<td><code>(portal[\w.]*)</code></td>")
_ACTION = re.compile(r"<td><code>(portal[\w.]*)</code></td>")
_OLDER = re.compile(r'href="/portal-admin\?before=([^"#]+)#audit">Older</a>')


def _audit(page: str) -> list[str]:
    """The actions of the audit log's rows, top to bottom."""
    return _ACTION.findall(page.partition('id="audit"')[2])


def _audited_links(page: str) -> list[str]:
    """The link of each audit row that names one."""
    return [link for link, _ in _AUDIT_ROW.findall(page.partition('id="audit"')[2])]


def _errors(page: str) -> dict[str, str]:
    return {name: html.unescape(text) for name, text in _FIELD_ERROR.findall(page)}


def _theme_form(csrf: str, **fields: str) -> dict[str, str]:
    """A submission of the theme form: every field blank (the picker at the default) unless
    given; ``show_powered_by`` only when given, as a browser sends an unchecked box."""
    blank = dict.fromkeys(("product_name", "logo_url", "primary_color", "font_family"), "")
    form = blank | {"primary_color_was": "", "primary_color_picker": "#2563eb", "mode": "light"}
    return {"csrf_token": csrf} | form | fields


async def _admin_in(visitor: DashboardClient, service: Service, ws: str) -> None:
    await visitor.sign_in(service.admin_token)
    page = await visitor.get("/workspace")
    chosen = await visitor.post("/workspace", {"csrf_token": page.csrf(), "workspace_id": ws})
    assert chosen.location == "/webhooks"


async def test_a_link_made_on_the_page_opens_the_portal_until_every_link_is_revoked(
    service: Service,
) -> None:
    ws, key = await service.workspace("portal")
    v1 = f"/v1/workspaces/{ws}"
    async with browserless() as http:
        visitor = DashboardClient(http, service.url)
        await visitor.sign_in(key)
        page = await visitor.get("/portal-admin")
        assert page.status == 200 and "No live links." in page.text
        assert 'href="/portal-admin" aria-current="page">Customer portal' in page.text
        form = {"csrf_token": page.csrf(), "expires_in": "86400", "user": "ana@example.com"}

        assert (await visitor.post("/portal-admin/links", form | {"csrf_token": "x"})).status == 403
        refused = await visitor.post("/portal-admin/links", form | {"expires_in": "5"})
        assert refused.status == 422
        assert _errors(refused.text)["expires_in"].startswith("60 to 604800 seconds")
        bad = {"event_types": "invoice.*, not a type", "feature_flags": "beta, no way"}
        refused = await visitor.post("/portal-admin/links", form | bad)
        assert refused.status == 422
        assert set(_errors(refused.text)) == {"event_types", "feature_flags"}
        limited = await visitor.post(
            "/portal-admin/links",
            form | {"event_types": "invoice.*, order.created", "feature_flags": "beta"},
        )
        assert limited.status == 200, limited.text[:500]
        made_limited = (await service.ok("GET", f"{v1}/portal-links"))["data"]
        assert [(k["event_types"], k["feature_flags"]) for k in made_limited] == [
            (["invoice.*", "order.created"], ["beta"])
        ]
        await service.ok("DELETE", f"{v1}/portal-links")

        made = await visitor.post("/portal-admin/links", form)
        assert made.status == 200, made.text[:500]
        found = _LINK.search(made.text)
        assert found is not None, made.text[:2000]
        url = html.unescape(found.group(1))
        base, _, token = url.partition("#")
        assert base == f"{service.url}/portal/" and token.startswith("hlp_")
        opener = _OPEN.search(made.text)
        assert opener is not None and html.unescape(opener.group(1)) == url

        listed = (await service.ok("GET", f"{v1}/portal-links"))["data"]
        assert [(k["user"], k["read_only"]) for k in listed] == [("ana@example.com", False)]
        assert listed[0]["event_types"] is None and listed[0]["feature_flags"] == []
        shown = await visitor.get("/portal-admin")
        assert token not in shown.text and "ana@example.com" in shown.text
        assert "workspace API key" in shown.text  # created by, as the REST API names the key

        opened = await portal_client.sign_in(service, token)
        assert opened.status == 200
        session = opened.session()
        listing = await portal_client.visit(service, "GET", "/portal/endpoints", session)
        assert listing.status == 200

        revoked = await visitor.post("/portal-admin/revoke", {"csrf_token": shown.csrf()})
        assert revoked.location == "/portal-admin?done=revoked#links"
        gone = await portal_client.visit(service, "GET", "/portal/endpoints", session)
        assert gone.status == 401
        assert (await portal_client.sign_in(service, token)).status == 401
        after = await visitor.get(revoked.location)
        assert "Every link was revoked" in after.text and "No live links." in after.text
        actions = _audit(after.text)
        assert actions == [
            "portal_links.revoked", "portal.opened", "portal_link.created",
            "portal_links.revoked", "portal_link.created",
        ]  # fmt: skip


async def test_the_theme_form_shows_every_problem_then_saves_what_the_portal_draws(
    service: Service,
) -> None:
    ws, _ = await service.workspace("themed")
    theme_url = f"/v1/workspaces/{ws}/portal-theme"
    async with browserless() as http:
        visitor = DashboardClient(http, service.url)
        await _admin_in(visitor, service, ws)
        csrf = (await visitor.get("/portal-admin")).csrf()

        refused = await visitor.post(
            "/portal-admin/theme",
            _theme_form(csrf, product_name="Acme", primary_color="blue", logo_url="http://x/l"),
        )
        assert refused.status == 422
        errors = _errors(refused.text)
        assert errors["primary_color"] == "a hex colour such as #2563eb"
        assert errors["logo_url"].startswith("an https:// URL of an image")
        assert 'value="Acme"' in refused.text  # the form as it was typed
        assert await service.ok("GET", theme_url) == {}

        chosen = _theme_form(
            csrf,
            product_name="Acme hooks",
            primary_color_picker="#FF0000",
            mode="dark",
            font_family="Inter, sans-serif",
            show_powered_by="on",
        )
        saved = await visitor.post("/portal-admin/theme", chosen)
        assert saved.location == "/portal-admin?done=theme#theme"
        assert await service.ok("GET", theme_url) == {
            "product_name": "Acme hooks",
            "primary_color": "#ff0000",
            "mode": "dark",
            "font_family": "Inter, sans-serif",
            "show_powered_by": True,
        }
        page = await visitor.get(saved.location)
        assert "The portal theme was saved." in page.text
        assert 'name="primary_color_was" value="#ff0000"' in page.text

        link = await portal_client.link(service, ws)
        opened = await portal_client.sign_in(service, link["token"])
        assert 'data-primary="#ff0000" data-mode="dark"' in opened.text
        assert "Acme hooks" in opened.text and "Powered by Hookline" in opened.text

        # Clearing the typed colour returns it to the default, whatever the picker shows.
        cleared = _theme_form(
            page.csrf(), primary_color_was="#ff0000", primary_color_picker="#ff0000"
        )
        assert (await visitor.post("/portal-admin/theme", cleared)).status == 303
        assert await service.ok("GET", theme_url) == {"mode": "light"}
        audit = await visitor.get("/portal-admin")
        assert _audit(audit.text) == ["portal.opened", "portal_link.created"]
        assert "<td>admin</td>" in audit.text


async def test_the_audit_log_pages_back_with_older(service: Service) -> None:
    ws, key = await service.workspace("busy")
    made = [await portal_client.link(service, ws, token=key) for _ in range(AUDIT_PAGE + 1)]
    async with browserless() as http:
        visitor = DashboardClient(http, service.url)
        await visitor.sign_in(key)
        newest = await visitor.get("/portal-admin")
        ids = [link["id"] for link in reversed(made)]
        assert _audited_links(newest.text) == ids[:AUDIT_PAGE]
        older = _OLDER.search(newest.text)
        assert older is not None
        second = await visitor.get(f"/portal-admin?before={older.group(1)}")
        assert second.status == 200 and _audited_links(second.text) == ids[AUDIT_PAGE:]
        assert (
            _OLDER.search(second.text) is None
            and 'href="/portal-admin#audit">Newest' in second.text
        )
