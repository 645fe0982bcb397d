"""Request and response bodies of the event-type catalogs, a workspace's and the shared one
(their JSON names are the contract).

An entry's schema has versions: ``schemas`` holds every one (``{"1": {...}, "2": {...}}``) and
``schema`` is the newest; a request sends one of the two (``hookline.domain.catalog_versions``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from hookline.domain.models import EVENT_TYPE_NAME, SHARED_CATALOG, EventType
from hookline.domain.nul import NoNulModel
from hookline.domain.timefmt import iso
from hookline.services.catalog_entries import SHARED_NAME, EventTypeDraft
from hookline.wire.payloads import JsonObject, JsonValue

__all__ = [
    "EventTypeBody",
    "EventTypeIn",
    "EventTypeOut",
    "EventTypeUpdate",
    "SharedEventTypeIn",
]

_FREE_JSON = frozenset({"schema_", "schemas", "example"})
_SCHEMA = "The newest version of the JSON Schema of its payloads (or send `schemas`)."
_SCHEMAS = 'Every version of the schema by its number: {"1": {...}, "2": {...}}.'
_ENFORCE = "Refuse (422 schema_mismatch) a publish whose payload does not match `schema`."
_ARCHIVED = "Listed only on request, and unknown to a workspace with strict_event_types."


class EventTypeBody(NoNulModel):
    """An entry's definition without its name (the shared catalog's ``PUT`` takes it)."""

    model_config = ConfigDict(extra="forbid")
    free_json: ClassVar[frozenset[str]] = _FREE_JSON
    description: str = Field(default="", max_length=2000)
    schema_: JsonObject | None = Field(default=None, alias="schema", description=_SCHEMA)
    schemas: dict[str, JsonObject] | None = Field(default=None, description=_SCHEMAS)
    example: JsonValue = None
    archived: StrictBool = Field(default=False, description=_ARCHIVED)
    deprecated: StrictBool = False
    feature_flags: list[str] = Field(default_factory=list, max_length=50)
    group_name: str | None = Field(default=None, min_length=1, max_length=256)
    enforce: StrictBool = Field(default=False, description=_ENFORCE)

    def draft(self, name: str) -> EventTypeDraft:
        """The entry this body describes, named ``name``."""
        return EventTypeDraft(
            name=name,
            description=self.description,
            schema=self.schema_,
            example=self.example,
            schemas=self.schemas,
            archived=self.archived,
            deprecated=self.deprecated,
            feature_flags=tuple(self.feature_flags),
            group_name=self.group_name,
            enforce=self.enforce,
        )


class EventTypeIn(EventTypeBody):
    """A new entry of a workspace's catalog."""

    name: str = Field(min_length=1, max_length=200, pattern=EVENT_TYPE_NAME.pattern)

    def to_draft(self) -> EventTypeDraft:
        return self.draft(self.name)


class SharedEventTypeIn(EventTypeBody):
    """A new entry of the shared catalog (Svix's names: letters, digits, ``-``, ``_``, ``.``)."""

    name: str = Field(min_length=1, max_length=200, pattern=SHARED_NAME.pattern)

    def to_draft(self) -> EventTypeDraft:
        return self.draft(self.name)


class EventTypeUpdate(NoNulModel):
    """What a partial update changes: the fields it sends (``null`` clears ``schema``,
    ``schemas``, ``example``, ``feature_flags`` and ``group_name``)."""

    model_config = ConfigDict(extra="forbid")
    free_json: ClassVar[frozenset[str]] = _FREE_JSON
    description: str | None = Field(default=None, max_length=2000)
    schema_: JsonObject | None = Field(default=None, alias="schema", description=_SCHEMA)
    schemas: dict[str, JsonObject] | None = Field(default=None, description=_SCHEMAS)
    example: JsonValue = None
    archived: StrictBool | None = Field(default=None, description=_ARCHIVED)
    deprecated: StrictBool | None = None
    feature_flags: list[str] | None = Field(default=None, max_length=50)
    group_name: str | None = Field(default=None, min_length=1, max_length=256)
    enforce: StrictBool | None = Field(default=None, description=_ENFORCE)

    def changes(self) -> dict[str, Any]:
        """The fields sent, by their names in ``catalog_entries.CHANGEABLE`` (a ``null`` flag
        is no change)."""
        sent = self.model_dump(exclude_unset=True, by_alias=False)
        if "schema_" in sent:
            sent["schema"] = sent.pop("schema_")
        flags = ("archived", "deprecated", "enforce", "description")
        return {k: v for k, v in sent.items() if not (k in flags and v is None)}


class EventTypeOut(BaseModel):
    id: str
    name: str
    description: str
    schema_: dict[str, Any] | None = Field(serialization_alias="schema")
    schemas: dict[str, dict[str, Any]] | None
    example: Any
    archived: bool
    deprecated: bool
    feature_flags: list[str]
    group_name: str | None
    enforce: bool
    shared: bool = Field(description="An entry of the shared catalog (the admin changes it).")
    created_at: str | None
    updated_at: str | None

    @classmethod
    def of(cls, et: EventType) -> EventTypeOut:
        return cls(
            id=et.id,
            name=et.name,
            description=et.description,
            schema_=et.schema,
            schemas=et.schemas,
            example=et.example,
            archived=et.archived,
            deprecated=et.deprecated,
            feature_flags=list(et.feature_flags),
            group_name=et.group_name,
            enforce=et.enforce,
            shared=et.workspace_id == SHARED_CATALOG,
            created_at=iso(et.created_at),
            updated_at=iso(et.updated_at),
        )
