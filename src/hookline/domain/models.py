"""Domain records and the webhook configuration, as plain typed data.

``WebhookConfig`` is the validated, storable configuration of an endpoint; its JSON field names
are part of the API contract. The records (``Event``, ``Delivery``, ``Attempt`` …) are what the
store hands back; the API turns them into responses.
"""

from __future__ import annotations

import re
from dataclasses import field
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hookline.domain import filters, signing, templates
from hookline.domain.destinations import (
    BROKER_KINDS,
    BrokerAction,
    MqttAction,
    NatsAction,
    RabbitMQAction,
    RedisAction,
    split_url,
)
from hookline.domain.ids import ID_PREFIXES
from hookline.domain.nul import NoNulModel, is_stored
from hookline.domain.records import record
from hookline.domain.retry import DEFAULT_MAX_ATTEMPTS
from hookline.errors import FilterError, SigningError, TemplateError

METHODS = ("POST", "PUT", "PATCH", "GET", "DELETE")
CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")
MAX_TIMEOUT = 30.0
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")
_EMAIL = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\"]+$")
EVENT_PATTERN = re.compile(r"^(\*|[A-Za-z0-9_\-:/]+(\.[A-Za-z0-9_\-:/]+)*(\.\*)?)$")
#: A catalog entry's feature flag or group name (and a portal link's feature flag).
CATALOG_LABEL = re.compile(r"^[a-zA-Z0-9\-_.]{1,256}$")
EVENT_TYPE_NAME = re.compile(r"^[A-Za-z0-9_\-:/]+(\.[A-Za-z0-9_\-:/]+)*$")
# Headers the HTTP layer owns; letting users set them would corrupt the request.
_FORBIDDEN_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer"}
)
# Headers Hookline writes on every request (signatures, X-Hookline-…): a custom value would be
# replaced, so it is refused rather than silently dropped.
_OWN_HEADERS = frozenset(name.lower() for name in signing.HEADER_NAMES)
_OWN_PREFIX = "x-hookline-"
# Control characters (all but HTAB) cannot travel in a header value: every send would fail.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


# Case-insensitive on input ("post" is accepted), upper case when stored and shown.
Method = Annotated[Literal["POST", "PUT", "PATCH", "GET", "DELETE"], BeforeValidator(_upper)]


def _check_event_patterns(value: list[str]) -> list[str]:
    for pattern in value:
        if not EVENT_PATTERN.match(pattern) or len(pattern) > 200:
            raise ValueError(f"{pattern!r} is not an event type name or a 'prefix.*' pattern")
    return list(dict.fromkeys(value))


def _check_filter(value: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any] | None:
    # A stored filter was valid when written: only its syntax is checked again, so that a
    # size limit added or lowered since does not stop it from loading.
    check = filters.compile_filter if is_stored(info) else filters.validate_filter
    try:
        check(value)
    except FilterError as exc:
        raise ValueError(str(exc)) from None
    return value


def _check_plain_template(value: str) -> str:
    try:
        templates.validate_template(value, "text/plain")
    except TemplateError as exc:
        raise ValueError(str(exc)) from None
    return value


def _check_address(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


UID_PATTERN = re.compile(r"^[a-zA-Z0-9\-_.]+$")


def _check_uid(value: str) -> str:
    if not UID_PATTERN.match(value):
        raise ValueError("may contain only letters, digits, '-', '_' and '.'")
    if value.startswith(ID_PREFIXES):
        raise ValueError(f"must not start with an id prefix ({value.split('_')[0]}_)")
    return value


Uid = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(_check_uid)]
Channel = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9\-_.:]+$")]

EventPatterns = Annotated[
    list[str], Field(min_length=1, max_length=500), AfterValidator(_check_event_patterns)
]
PayloadFilter = Annotated[dict[str, Any] | None, AfterValidator(_check_filter)]
PlainTemplate = Annotated[str, AfterValidator(_check_plain_template)]
EmailAddress = Annotated[str, Field(max_length=320), AfterValidator(_check_address)]


