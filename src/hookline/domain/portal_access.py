"""Who a customer-portal link lets in, and to what (pure): the link a vendor asks for and its
checks, and the rules of what the customer it opens may see and do.

One home for these rules: the portal's pages, its services and the links' front doors (REST,
the Svix API, the CLI, the dashboard) all ask here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hookline.domain import portal_themes
from hookline.domain.destinations import BROKER_KINDS
from hookline.domain.models import (
    CATALOG_LABEL,
    EVENT_PATTERN,
    EventType,
    PortalLink,
    event_matches,
)
from hookline.domain.portal_themes import Theme
from hookline.domain.records import record
from hookline.errors import ApiError, Forbidden, ValidationFailed, raise_every

__all__ = ["Customer", "LinkDraft", "ReadOnlyLink", "checked_link"]

DEFAULT_EXPIRES_IN = 3600
MAX_EXPIRES_IN = 7 * 86400
MIN_EXPIRES_IN = 60
MAX_EVENT_TYPES = 200
MAX_FEATURE_FLAGS = 50


class ReadOnlyLink(Forbidden):
    """An action asked through a read-only portal link."""

    code = "read_only"


@record
class LinkDraft:
    """A link as the vendor asks for it (see the module's text). ``user``: who the vendor says
    will use it (an e-mail address, a user id), written to the audit log with each action;
    ``feature_flags``: the flags that show the customer the catalog entries carrying them;
    ``destination_kinds``: the broker kinds (``domain.destinations.BROKER_KINDS``) the customer
    may see and create endpoints of, besides HTTP webhooks (empty: HTTP only)."""

    expires_in: int = DEFAULT_EXPIRES_IN
    read_only: bool = False
    event_types: Sequence[str] | None = None
    theme: Mapping[str, Any] | None = None
    user: str | None = None
    feature_flags: Sequence[str] = ()
    destination_kinds: Sequence[str] = ()


@record
class Customer:
    """Who a portal request acts for: a live link (and so the workspace it opens) and the theme
    it is drawn with. Every rule of what the customer may see and do is here, once."""

    link: PortalLink
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

    def may_use_kind(self, kind: str) -> bool:
        """Whether the customer may see and create endpoints of this kind: HTTP webhooks
        always, a broker kind when the link allows it, nothing else (e-mail actions are the
        operator's)."""
        return kind == "webhook" or kind in self.link.destination_kinds

    def check_write(self) -> None:
        """Refuse every action through a read-only link."""
        if self.read_only:
            raise ReadOnlyLink("this portal link is read-only")


def checked_link(draft: LinkDraft) -> dict[str, Any]:
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
    return found + _flag_problems(draft.feature_flags) + _kind_problems(draft.destination_kinds)


def _flag_problems(flags: Sequence[str]) -> list[ValidationFailed]:
    """A link's feature flags: names as the catalog's entries carry them."""
    found = []
    if len(flags) > MAX_FEATURE_FLAGS:
        message = f"feature_flags: at most {MAX_FEATURE_FLAGS}"
        found.append(ValidationFailed(message, field="feature_flags"))
    for i, flag in enumerate(flags[:MAX_FEATURE_FLAGS]):
        if not CATALOG_LABEL.match(flag):
            message = f"feature_flags.{i}: a flag is 1 to 256 letters, digits, '-', '_' and '.'"
            found.append(ValidationFailed(message, field=f"feature_flags.{i}"))
    return found


def _kind_problems(kinds: Sequence[str]) -> list[ValidationFailed]:
    """A link's destination kinds: broker kinds, each at most once (HTTP is always allowed)."""
    found = []
    allowed = ", ".join(BROKER_KINDS)
    if len(kinds) > len(BROKER_KINDS):
        message = f"destination_kinds: at most {len(BROKER_KINDS)}, each of {allowed} once"
        found.append(ValidationFailed(message, field="destination_kinds"))
    for i, kind in enumerate(kinds[: len(BROKER_KINDS)]):
        if kind not in BROKER_KINDS:
            message = (
                f"destination_kinds.{i}: {kind!r} is not a broker kind: one of {allowed}"
                " (HTTP endpoints are always allowed)"
            )
            found.append(ValidationFailed(message, field=f"destination_kinds.{i}"))
    return found


def _pattern_ok(pattern: str) -> bool:
    return 1 <= len(pattern) <= 200 and bool(EVENT_PATTERN.match(pattern))
