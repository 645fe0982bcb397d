"""A flow export document and an import's answer (their JSON names are the contract), shared by
the REST API and the dashboard's import form."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hookline.domain.models import FlowConfig
from hookline.services.flow_import import FlowImport, ImportResult
from hookline.wire.event_types import EventTypeIn
from hookline.wire.schemas import FlowIn, FlowOut, WebhookOut

__all__ = ["FlowDocument", "HeaderLeftOut", "ImportOut"]


class FlowDocument(BaseModel):
    """What ``export`` writes and ``import`` reads; ``name`` imports under another name."""

    model_config = ConfigDict(extra="forbid")

    hookline: Literal["flow-export"]
    version: Literal[1]
    exported_at: str | None = None
    flow: FlowIn
    webhooks: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)
    event_types: list[EventTypeIn] = Field(default_factory=list, max_length=1000)
    name: str | None = Field(default=None, min_length=1, max_length=200)

    def to_import(self) -> FlowImport:
        """The import this document asks for."""
        config = FlowConfig.model_validate(self.flow.model_dump(exclude={"name", "description"}))
        drafts = [et.to_draft() for et in self.event_types]
        name = self.name or self.flow.name
        return FlowImport(name, self.flow.description, config, self.webhooks, drafts)


class HeaderLeftOut(BaseModel):
    webhook: str
    header: str


class PasswordLeftOut(BaseModel):
    webhook: str
    field: str


class ImportOut(BaseModel):
    flow: FlowOut
    webhooks: list[WebhookOut] = Field(description="A generated secret is shown here, once.")
    created_event_types: list[str]
    headers_left_out: list[HeaderLeftOut] = Field(
        description="Credential headers the document masks (exported without secrets): set"
        " their values on the imported webhooks."
    )
    passwords_left_out: list[PasswordLeftOut] = Field(
        default_factory=list,
        description="Broker URLs whose password the document masks: imported without one; set"
        " it on the imported action.",
    )

    @classmethod
    def of(cls, result: ImportResult) -> ImportOut:
        return cls(
            flow=FlowOut.of(result.flow),
            webhooks=[
                WebhookOut.of(h.webhook, include_secret=h.secret_generated, reveal_headers=False)
                for h in result.webhooks
            ],
            created_event_types=result.created_event_types,
            headers_left_out=[
                HeaderLeftOut(webhook=w, header=h) for w, h in result.headers_left_out
            ],
            passwords_left_out=[
                PasswordLeftOut(webhook=w, field=f) for w, f in result.passwords_left_out
            ],
        )