class EmailAction(NoNulModel):
    """An email sent over SMTP instead of an HTTP request; subject and body are templates."""

    model_config = ConfigDict(extra="forbid")

    to: list[EmailAddress] = Field(min_length=1, max_length=50)
    subject: Annotated[PlainTemplate, Field(min_length=1, max_length=998)]
    body: Annotated[PlainTemplate, Field(max_length=64 * 1024)] = "$payload"
    sender: EmailAddress | None = Field(default=None, description="From: (default: SMTP URL's)")


class FlowConfig(NoNulModel):
    """A flow's trigger and aggregation window, shared by every action (webhook) in it."""

    model_config = ConfigDict(extra="forbid")

    events: EventPatterns = Field(default_factory=lambda: ["*"])
    filter: PayloadFilter = None
    aggregation_seconds: int = Field(default=0, ge=0, le=7 * 86400)
    aggregation_max_events: int | None = Field(default=None, ge=1, le=10_000)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookConfig(NoNulModel):
    """Everything a user configures on a webhook except its secret."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    kind: Literal["webhook", "email", "rabbitmq", "nats", "redis", "mqtt"] = "webhook"
    url: str | None = Field(default=None, max_length=2048)
    email: EmailAction | None = None
    rabbitmq: RabbitMQAction | None = None
    nats: NatsAction | None = None
    redis: RedisAction | None = None
    mqtt: MqttAction | None = None
    method: Method = "POST"
    content_type: Literal["application/json", "application/x-www-form-urlencoded"] = (
        "application/json"
    )
    headers: dict[str, str] = Field(default_factory=dict)
    secret_headers: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Custom headers whose values are credentials, besides those named like one"
        " (Authorization, Cookie, *-Token, *-Api-Key …): encrypted at rest and masked.",
    )
    signature_schemes: list[str] = Field(default_factory=list)
    events: EventPatterns = Field(default_factory=lambda: ["*"])
    filter: PayloadFilter = None
    body_template: str | None = None
    max_attempts: int = Field(default=DEFAULT_MAX_ATTEMPTS, ge=1, le=50)
    retry_schedule: list[float] | None = Field(default=None, min_length=1, max_length=50)
    enabled: bool = True
    verify_tls: bool = True
    timeout_seconds: float = Field(default=MAX_TIMEOUT, gt=0, le=MAX_TIMEOUT)
    aggregation_seconds: int = Field(default=0, ge=0, le=7 * 86400)
    aggregation_max_events: int | None = Field(default=None, ge=1, le=10_000)
    rate_limit_per_second: float | None = Field(default=None, gt=0, le=100_000)
    ordering: Literal["none", "fifo"] = "none"
    flow: str | None = Field(default=None, max_length=64)
    metadata: dict[str, str] = Field(default_factory=dict)
    uid: Uid | None = Field(
        default=None, description="Your own identifier for it, unique in the workspace"
    )
    channels: list[Channel] | None = Field(
        default=None,
        max_length=10,
        description="Only events published with one of these channels reach it (None: all)",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        # A stored configuration was valid when written; rules added since then must not
        # stop it from loading (a change to it is checked in full).
        if not is_stored(info):
            for name, header_value in value.items():
                check_header(name, header_value)
        return value

    @field_validator("secret_headers")
    @classmethod
    def _check_secret_headers(cls, value: list[str]) -> list[str]:
        unique: dict[str, str] = {}  # the first spelling of each name, in order
        for name in value:
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid header name")
            unique.setdefault(name.lower(), name)
        return list(unique.values())

    @field_validator("retry_schedule")
    @classmethod
    def _check_schedule(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and any(d < 0 or d > 7 * 86400 for d in value):
            raise ValueError("each delay must be between 0 and 604800 seconds")
        return value

    @field_validator("signature_schemes")
    @classmethod
    def _check_schemes(cls, value: list[str]) -> list[str]:
        try:
            return list(signing.validate_schemes(value))
        except SigningError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("body_template")
    @classmethod
    def _check_template(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            content_type = info.data.get("content_type", "application/json")
            try:
                templates.validate_template(value, content_type)
            except TemplateError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _check_kind(self) -> WebhookConfig:
        # Messages start with the field name: the API reports it as the failing field.
        if self.kind == "webhook" and self.url is None:
            raise ValueError("url: a webhook needs a url")
        if self.kind == "email" and self.email is None:
            raise ValueError("email: an email action needs its recipients and subject")
        if self.kind in BROKER_KINDS:
            if getattr(self, self.kind) is None:
                raise ValueError(f"{self.kind}: a {self.kind} action needs its settings")
            if self.kind == "redis" and any(name.lower() == "body" for name in self.headers):
                raise ValueError(
                    "headers: 'body' is the stream entry's field for the body; name the header"
                    " otherwise"
                )
            if "timestamped" in self.signature_schemes:
                raise ValueError(
                    "signature_schemes: 'timestamped' signs the HTTP method and URL, which a"
                    " message has not; use standard, svix, ed25519, github, hub-sha1 or sha256-hex"
                )
        return self

    @property
    def is_broker(self) -> bool:
        """Whether it publishes to a message broker (``domain.destinations``)."""
        return self.kind in BROKER_KINDS

    @property
    def broker(self) -> BrokerAction | None:
        """The broker settings of a broker kind (None for HTTP and email)."""
        found: BrokerAction | None = getattr(self, self.kind) if self.is_broker else None
        return found


def check_url(value: str) -> str:
    """A webhook URL: absolute http(s) with a host, no whitespace or control characters."""
    parts = split_url(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError("URL must start with http:// or https://")
    if not parts.hostname:
        raise ValueError("URL must name a host")
    return value


def check_header(name: str, value: str) -> None:
    """A custom header Hookline can send as given: a valid name that neither the HTTP layer
    nor Hookline itself writes, and a value without control characters (HTAB is allowed)."""
    if not _HEADER_NAME.match(name):
        raise ValueError(f"{name!r} is not a valid header name")
    lowered = name.lower()
    if lowered in _FORBIDDEN_HEADERS or lowered in _OWN_HEADERS or lowered.startswith(_OWN_PREFIX):
        raise ValueError(f"header {name!r} is set by Hookline and cannot be configured")
    if _CONTROL.search(value):
        raise ValueError(f"header {name!r} has a control character in its value")
    if len(value) > 8192:
        raise ValueError(f"header {name!r} has a value longer than 8192 characters")


def event_matches(patterns: list[str], event_type: str) -> bool:
    """True if an event type is selected by any of ``*``, ``prefix.*`` or an exact name.

    Hookline's own operational events (``hookline.…``) are only selected by patterns that
    name them: a catch-all ``*`` endpoint must not start receiving alerts about itself.
    """
    own = event_type.startswith("hookline.")
    for pattern in patterns:
        if own and not pattern.startswith("hookline."):
            continue
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


@record
class SecretEntry:
    """A signing secret; previous secrets keep signing until ``expires_at`` (rotation grace)."""

    secret: str
    expires_at: float | None = None


@record
class Workspace:
    """A workspace: one customer of the operator (a Svix application)."""

    id: str
    name: str
    created_at: float
    uid: str | None = None
    """The operator's own identifier for it (unique, Svix's ``uid``)."""
    metadata: dict[str, str] = field(default_factory=dict)
    throttle_rate: int | None = None
    """Messages per second to all of its webhooks together, in each worker (Svix's
    application ``throttleRate``); each webhook's own rate limit applies as well."""
    strict_event_types: bool = False
    """Refuse to publish an event type that neither its catalog nor the shared one has."""
    updated_at: float | None = None


