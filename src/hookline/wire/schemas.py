"""Request and response bodies of the REST API (their JSON names are the contract)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, cast

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, create_model
from pydantic.fields import FieldInfo

from hookline.domain import destinations, secret_headers, signing
from hookline.domain.models import (
    EVENT_TYPE_NAME,
    ApiKey,
    Attempt,
    Delivery,
    DeliveryStatus,
    Event,
    Flow,
    FlowConfig,
    Webhook,
    WebhookConfig,
    Workspace,
)
from hookline.domain.nul import NoNulModel
from hookline.domain.timefmt import iso
from hookline.wire.payloads import JsonValue

_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _not_a_number(value: Any) -> Any:
    """pydantic also reads a number, or a numeric string, as seconds since 1970: the API
    documents (and its clients send) RFC 3339 date-times only."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("an RFC 3339 date-time is required, e.g. 2024-05-01T12:00:00Z")
    return value


#: A date-time in a request: RFC 3339 text, never a number.
Timestamp = Annotated[datetime, BeforeValidator(_not_a_number)]


class _In(NoNulModel):
    model_config = ConfigDict(extra="forbid")


_UID = Field(
    default=None,
    min_length=1,
    max_length=256,
    pattern=r"^[a-zA-Z0-9\-_.]+$",
    description="Your own identifier for it (unique; Svix's application uid)",
)
_THROTTLE = Field(
    default=None,
    ge=0,
    le=65535,
    description="Messages per second to all of its webhooks together, in each worker"
    " (0 or null: no limit)",
)


class WorkspaceIn(_In):
    name: str = Field(min_length=1, max_length=200)
    uid: str | None = _UID
    metadata: dict[str, str] = Field(default_factory=dict)
    throttle_rate: int | None = _THROTTLE


class WorkspaceUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    uid: str | None = _UID
    metadata: dict[str, str] | None = None
    throttle_rate: int | None = _THROTTLE
    strict_event_types: StrictBool | None = Field(
        default=None,
        description="Refuse (422 unknown_event_type) to publish an event type that neither its"
        " catalog nor the shared one has.",
    )


class WorkspaceOut(BaseModel):
    id: str
    name: str
    created_at: str | None
    strict_event_types: bool = False
    uid: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    throttle_rate: int | None = None

    @classmethod
    def of(cls, ws: Workspace) -> WorkspaceOut:
        return cls(
            id=ws.id,
            name=ws.name,
            created_at=iso(ws.created_at),
            strict_event_types=ws.strict_event_types,
            uid=ws.uid,
            metadata=ws.metadata,
            throttle_rate=ws.throttle_rate,
        )


class WorkspaceCreated(WorkspaceOut):
    api_key: str = Field(description="A key for this workspace; shown once, store it now.")


class ApiKeyIn(_In):
    name: str = Field(default="default", min_length=1, max_length=200)


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: str | None
    revoked_at: str | None
    key: str | None = Field(default=None, description="Only in the creation response.")

    @classmethod
    def of(cls, key: ApiKey, token: str | None = None) -> ApiKeyOut:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            created_at=iso(key.created_at),
            revoked_at=iso(key.revoked_at),
            key=token,
        )


