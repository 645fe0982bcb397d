"""Arguments and results of the client: request-body TypedDicts, frozen result dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Literal, NotRequired, TypedDict, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T")
D = TypeVar("D", bound="DataclassInstance")
DeliveryStatus = Literal["pending", "succeeded", "failed"]


# ---- request bodies ---------------------------------------------------------------------


class NewEvent(TypedDict):
    """One event of :meth:`AsyncClient.publish_batch`."""

    type: str
    payload: Any
    idempotency_key: NotRequired[str]


class WebhookOptions(TypedDict, total=False):
    """Optional webhook settings; the names and meanings are those of the REST API."""

    description: str
    method: Literal["POST", "PUT", "PATCH", "GET", "DELETE"]
    content_type: Literal["application/json", "application/x-www-form-urlencoded"]
    headers: dict[str, str]
    secret_headers: list[str]
    signature_schemes: list[str]
    events: list[str]
    filter: dict[str, Any] | None
    body_template: str | None
    max_attempts: int
    retry_schedule: list[float] | None
    enabled: bool
    verify_tls: bool
    timeout_seconds: float
    aggregation_seconds: int
    aggregation_max_events: int | None
    rate_limit_per_second: float | None
    ordering: Literal["none", "fifo"]
    flow: str | None
    metadata: dict[str, str]


class WebhookChanges(WebhookOptions, total=False):
    """The fields ``update_webhook`` may change; the others keep their value."""

    name: str
    url: str


class WebhookFilters(TypedDict, total=False):
    enabled: bool
    flow: str
    search: str


class DeliveryFilters(TypedDict, total=False):
    webhook_id: str
    event_id: str
    status: DeliveryStatus
    since: datetime
    until: datetime


# ---- results ------------------------------------------------------------------------------


def _build(cls: type[D], data: Mapping[str, Any], **converted: Any) -> D:
    """A result from an API object: its fields of the same names (``*_at`` as datetimes),
    overridden by ``converted``; other keys are ignored, so the API may grow."""
    values = {
        f.name: _time(data[f.name]) if f.name.endswith("_at") else data[f.name]
        for f in fields(cls)
        if f.name in data
    }
    return cls(**(values | converted))


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; pass ``next_cursor`` back for the next (None: the last page)."""

    data: tuple[T, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class DeliveryRef:
    id: str
    webhook_id: str


@dataclass(frozen=True, slots=True)
class PublishResult:
    """The accepted event; ``duplicate`` when its idempotency key had been seen before."""

    id: str
    type: str
    duplicate: bool
    deliveries: tuple[DeliveryRef, ...]
    idempotency_key: str

    @classmethod
    def _of(cls, data: Mapping[str, Any], key: str) -> PublishResult:
        refs = tuple(_build(DeliveryRef, d) for d in data["deliveries"])
        return _build(cls, data, deliveries=refs, idempotency_key=key)


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook (an action); ``raw`` holds every field the API returned (method, headers,
    filter, a broker action's settings …). ``url`` is None for email and broker actions:
    ``kind`` says which (``webhook``, ``email``, ``rabbitmq``, ``nats``, ``redis``, ``mqtt``)."""

    id: str
    name: str
    url: str | None
    events: tuple[str, ...]
    enabled: bool
    disabled_reason: str | None
    has_secret: bool
    secret: str | None  # only on creation with secret="generate", or with include_secret
    public_key: str | None  # what receivers verify ``ed25519`` signatures with (whpk_…)
    created_at: datetime | None
    updated_at: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    kind: str = "webhook"

    @classmethod
    def _of(cls, data: Mapping[str, Any]) -> Webhook:
        events = tuple(data["events"])
        return _build(cls, data, events=events, public_key=data.get("public_key"), raw=data)


@dataclass(frozen=True, slots=True)
class EventType:
    id: str
    name: str
    description: str
    schema: dict[str, Any] | None
    example: Any
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt: ``status`` is the receiver's HTTP status, None if it never answered."""

    id: str
    number: int
    started_at: datetime | None
    duration_ms: float
    status: int | None
    error_class: str | None
    error_message: str | None
    request: Mapping[str, Any] = field(repr=False)
    response: Mapping[str, Any] = field(repr=False)

    @classmethod
    def _of(cls, data: Mapping[str, Any]) -> Attempt:
        return _build(cls, data, status=data["response"]["status"])


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivery of one event to one webhook; ``attempts`` only from ``get_delivery``."""

    id: str
    event_id: str
    webhook_id: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime | None
    updated_at: datetime | None
    attempts: tuple[Attempt, ...] = ()

    @classmethod
    def _of(cls, data: Mapping[str, Any]) -> Delivery:
        return _build(cls, data, attempts=tuple(map(Attempt._of, data.get("attempts", ()))))


@dataclass(frozen=True, slots=True)
class TestResult:
    """The outcome of the webhook Test button: one real delivery, attempted once."""

    __test__ = False  # keeps pytest from collecting it where users import it into tests

    success: bool
    event_id: str
    delivery_id: str
    attempt: Attempt

    @classmethod
    def _of(cls, data: Mapping[str, Any]) -> TestResult:
        return _build(cls, data, attempt=Attempt._of(data["attempt"]))


@dataclass(frozen=True, slots=True)
class PortalLink:
    """A customer-portal link: ``url`` opens the portal for the client's workspace until
    ``expires_at``; ``url`` and ``token`` (inside it) are given once, by
    :meth:`AsyncClient.create_portal_link`, and left out of ``repr`` (and so of logs)."""

    id: str
    url: str = field(repr=False)
    token: str = field(repr=False)
    created_at: datetime | None
    expires_at: datetime | None
    read_only: bool
    event_types: tuple[str, ...] | None
    theme: Mapping[str, Any] | None
    user: str | None
    created_by: str
    feature_flags: tuple[str, ...] = ()
    destination_kinds: tuple[str, ...] = ()

    @classmethod
    def _of(cls, data: Mapping[str, Any]) -> PortalLink:
        types = data["event_types"]
        flags = tuple(data.get("feature_flags") or ())
        kinds = tuple(data.get("destination_kinds") or ())
        return _build(
            cls,
            data,
            event_types=None if types is None else tuple(types),
            feature_flags=flags,
            destination_kinds=kinds,
        )
