"""Customer portal links, the workspace's portal theme and its audit log over REST: the adapter
of ``hookline.services.portal``. The admin token, an operator key, or the workspace's own API
key may use them (a vendor's backend makes a link per customer visit)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from hookline.api.auth import Auth, WorkspaceId
from hookline.api.state import State
from hookline.services import portal
from hookline.wire.portal_schemas import (
    AuditEntryOut,
    AuditPageOut,
    PortalLinkCreated,
    PortalLinkIn,
    PortalLinkOut,
)
from hookline.wire.schemas import ListOut

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["customer portal"])


@router.post("/portal-links", status_code=status.HTTP_201_CREATED)
async def create_portal_link(
    ws: WorkspaceId, body: PortalLinkIn, request: Request, state: State, who: Auth
) -> PortalLinkCreated:
    """A link that opens the customer portal for this workspace, and only this one, until it
    expires; its ``url`` and ``token`` are in this answer only."""
    actor = await portal.actor_of(state.deps, who)
    link, token = await portal.create_link(state.store, ws, body.draft(), actor)
    base = portal.portal_base(state.settings.public_url, str(request.base_url))
    url = portal.portal_url(base, token)
    return PortalLinkCreated.made(link, url, token)


@router.get("/portal-links", response_model=ListOut)
async def list_portal_links(ws: WorkspaceId, state: State) -> ListOut:
    """The workspace's live links (never a token)."""
    return ListOut(data=[PortalLinkOut.of(k) for k in await portal.live_links(state.deps, ws)])


@router.delete("/portal-links", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_portal_links(ws: WorkspaceId, state: State, who: Auth) -> Response:
    """Revoke every link of the workspace and every portal session opened with one, at once."""
    await portal.revoke_links(state.store, ws, await portal.actor_of(state.deps, who))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/portal-theme")
async def get_portal_theme(ws: WorkspaceId, state: State) -> dict[str, Any]:
    """The workspace's portal theme (the fields it sets; a link's theme overrides them)."""
    return await portal.get_theme(state.deps, ws)


@router.put("/portal-theme")
async def put_portal_theme(ws: WorkspaceId, body: dict[str, Any], state: State) -> dict[str, Any]:
    """Replace the workspace's portal theme: ``product_name``, ``logo_url`` (https or a
    ``data:image`` URL), ``primary_color`` (#rrggbb), ``mode`` (light|dark), ``font_family``,
    ``show_powered_by``; ``{}`` returns to the defaults."""
    return await portal.put_theme(state.deps, ws, body)


@router.get("/audit-log")
async def audit_log(
    ws: WorkspaceId,
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[str | None, Query(max_length=64)] = None,
) -> AuditPageOut:
    """What was done through the customer portal and to its links, newest first: who, which
    link, what, when."""
    entries = await portal.audit_page(state.deps, ws, limit + 1, before)
    more = len(entries) > limit
    page = entries[:limit]
    cursor = page[-1].id if more and page else None
    return AuditPageOut(data=[AuditEntryOut.of(e) for e in page], next_cursor=cursor)
