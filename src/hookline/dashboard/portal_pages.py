"""The customer portal as its operator manages it: a link that opens the portal as the
workspace's customer sees it, the live links and revoking them all, the workspace's portal
theme, and the audit log of everything done through the portal and to its links.

Each acts through ``hookline.services.portal``, as the REST routes do, so an admin session and a
workspace API key session reach the same as their tokens do over REST. The page lives at
``/portal-admin``: every ``/portal/…`` path is the customer portal's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from hookline.dashboard.forms import Form, read_form
from hookline.dashboard.portal_theme_form import MODES, theme_body, values_from_form
from hookline.dashboard.portal_theme_form import values_from_theme as theme_values
from hookline.dashboard.web import PageRoute, Visitor, redirect, visitor
from hookline.dashboard.webhook_form import api_error, split_list
from hookline.domain import portal_themes
from hookline.domain.destinations import BROKER_KINDS
from hookline.domain.models import AuditEntry
from hookline.domain.portal_access import LinkDraft
from hookline.errors import ApiError, ValidationFailed
from hookline.services import operators, portal
from hookline.services.workspaces import Principal

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Visitor, Depends(visitor)]
PATH = "/portal-admin"
EXPIRY_CHOICES = (("3600", "1 hour"), ("86400", "1 day"), ("604800", "7 days"))
AUDIT_PAGE = 50
_NOTICES = {
    "revoked": "Every link was revoked: the portal sessions opened with them have ended.",
    "theme": "The portal theme was saved.",
}
_THEME_DEFAULTS = {
    "product_name": portal_themes.DEFAULT_NAME,
    "primary_color": portal_themes.DEFAULT_PRIMARY,
    "font_family": portal_themes.DEFAULT_FONTS,
}


@dataclass(frozen=True)
class MadeLink:
    """A link just made: its URL (holding the token) is shown this once."""

    url: str
    expires_at: float
    read_only: bool


@router.get(PATH)
async def page(who: Who, before: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    notice = _NOTICES.get(who.request.query_params.get("done", ""))
    return await _page(who, before=before, notice=notice)


_LINK_FIELDS = ("expires_in", "user", "event_types", "feature_flags")


@router.post(f"{PATH}/links")
async def create_link(who: Who) -> Response:
    """A link for this workspace, shown once on the page answered."""
    form = await read_form(who.request)
    values: dict[str, Any] = {name: form.get(name) for name in _LINK_FIELDS}
    values["read_only"] = "on" if form.has("read_only") else ""
    values["destination_kinds"] = form.getlist("destination_kinds")
    try:
        draft = _draft(form)
        made, token = await portal.create_link(who.state.store, who.ws, draft, await _actor(who))
    except ApiError as exc:
        return await _page(who, exc.status, link_values=values, link_errors=api_error(exc))
    base = portal.portal_base(who.state.settings.public_url, str(who.request.base_url))
    shown = MadeLink(portal.portal_url(base, token), made.expires_at, made.read_only)
    return await _page(who, made=shown, link_values=values)


@router.post(f"{PATH}/revoke")
async def revoke(who: Who) -> Response:
    """Revoke every link of the workspace, and so every portal session opened with one."""
    await portal.revoke_links(who.state.store, who.ws, await _actor(who))
    return redirect(who.request, f"{PATH}?done=revoked#links")


@router.post(f"{PATH}/theme")
async def save_theme(who: Who) -> Response:
    values = values_from_form(await read_form(who.request))
    try:
        await portal.put_theme(who.state.deps, who.ws, theme_body(values))
    except ApiError as exc:
        return await _page(who, exc.status, theme=values, theme_errors=api_error(exc))
    return redirect(who.request, f"{PATH}?done=theme#theme")


async def _page(who: Visitor, status: int = 200, **shown: Any) -> Response:
    """The whole page; ``shown`` replaces parts of it (a form as submitted, its errors)."""
    deps, before = who.state.deps, shown.pop("before", None)
    entries = await portal.audit_page(deps, who.ws, AUDIT_PAGE + 1, before)
    listed = entries[:AUDIT_PAGE]
    context: dict[str, Any] = {
        "links": await portal.live_links(deps, who.ws),
        "made": None,
        "link_values": dict.fromkeys((*_LINK_FIELDS, "read_only"), "")
        | {"expires_in": EXPIRY_CHOICES[0][0], "destination_kinds": []},
        "broker_kinds": BROKER_KINDS,
        "link_errors": {},
        "expiry_choices": EXPIRY_CHOICES,
        "theme": theme_values(await portal.get_theme(deps, who.ws)),
        "theme_errors": {},
        "theme_defaults": _THEME_DEFAULTS,
        "modes": MODES,
        "audit": [(entry, detail_text(entry)) for entry in listed],
        "older": listed[-1].id if len(entries) > AUDIT_PAGE else None,
        "paged": before is not None,
        "notice": None,
        "nav": "portal",
    }
    return who.page("portal_admin.html", status, **(context | shown))


def _draft(form: Form) -> LinkDraft:
    try:
        expires_in = int(form.get("expires_in"))
    except ValueError:
        message = "expires_in: choose how long the link lasts"
        raise ValidationFailed(message, field="expires_in") from None
    user = form.get("user").strip()
    types = split_list(form.get("event_types"))
    return LinkDraft(
        expires_in,
        form.has("read_only"),
        event_types=types or None,
        user=user or None,
        feature_flags=split_list(form.get("feature_flags")),
        destination_kinds=form.getlist("destination_kinds"),
    )


async def _actor(who: Visitor) -> str:
    """How the audit log names the signed-in visitor: as the REST API names the token it signed
    in with (the admin, an operator key, the workspace's API key)."""
    session, deps = who.session, who.state.deps
    operator_key = None
    if session.admin and session.key_hash is not None:
        operator_key = await operators.find_operator_key(deps, session.key_hash)
    principal = Principal(
        admin=session.admin,
        workspace_id=None if session.admin else session.workspace_id,
        key_hash=session.key_hash,
        operator_key_id=None if operator_key is None else operator_key.id,
    )
    return await portal.actor_of(deps, principal)


def detail_text(entry: AuditEntry) -> str:
    """An audit entry's detail as one line of JSON (empty when it has none)."""
    return "" if not entry.detail else orjson.dumps(entry.detail).decode()
