"""The customer portal's links, sessions, themes and audit log: what a vendor's backend asks for
and what every portal request is checked against.

A vendor (the admin, an operator key, or the workspace's own API key) makes a **link** for one
workspace: a single-purpose ``hlp_`` token, stored as its SHA-256 hash, valid for
``expires_in`` seconds (at most 7 days), optionally read-only, optionally limited to some event
types, optionally with **feature flags** (a catalog entry that has feature flags is shown to,
and may be subscribed to by, only a link with one of them, as Svix's portal does; an entry
without flags is not affected), optionally allowing broker destinations (``destination_kinds``:
the customer then sees and creates endpoints of those kinds besides HTTP ones), optionally
themed. The customer's browser exchanges the token
once for a **session** (``hookline.portal.sessions``: signed, carried in the page, no cookie)
naming the link; every later request finds the link again by its id, so revoking the
workspace's links (``revoke_links``) ends every session opened with them at their next request,
in every process.

Everything done through the portal, and the links made and revoked, is written to the
workspace's **audit log** (who, which link, what, when), which the operator lists.

What a link may be and what its customer may see and do are pure rules, in
``hookline.domain.portal_access``; this module does the reading and writing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from hookline.domain import keys, portal_themes
from hookline.domain.ids import new_id
from hookline.domain.models import AuditEntry, PortalLink
from hookline.domain.portal_access import Customer, LinkDraft, checked_link
from hookline.errors import NotFound
from hookline.services.deps import Deps
from hookline.services.workspaces import Principal, get_workspace
from hookline.store import Store

__all__ = [
    "actor_of",
    "audit",
    "audit_page",
    "create_link",
    "customer_of",
    "get_theme",
    "link_by_token",
    "live_links",
    "portal_base",
    "portal_url",
    "put_theme",
    "revoke_links",
]

TOKEN_PREFIX = "hlp_"
PORTAL_PATH = "/portal/"


async def actor_of(deps: Deps, who: Principal) -> str:
    """How the audit log names who made or revoked links through the API."""
    if who.operator_key_id is not None:
        return f"operator key {who.operator_key_id}"
    if who.admin:
        return "admin"
    key = None if who.key_hash is None else await deps.store.config.find_api_key(who.key_hash)
    return "workspace API key" if key is None else f"workspace API key {key.id}"


async def create_link(
    store: Store, workspace_id: str, draft: LinkDraft, created_by: str
) -> tuple[PortalLink, str]:
    """A new link and its token (answered this once, never stored). On the store alone: the
    CLI makes links without a running Hookline."""
    await _workspace(store, workspace_id)
    theme = checked_link(draft)
    token = keys.new_token(TOKEN_PREFIX)
    now = time.time()
    link = PortalLink(
        id=new_id("pl"),
        workspace_id=workspace_id,
        token_hash=keys.hash_token(token),
        created_at=now,
        expires_at=now + draft.expires_in,
        created_by=created_by,
        read_only=draft.read_only,
        event_types=None if draft.event_types is None else tuple(draft.event_types),
        theme=theme or None,
        user_name=draft.user,
        feature_flags=tuple(dict.fromkeys(draft.feature_flags)),
        destination_kinds=tuple(dict.fromkeys(draft.destination_kinds)),
    )
    await store.portal.create_link(link)
    detail: dict[str, Any] = {"expires_at": link.expires_at, "read_only": link.read_only}
    if link.event_types is not None:
        detail["event_types"] = list(link.event_types)
    if link.feature_flags:
        detail["feature_flags"] = list(link.feature_flags)
    if link.destination_kinds:
        detail["destination_kinds"] = list(link.destination_kinds)
    await _write(store, workspace_id, created_by, "portal_link.created", link.id, link.id, detail)
    return link, token


def portal_base(public_url: str | None, served_from: str) -> str:
    """Where the portal is served: ``HOOKLINE_PUBLIC_URL``, else the URL the request that asks
    for a link came to (its scheme as a trusted proxy reports it)."""
    return (public_url or served_from).rstrip("/")


def portal_url(base_url: str, token: str) -> str:
    """The URL that opens the portal with this token. The token travels in the fragment, which
    browsers never send to a server nor put in a ``Referer``: it reaches no access log."""
    return f"{base_url.rstrip('/')}{PORTAL_PATH}#{token}"


async def live_links(deps: Deps, workspace_id: str) -> list[PortalLink]:
    await get_workspace(deps, workspace_id)
    return await deps.store.portal.live_links(workspace_id, time.time())


async def revoke_links(store: Store, workspace_id: str, actor: str) -> int:
    """Revoke every link of the workspace, and so every portal session opened with one;
    answers how many links were live or expired but not yet forgotten."""
    await _workspace(store, workspace_id)
    count = await store.portal.revoke_links(workspace_id)
    await _write(store, workspace_id, actor, "portal_links.revoked", None, None, {"links": count})
    return count


async def link_by_token(deps: Deps, token: str) -> PortalLink | None:
    """The live link a token opens, or None (unknown, expired or revoked)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    found = await deps.store.portal.find_link(keys.hash_token(token), time.time())
    if found is None or not keys.token_matches(token, found.token_hash):
        return None
    return found


async def get_theme(deps: Deps, workspace_id: str) -> dict[str, Any]:
    """The workspace's own theme fields (empty: the defaults)."""
    await get_workspace(deps, workspace_id)
    return await deps.store.portal.get_theme(workspace_id) or {}


async def put_theme(deps: Deps, workspace_id: str, theme: Mapping[str, Any]) -> dict[str, Any]:
    """Replace the workspace's theme (every field checked; ``{}`` returns to the defaults)."""
    await get_workspace(deps, workspace_id)
    fields = portal_themes.parse_theme(theme, field="").stored()
    await deps.store.portal.put_theme(workspace_id, fields, time.time())
    return fields


async def audit_page(
    deps: Deps, workspace_id: str, limit: int, before: str | None = None
) -> list[AuditEntry]:
    await get_workspace(deps, workspace_id)
    return await deps.store.portal.audit_page(workspace_id, limit, before)


async def customer_of(deps: Deps, workspace_id: str, link_id: str) -> Customer | None:
    """The customer of a session naming this link, while the link is live (one lookup by
    primary key, so a revocation takes effect at the next request in every process; deleting
    the workspace deletes its links in the same transaction, so that ends the session too)."""
    link = await deps.store.portal.get_link(workspace_id, link_id, time.time())
    if link is None:
        return None
    own = await deps.store.portal.get_theme(workspace_id)
    return Customer(link, portal_themes.effective(own, link.theme))


async def audit(
    deps: Deps,
    customer: Customer,
    action: str,
    target: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Write one portal action to the workspace's audit log."""
    link = customer.link
    await _write(deps.store, link.workspace_id, customer.actor, action, link.id, target, detail)


async def _write(
    store: Store,
    workspace_id: str,
    actor: str,
    action: str,
    link_id: str | None,
    target: str | None,
    detail: Mapping[str, Any] | None,
) -> None:
    entry = AuditEntry(
        id=new_id("aud"),
        workspace_id=workspace_id,
        at=time.time(),
        actor=actor,
        action=action,
        link_id=link_id,
        target=target,
        detail=None if detail is None else dict(detail),
    )
    await store.portal.add_audit(entry)


async def _workspace(store: Store, workspace_id: str) -> None:
    if await store.config.get_workspace(workspace_id) is None:
        raise NotFound(f"workspace {workspace_id} not found")