@record
class ApiKey:
    id: str
    workspace_id: str
    name: str
    prefix: str
    key_hash: str
    created_at: float
    revoked_at: float | None = None


@record
class EventType:
    """An entry of a workspace's catalog, or of the shared one (``workspace_id`` ``""``)."""

    id: str
    workspace_id: str
    name: str
    description: str
    schema: dict[str, Any] | None
    example: Any
    created_at: float
    updated_at: float
    schemas: dict[str, dict[str, Any]] | None = None
    """Every version of the schema by version number (``"1"``, ``"2"`` …); ``schema`` is the
    newest."""
    archived: bool = False
    deprecated: bool = False
    feature_flags: tuple[str, ...] = ()
    group_name: str | None = None
    enforce: bool = False
    """Refuse a publish whose payload does not match ``schema``."""


SHARED_CATALOG = ""
"""The ``workspace_id`` of the instance-wide event-type catalog."""


@record
class OperatorKey:
    """A named key with the admin token's rights, hashed at rest."""

    id: str
    name: str
    prefix: str
    key_hash: str
    created_at: float
    revoked_at: float | None = None


@record
class PortalLink:
    """A link that opens the customer portal for one workspace until ``expires_at``; only the
    SHA-256 hash of its token is kept. ``event_types``: the catalog entries its customer may
    see and subscribe to (None: all); ``theme``: its own look, over the workspace's;
    ``user_name``: who the vendor says is using it; ``created_by``: who made it;
    ``feature_flags``: a catalog entry with feature flags is shown only to a link with one of
    them (Svix's ``featureFlags``); ``destination_kinds``: the broker kinds (``rabbitmq``,
    ``nats``, ``redis``, ``mqtt``) its customer may see and create besides HTTP endpoints
    (empty: HTTP endpoints only)."""

    id: str
    workspace_id: str
    token_hash: str
    created_at: float
    expires_at: float
    created_by: str
    read_only: bool = False
    event_types: tuple[str, ...] | None = None
    theme: dict[str, Any] | None = None
    user_name: str | None = None
    feature_flags: tuple[str, ...] = ()
    destination_kinds: tuple[str, ...] = ()


