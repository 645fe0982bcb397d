"""The customer portal's links, sessions, themes and audit log: what a vendor's backend asks for
and what every portal request is checked against.

A vendor (the admin, an operator key, or the workspace's own API key) makes a **link** for one
workspace: a single-purpose ``hlp_`` token, stored as its SHA-256 hash, valid for
``expires_in`` seconds (at most 7 days), optionally read-only, optionally limited to some event
types, optionally with **feature flags** (a catalog entry that has feature flags is shown to,
and may be subscribed to by, only a link with one of them, as Svix's portal does; an entry
without flags is not affected), optionally themed. The customer's browser exchanges the token
once for a **session** (``hookline.portal.sessions``: signed, carried in the page, no cookie)
naming the link; every later request finds the link again by its id, so revoking the
workspace's links (``revoke_links``) ends every session opened with them at their next request,
in every process.

Everything done through the portal, and the links made and revoked, is written to the
workspace's **audit log** (who, which link, what, when), which the operator lists.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from hookline.domain import keys, portal_themes
from hookline.domain.ids import new_id
from hookline.domain.models import EVENT_PATTERN, AuditEntry, EventType, PortalLink, event_matches
from hookline.domain.portal_themes import Theme
from hookline.domain.records import record
from hookline.errors import ApiError, Forbidden, NotFound, ValidationFailed, raise_every
from hookline.services.catalog_entries import LABEL as FEATURE_FLAG
from hookline.services.deps import Deps
from hookline.services.workspaces import Principal, get_workspace
from hookline.store import Store

__all__ = [
    "Customer",
    "LinkDraft",
    "ReadOnlyLink",
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
DEFAULT_EXPIRES_IN = 3600
MAX_EXPIRES_IN = 7 * 86400
MIN_EXPIRES_IN = 60
MAX_EVENT_TYPES = 200
MAX_FEATURE_FLAGS = 50
PORTAL_PATH = "/portal/"


class ReadOnlyLink(Forbidden):
    """An action asked through a read-only portal link."""

    code = "read_only"


@record
class LinkDraft:
    """A link as the vendor asks for it (see the module's text). ``user``: who the vendor says
    will use it (an e-mail address, a user id), written to the audit log with each action;
    ``feature_flags``: the flags that show the customer the catalog entries carrying them."""

    expires_in: int = DEFAULT_EXPIRES_IN
    read_only: bool = False
    event_types: Sequence[str] | None = None
    theme: Mapping[str, Any] | None = None
    user: str | None = None
    feature_flags: Sequence[str] = ()


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
    theme = _checked(draft)
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
    )
    await store.portal.create_link(link)
    detail: dict[str, Any] = {"expires_at": link.expires_at, "read_only": link.read_only}
    if link.event_types is not None:
        detail["event_types"] = list(link.event_types)
    if link.feature_flags:
        detail["feature_flags"] = list(link.feature_flags)
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


@record
class Customer:
    """Who a portal request acts for: a live link, the workspace it opens and the theme it is
    drawn with. Every rule of what the customer may see and do is here, once."""

    link: PortalLink
    workspace_name: str
    theme: Theme

    @property
    def workspace_id(self) -> str:
        return self.link.workspace_id

    @property
    def read_only(self) -> bool:
        return self.link.read_only

    @property
    def actor(self) -> str:
        return self.link.user_name or "portal customer"

    def may_see(self, event_type: str) -> bool:
        """Whether the link lets its customer see (and subscribe to) this event type."""
        allowed = self.link.event_types
        return allowed is None or event_matches(list(allowed), event_type)

    def may_see_entry(self, et: EventType) -> bool:
        """Whether the link shows its customer this catalog entry (and lets them subscribe to
        it by name): a type it may see that has no feature flag, or one the link has."""
        if not self.may_see(et.name):
            return False
        return not et.feature_flags or not set(et.feature_flags).isdisjoint(self.link.feature_flags)

    def may_subscribe(self, pattern: str) -> bool:
        """Whether an endpoint of this customer may subscribe to ``pattern``: any pattern when
        the link limits nothing, else one of the link's own patterns or a type it allows."""
        allowed = self.link.event_types
        if allowed is None or pattern in allowed:
            return True
        return "*" not in pattern and self.may_see(pattern)

    def check_write(self) -> None:
        """Refuse every action through a read-only link."""
        if self.read_only:
            raise ReadOnlyLink("this portal link is read-only")


async def customer_of(deps: Deps, workspace_id: str, link_id: str) -> Customer | None:
    """The customer of a session naming this link, while the link is live (one lookup by
    primary key, so a revocation takes effect at the next request in every process)."""
    link = await deps.store.portal.get_link(workspace_id, link_id, time.time())
    if link is None:
        return None
    workspace = await deps.store.config.get_workspace(workspace_id)
    if workspace is None:
        return None
    own = await deps.store.portal.get_theme(workspace_id)
    return Customer(link, workspace.name, portal_themes.effective(own, link.theme))


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


def _checked(draft: LinkDraft) -> dict[str, Any]:
    """The draft's theme as stored, once every field of the draft is valid (every problem of
    the draft and of its theme reported at once)."""
    found: list[ApiError] = list(_draft_problems(draft))
    theme: dict[str, Any] = {}
    try:
        theme = portal_themes.parse_theme(draft.theme).stored()
    except ValidationFailed as exc:
        found.extend(exc.problems)
    raise_every(found)
    return theme


def _draft_problems(draft: LinkDraft) -> list[ValidationFailed]:
    found = []
    if not MIN_EXPIRES_IN <= draft.expires_in <= MAX_EXPIRES_IN:
        message = f"expires_in: {MIN_EXPIRES_IN} to {MAX_EXPIRES_IN} seconds (7 days)"
        found.append(ValidationFailed(message, field="expires_in"))
    types = draft.event_types
    if types is not None and len(types) > MAX_EVENT_TYPES:
        message = f"event_types: at most {MAX_EVENT_TYPES}"
        found.append(ValidationFailed(message, field="event_types"))
    for i, pattern in enumerate((types or ())[:MAX_EVENT_TYPES]):
        if not _pattern_ok(pattern):
            message = f"event_types.{i}: an event type name or a 'prefix.*' pattern"
            found.append(ValidationFailed(message, field=f"event_types.{i}"))
    if draft.user is not None and not 1 <= len(draft.user) <= 256:
        found.append(ValidationFailed("user: 1 to 256 characters", field="user"))
    return found + _flag_problems(draft.feature_flags)


def _flag_problems(flags: Sequence[str]) -> list[ValidationFailed]:
    """A link's feature flags: names as the catalog's entries carry them."""
    found = []
    if len(flags) > MAX_FEATURE_FLAGS:
        message = f"feature_flags: at most {MAX_FEATURE_FLAGS}"
        found.append(ValidationFailed(message, field="feature_flags"))
    for i, flag in enumerate(flags[:MAX_FEATURE_FLAGS]):
        if not FEATURE_FLAG.match(flag):
            message = f"feature_flags.{i}: a flag is 1 to 256 letters, digits, '-', '_' and '.'"
            found.append(ValidationFailed(message, field=f"feature_flags.{i}"))
    return found


def _pattern_ok(pattern: str) -> bool:
    return 1 <= len(pattern) <= 200 and bool(EVENT_PATTERN.match(pattern))
