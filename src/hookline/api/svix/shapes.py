"""The Svix API's request and response bodies (camelCase JSON, as its SDKs send and parse
them), following the open-source Svix server's ``openapi.json``.

Both names of a renamed field are taken and given: ``rateLimit`` (older SDKs) and
``throttleRate`` (newer ones); ``filterTypes`` beside ``eventTypes``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

Uid = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[a-zA-Z0-9\-_.]+$")]
Name = Annotated[str, Field(max_length=256, pattern=r"^[a-zA-Z0-9\-_.]+$")]
Rate = Annotated[int, Field(ge=0, le=65535)]
Secret = Annotated[str, Field(pattern=r"^(whsec_)?[a-zA-Z0-9+/=]{32,100}$")]


class Shape(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class In(Shape):
    """A request body: unknown fields are ignored, as the Svix server does (its SDKs send
    fields newer than this API, such as ``headers`` on an endpoint)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Throttled(In):
    """A body with a rate under either of its names: ``throttleRate``, or ``rateLimit`` (older
    SDKs)."""

    rate_limit: Rate | None = None
    throttle_rate: Rate | None = None

    @property
    def rate(self) -> int | None:
        """The rate given (``throttleRate`` first); None when neither name is."""
        return self.throttle_rate if self.throttle_rate is not None else self.rate_limit

    @property
    def rate_given(self) -> bool:
        """Whether the body names a rate at all (a patch that sets it to null does)."""
        return bool(self.model_fields_set & {"throttle_rate", "rate_limit"})


# -- applications ---------------------------------------------------------------------------
class ApplicationIn(Throttled):
    name: str = Field(min_length=1, max_length=200)
    uid: Uid | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class ApplicationPatch(Throttled):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    uid: Uid | None = None
    metadata: dict[str, str] | None = None


class ApplicationOut(Shape):
    id: str
    uid: str | None
    name: str
    metadata: dict[str, str]
    rate_limit: int | None
    throttle_rate: int | None
    created_at: datetime
    updated_at: datetime


# -- endpoints -------------------------------------------------------------------------------
class EndpointIn(Throttled):
    url: str = Field(min_length=1, max_length=2048)
    uid: Uid | None = None
    description: str = Field(default="", max_length=2000)
    version: int = Field(default=1, ge=1)
    disabled: bool = False
    event_types: list[Name] | None = Field(default=None, max_length=500)
    filter_types: list[Name] | None = Field(default=None, max_length=500)
    channels: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=10
    )
    metadata: dict[str, str] = Field(default_factory=dict)
    secret: Secret | None = None
    headers: dict[str, str] | None = None


class EndpointUpdate(EndpointIn):
    """A whole endpoint (PUT): what it omits takes its default; the secret is kept."""


class EndpointPatch(Throttled):
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    uid: Uid | None = None
    description: str | None = Field(default=None, max_length=2000)
    version: int | None = Field(default=None, ge=1)
    disabled: bool | None = None
    event_types: list[Name] | None = Field(default=None, max_length=500)
    filter_types: list[Name] | None = Field(default=None, max_length=500)
    channels: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=10
    )
    metadata: dict[str, str] | None = None
    secret: Secret | None = None


class EndpointOut(Shape):
    id: str
    uid: str | None
    url: str
    description: str
    version: int
    disabled: bool
    rate_limit: int | None
    throttle_rate: int | None
    event_types: list[str] | None
    filter_types: list[str] | None
    channels: list[str] | None
    metadata: dict[str, str]
    created_at: datetime
    updated_at: datetime


class EndpointSecretOut(Shape):
    key: str


class EndpointSecretRotateIn(In):
    key: Secret | None = None
    grace_period_seconds: int | None = Field(default=None, ge=0, le=604800)


class EndpointHeadersIn(In):
    headers: dict[str, str]


class EndpointHeadersPatchIn(In):
    """Headers to set; a null value, or a name in ``deleteHeaders`` (the 2.x SDKs' way),
    removes one."""

    headers: dict[str, str | None]
    delete_headers: list[str] = Field(default_factory=list, max_length=100)


class EndpointHeadersOut(Shape):
    headers: dict[str, str]
    sensitive: list[str]


class EndpointStats(Shape):
    success: int
    pending: int
    sending: int
    fail: int
    canceled: int = 0


class RecoverIn(In):
    since: datetime
    until: datetime | None = None


class RecoverOut(Shape):
    id: str
    status: str
    task: str
    updated_at: datetime


class EventExampleIn(In):
    event_type: Name
    example_index: int = Field(default=0, ge=0)


# -- messages --------------------------------------------------------------------------------
class MessageIn(In):
    event_type: Name
    payload: dict[str, Any]
    event_id: Uid | None = None
    channels: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=5
    )
    tags: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=5
    )
    application: ApplicationIn | None = None
    payload_retention_period: int | None = Field(default=None, ge=1, le=90)


class MessageOut(Shape):
    id: str
    event_id: str | None
    event_type: str
    payload: dict[str, Any]
    channels: list[str] | None
    tags: list[str] | None
    timestamp: datetime


class MessageAttemptOut(Shape):
    id: str
    msg_id: str
    endpoint_id: str
    url: str
    response: str
    response_status_code: int
    response_duration_ms: int
    status: int
    status_text: str
    trigger_type: int
    timestamp: datetime
    msg: MessageOut | None = None


class EndpointMessageOut(MessageOut):
    status: int
    status_text: str
    next_attempt: datetime | None


class MessageEndpointOut(EndpointOut):
    status: int
    status_text: str
    next_attempt: datetime | None


# -- event types ----------------------------------------------------------------------------
class EventTypeIn(In):
    name: Name
    description: str = Field(max_length=2000)
    archived: bool = False
    deprecated: bool = False
    schemas: dict[str, Any] | None = None
    feature_flag: Name | None = None
    feature_flags: list[Name] | None = None
    group_name: Name | None = None


class EventTypeUpdate(In):
    description: str = Field(max_length=2000)
    archived: bool = False
    deprecated: bool = False
    schemas: dict[str, Any] | None = None
    feature_flag: Name | None = None
    feature_flags: list[Name] | None = None
    group_name: Name | None = None


class EventTypePatch(In):
    description: str | None = Field(default=None, max_length=2000)
    archived: bool | None = None
    deprecated: bool | None = None
    schemas: dict[str, Any] | None = None
    feature_flag: Name | None = None
    feature_flags: list[Name] | None = None
    group_name: Name | None = None


class EventTypeOut(Shape):
    name: str
    description: str
    archived: bool
    deprecated: bool
    schemas: dict[str, Any] | None
    feature_flag: str | None
    feature_flags: list[str] | None
    group_name: str | None
    created_at: datetime
    updated_at: datetime


# -- misc ------------------------------------------------------------------------------------
class AppPortalAccessIn(In):
    """A portal link as Svix's SDKs ask for one. ``featureFlags`` are the link's: an event type
    with feature flags is shown to its customer only when the link has one of them.
    ``sessionId`` is taken and has no effect here: revoking ends every link of the
    application."""

    expiry: int | None = None
    read_only: bool | None = None
    capabilities: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None, max_length=16
    )
    feature_flags: list[Name] | None = None
    session_id: str | None = Field(default=None, max_length=256)
    application: ApplicationIn | None = None


class AppPortalAccessOut(Shape):
    url: str
    token: str


class HttpErrorOut(BaseModel):
    code: str
    detail: str


class ValidationErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class HttpValidationError(BaseModel):
    detail: list[ValidationErrorItem]