@record
class AuditEntry:
    """One action done through the customer portal or to its links: who (``actor``), through
    which link, what (``action`` on ``target``, with ``detail``), when."""

    id: str
    workspace_id: str
    at: float
    actor: str
    action: str
    link_id: str | None = None
    target: str | None = None
    detail: dict[str, Any] | None = None


@record
class Flow:
    id: str
    workspace_id: str
    name: str
    description: str
    created_at: float
    updated_at: float
    config: FlowConfig = field(default_factory=FlowConfig)


@record
class Webhook:
    id: str
    workspace_id: str
    config: WebhookConfig
    secrets: tuple[SecretEntry, ...]
    created_at: float
    updated_at: float
    disabled_reason: str | None = None

    def active_secrets(self, now: float) -> list[str]:
        """The current secret first, then previous ones still inside their grace period."""
        return [s.secret for s in self.secrets if s.expires_at is None or s.expires_at > now]


@record
class Event:
    id: str
    workspace_id: str
    type: str
    body: str
    idempotency_key: str | None
    created_at: float
    channels: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    traceparent: str | None = None
    """The W3C ``traceparent`` of the span that published it, when traces are exported."""


@record
class Delivery:
    id: str
    workspace_id: str
    event_id: str
    webhook_id: str
    status: DeliveryStatus
    attempts: int
    retry_base: int
    next_attempt_at: float
    last_status: int | None
    last_error: str | None
    created_at: float
    updated_at: float


@record
class Attempt:
    id: str
    delivery_id: str
    workspace_id: str
    webhook_id: str
    number: int
    started_at: float
    duration_ms: float
    request_method: str
    request_url: str
    request_headers: dict[str, str]
    request_body: str | None
    response_status: int | None
    response_headers: dict[str, str]
    response_body: str
    error_class: str | None
    error_message: str | None
    # The body sent is the event's own body, unchanged: the store keeps it once, with the event.
    request_body_is_event: bool = False


@record
class Claimed:
    """A delivery leased to a worker, with what it needs to send it."""

    delivery: Delivery
    event: Event
    webhook: Webhook
    batch: tuple[Event, ...] = ()
    """For an aggregation window: every collected event in arrival order."""


@record
class AttemptOutcome:
    """What a worker writes back after one attempt: the attempt and the delivery's new state."""

    attempt: Attempt
    status: DeliveryStatus
    next_attempt_at: float
    disable_webhook: str | None = None


@record
class Page:
    items: list[Any] = field(default_factory=list)
    next_cursor: str | None = None