class FlowIn(FlowConfig):
    """A flow: its name, and the trigger and aggregation window its actions share."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


class FlowUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    events: list[str] | None = None
    filter: dict[str, Any] | None = None
    aggregation_seconds: int | None = None
    aggregation_max_events: int | None = None


class FlowOut(FlowConfig):
    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    description: str
    created_at: str | None
    updated_at: str | None

    @classmethod
    def of(cls, flow: Flow) -> FlowOut:
        return cls.model_construct(
            **flow.config.model_dump(),
            id=flow.id,
            name=flow.name,
            description=flow.description,
            created_at=iso(flow.created_at),
            updated_at=iso(flow.updated_at),
        )


class WebhookCreate(WebhookConfig):
    secret: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="Signing secret. For the standard/svix schemes a whsec_ key, for ed25519 "
        "a whsk_ Ed25519 private key; 'generate' makes one. Never returned after creation "
        "unless asked for.",
    )


def _optional(field: FieldInfo) -> Any:
    """The field's type made optional, keeping input normalisers (constraints are checked on
    the merged configuration)."""
    keep = [m for m in field.metadata if isinstance(m, BeforeValidator)]
    inner = cast(Any, field.annotation) | None
    return Annotated[inner, *keep] if keep else inner


# PATCH: every field optional; unset fields keep their value and the merge is validated whole.
WebhookUpdate = create_model(  # type: ignore[call-overload]
    "WebhookUpdate",
    __config__=ConfigDict(extra="forbid"),
    **{name: (_optional(field), None) for name, field in WebhookConfig.model_fields.items()},
)


class WebhookOut(WebhookConfig):
    model_config = ConfigDict(extra="allow")

    id: str
    workspace_id: str
    has_secret: bool
    disabled_reason: str | None
    created_at: str | None
    updated_at: str | None
    secret: str | None = Field(default=None, description="Only with ?include_secret=true.")
    public_key: str | None = Field(
        default=None,
        description="For an ed25519 webhook, the whpk_ public key receivers verify its "
        "signatures with (not a secret; always shown).",
    )

    @classmethod
    def of(
        cls, hook: Webhook, *, include_secret: bool = False, reveal_headers: bool | None = None
    ) -> WebhookOut:
        """The webhook as shown: the signing secret only with ``include_secret``; credential
        header values and a broker URL's password masked unless ``reveal_headers`` (by default,
        as ``include_secret``)."""
        config = hook.config
        shown: dict[str, Any] = {"headers": config.headers}
        if not (include_secret if reveal_headers is None else reveal_headers):
            shown["headers"] = secret_headers.mask(config.headers, config.secret_headers)
            if config.broker is not None:
                masked = destinations.mask_url(config.broker.url)
                shown[config.kind] = config.broker.model_copy(update={"url": masked})
        return cls.model_construct(
            **(dict(config) | shown),
            id=hook.id,
            workspace_id=hook.workspace_id,
            has_secret=bool(hook.secrets),
            disabled_reason=hook.disabled_reason,
            created_at=iso(hook.created_at),
            updated_at=iso(hook.updated_at),
            secret=hook.secrets[0].secret if include_secret and hook.secrets else None,
            public_key=signing.public_key(hook.secrets[0].secret) if hook.secrets else None,
        )


class RotateSecretIn(_In):
    secret: str | None = Field(default=None, min_length=1, max_length=512)
    grace_seconds: float | None = Field(default=None, ge=0, le=30 * 86400)


class SecretOut(BaseModel):
    secret: str
    public_key: str | None = Field(
        default=None, description="For an ed25519 webhook, the new secret's whpk_ public key."
    )

    @classmethod
    def of(cls, secret: str) -> SecretOut:
        return cls(secret=secret, public_key=signing.public_key(secret))


class EventIn(_In):
    free_json: ClassVar[frozenset[str]] = frozenset({"payload"})
    type: str = Field(min_length=1, max_length=200, pattern=EVENT_TYPE_NAME.pattern)
    payload: JsonValue
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


MAX_BATCH_EVENTS = 1000


class EventBatchIn(_In):
    events: list[EventIn] = Field(
        min_length=1,
        max_length=MAX_BATCH_EVENTS,
        description=f"1 to {MAX_BATCH_EVENTS} events, committed together in this order.",
    )


class DeliveryRef(BaseModel):
    id: str
    webhook_id: str


class PublishOut(BaseModel):
    id: str
    type: str
    duplicate: bool
    deliveries: list[DeliveryRef]


class PublishBatchOut(BaseModel):
    data: list[PublishOut] = Field(description="One answer per event, in the request's order.")


class EventOut(BaseModel):
    id: str
    type: str
    payload: Any
    idempotency_key: str | None
    created_at: str | None

    @classmethod
    def of(cls, event: Event) -> EventOut:
        return cls(
            id=event.id,
            type=event.type,
            payload=orjson.loads(event.body),
            idempotency_key=event.idempotency_key,
            created_at=iso(event.created_at),
        )


class AttemptOut(BaseModel):
    id: str
    number: int
    started_at: str | None
    duration_ms: float
    request: dict[str, Any]
    response: dict[str, Any]
    error_class: str | None
    error_message: str | None

    @classmethod
    def of(cls, a: Attempt) -> AttemptOut:
        return cls(
            id=a.id,
            number=a.number,
            started_at=iso(a.started_at),
            duration_ms=a.duration_ms,
            request={
                "method": a.request_method,
                "url": a.request_url,
                "headers": a.request_headers,
                "body": a.request_body,
            },
            response={
                "status": a.response_status,
                "headers": a.response_headers,
                "body_excerpt": a.response_body,
            },
            error_class=a.error_class,
            error_message=a.error_message,
        )


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    webhook_id: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: str | None
    last_status: int | None
    last_error: str | None
    created_at: str | None
    updated_at: str | None

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        pending = d.status is DeliveryStatus.PENDING
        return cls(
            id=d.id,
            event_id=d.event_id,
            webhook_id=d.webhook_id,
            status=d.status,
            attempt_count=d.attempts,
            next_attempt_at=iso(d.next_attempt_at) if pending else None,
            last_status=d.last_status,
            last_error=d.last_error,
            created_at=iso(d.created_at),
            updated_at=iso(d.updated_at),
        )


class DeliveryDetail(DeliveryOut):
    attempts: list[AttemptOut] = Field(default_factory=list)


class ReplayIn(_In):
    since: Timestamp
    until: Timestamp | None = None
    statuses: list[DeliveryStatus] = Field(
        default_factory=lambda: [DeliveryStatus.FAILED], min_length=1
    )


class ReplayOut(BaseModel):
    queued: int


class TestIn(_In):
    type: str | None = Field(default=None, max_length=200, pattern=EVENT_TYPE_NAME.pattern)
    payload: JsonValue = None


class TestOut(BaseModel):
    success: bool
    event_id: str
    delivery_id: str
    attempt: AttemptOut


class ListOut(BaseModel):
    data: list[Any]
    next_cursor: str | None = None
