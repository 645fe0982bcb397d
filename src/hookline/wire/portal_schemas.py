"""The customer portal's links, theme and audit log over REST (their JSON names are the
contract): a link's token and URL appear in the answer that creates it, and nowhere else."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from hookline.domain.models import AuditEntry, PortalLink
from hookline.domain.nul import NoNulModel
from hookline.domain.portal_access import DEFAULT_EXPIRES_IN, LinkDraft
from hookline.domain.timefmt import iso

__all__ = ["AuditEntryOut", "AuditPageOut", "PortalLinkCreated", "PortalLinkIn", "PortalLinkOut"]


class PortalLinkIn(NoNulModel):
    model_config = ConfigDict(extra="forbid")

    expires_in: int = Field(
        default=DEFAULT_EXPIRES_IN,
        description="Seconds the link stays valid: 60 to 604800 (7 days); default 3600.",
    )
    read_only: StrictBool = Field(
        default=False, description="The customer may look but not change anything."
    )
    event_types: list[str] | None = Field(
        default=None,
        description="Event types (names or 'prefix.*' patterns) the customer may see and "
        "subscribe to; absent: every type.",
    )
    theme: dict[str, Any] | None = Field(
        default=None,
        description="This link's look, over the workspace's theme: product_name, logo_url, "
        "primary_color, mode (light|dark), font_family, show_powered_by.",
    )
    user: str | None = Field(
        default=None, description="Who will use the link (written to the audit log)."
    )
    feature_flags: list[str] | None = Field(
        default=None,
        description="Feature flags (at most 50): a catalog entry with feature flags is shown to, "
        "and may be subscribed to by, the customer only when one of them is here.",
    )
    destination_kinds: list[str] | None = Field(
        default=None,
        description="The broker kinds (rabbitmq, nats, redis, mqtt) whose endpoints the customer "
        "may see and create besides HTTP webhooks; absent or []: HTTP endpoints only.",
    )

    def draft(self) -> LinkDraft:
        return LinkDraft(
            self.expires_in,
            self.read_only,
            self.event_types,
            self.theme,
            self.user,
            self.feature_flags or (),
            self.destination_kinds or (),
        )


class PortalLinkOut(BaseModel):
    id: str
    created_at: str | None
    expires_at: str | None
    read_only: bool
    event_types: list[str] | None
    theme: dict[str, Any] | None
    user: str | None
    created_by: str
    feature_flags: list[str]
    destination_kinds: list[str]

    @classmethod
    def of(cls, link: PortalLink) -> PortalLinkOut:
        return cls(
            id=link.id,
            created_at=iso(link.created_at),
            expires_at=iso(link.expires_at),
            read_only=link.read_only,
            event_types=None if link.event_types is None else list(link.event_types),
            theme=link.theme,
            user=link.user_name,
            created_by=link.created_by,
            feature_flags=list(link.feature_flags),
            destination_kinds=list(link.destination_kinds),
        )


class PortalLinkCreated(PortalLinkOut):
    url: str = Field(description="Open it (or frame it) to enter the portal; shown once.")
    token: str = Field(description="The link's credential, inside the URL; shown once.")

    @classmethod
    def made(cls, link: PortalLink, url: str, token: str) -> PortalLinkCreated:
        return cls(**PortalLinkOut.of(link).model_dump(), url=url, token=token)


class AuditEntryOut(BaseModel):
    id: str
    at: str | None
    actor: str = Field(description="Who: the link's user, or the admin / key that acted.")
    link_id: str | None = Field(description="Which portal link it was done through.")
    action: str
    target: str | None
    detail: dict[str, Any] | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(
            id=entry.id,
            at=iso(entry.at),
            actor=entry.actor,
            link_id=entry.link_id,
            action=entry.action,
            target=entry.target,
            detail=entry.detail,
        )


class AuditPageOut(BaseModel):
    data: list[AuditEntryOut]
    next_cursor: str | None = Field(
        default=None, description="Pass as ``before`` for the older entries; null at the end."
    )
