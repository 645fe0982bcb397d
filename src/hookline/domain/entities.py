"""Entity events (pure): what changed in an entity, and the event that says so.

An entity lives at ``collectionPath/entityId``: ``packets/p1``,
``pipelinesPackets/p1/comments/c9``. Hookline remembers each entity's last state, so a new
state yields ``{kind}.created``, an ``{kind}.updated`` with the previous state and the changed
property paths (the update mask), or nothing at all when no property changed. Setting
``softRemoved`` to true is a soft delete: ``{kind}.deleted`` is published and the entity is
kept. The payload is the envelope of the integration guide (``eventTimestamp``,
``operationType``, ``entityPath`` … ``data``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

Operation = Literal["created", "updated", "deleted"]
OPERATIONS: tuple[Operation, ...] = ("created", "updated", "deleted")
MAX_PATH = 1024
MAX_KIND = 180
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
_KIND = re.compile(r"^[A-Za-z0-9_\-:/]+(\.[A-Za-z0-9_\-:/]+)*$")
_PLAIN_KEY = re.compile(r"^[^.`]+$")


@dataclass(frozen=True, slots=True)
class EntityPath:
    """A validated entity path, split into its collection and its id."""

    path: str
    collection_path: str
    entity_id: str

    @property
    def collection(self) -> str:
        """The last collection segment: ``comments`` in ``pipelinesPackets/p1/comments/c9``."""
        return self.collection_path.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Labels:
    """What an entity's events are called and carry besides its state."""

    kind: str
    entity_key: str
    organization_id: str


@dataclass(frozen=True, slots=True)
class EntityState:
    """An entity as Hookline remembers it; times are epoch seconds to the microsecond."""

    properties: dict[str, Any]
    labels: Labels
    created_at: float
    updated_at: float

    @property
    def soft_removed(self) -> bool:
        return self.properties.get("softRemoved") is True


@dataclass(frozen=True, slots=True)
class Change:
    """One change worth an event. ``new`` None: the entity is forgotten (a hard delete)."""

    operation: Operation
    labels: Labels
    old: EntityState | None
    new: EntityState | None
    mask: list[str] | None

    @property
    def event_type(self) -> str:
        return f"{self.labels.kind}.{self.operation}"


def parse_path(raw: str) -> EntityPath:
    """``collectionPath/entityId``: an even number (≥ 2) of non-empty segments."""
    if len(raw) > MAX_PATH:
        raise ValueError(f"an entity path has at most {MAX_PATH} characters")
    segments = raw.split("/")
    if len(segments) < 2 or len(segments) % 2:
        raise ValueError(
            f"{raw!r} is not collectionPath/entityId: it needs an even number of segments"
            " (collection/id, collection/id/subcollection/id, …)"
        )
    for segment in segments:
        if segment in ("", ".", "..") or any(ord(ch) < 32 or ord(ch) == 127 for ch in segment):
            raise ValueError(f"{raw!r} has an empty, '.', '..' or control-character segment")
    return EntityPath(raw, "/".join(segments[:-1]), segments[-1])


def default_kind(collection: str) -> str:
    """The last camelCase word of a collection, lower-cased and singular."""
    words = _WORD.findall(collection)
    kind = _singular(words[-1].lower()) if words else ""
    if not kind:
        raise ValueError(f"no kind can be derived from collection {collection!r}; give 'kind'")
    return kind


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is")) or not word.endswith("s") or len(word) == 1:
        return word
    return word[:-1]


def check_kind(kind: str) -> str:
    if len(kind) > MAX_KIND or not _KIND.match(kind):
        raise ValueError(
            f"{kind!r} is not a kind: letters, digits, '_', '-', ':', '/' and inner dots,"
            f" at most {MAX_KIND} characters"
        )
    return kind


def resolve_labels(
    path: EntityPath,
    current: EntityState | None,
    *,
    kind: str | None,
    entity_key: str | None,
    organization_id: str | None,
    default_organization: str,
) -> Labels:
    """Given labels win, then the remembered ones, then the defaults."""
    if current is not None:
        base = current.labels
    else:
        derived = kind or default_kind(path.collection)
        base = Labels(derived, path.collection, default_organization)
    return Labels(
        check_kind(kind or base.kind),
        entity_key or base.entity_key,
        organization_id or base.organization_id,
    )


def next_time(now: float, previous: float | None) -> float:
    """``now`` to the microsecond, strictly after ``previous``: an entity's update times never
    repeat, which makes them a safe version for optimistic concurrency."""
    now = round(now, 6)
    return now if previous is None else max(now, round(previous + 1e-6, 6))


def upsert(
    current: EntityState | None, properties: dict[str, Any], labels: Labels, now: float
) -> Change | None:
    """The change a new state makes, or None when no property changed."""
    if current is None:
        at = next_time(now, None)
        return Change("created", labels, None, EntityState(properties, labels, at, at), None)
    mask = update_mask(current.properties, properties)
    if not mask:
        return None
    at = next_time(now, current.updated_at)
    new = EntityState(properties, labels, current.created_at, at)
    if new.soft_removed and not current.soft_removed:
        return Change("deleted", labels, current, new, None)
    return Change("updated", labels, current, new, mask)


def remove(current: EntityState | None, labels: Labels) -> Change | None:
    """Forgetting an entity; None when it is not known."""
    return None if current is None else Change("deleted", labels, current, None, None)


def update_mask(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The paths of the properties that differ, sorted: added, removed or changed keys, dotted
    into nested objects (``address.city``). A key holding ``.`` or a backtick is quoted in
    backticks. Lists are values: a changed list is one path."""
    return sorted(_diff(old, new, ""))


def _diff(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str) -> Iterator[str]:
    for key in old.keys() | new.keys():
        path = prefix + _field(key)
        if key not in old or key not in new:
            yield path
        elif isinstance(old[key], dict) and isinstance(new[key], dict):
            yield from _diff(old[key], new[key], path + ".")
        elif not same_json(old[key], new[key]):
            yield path


def _field(key: str) -> str:
    if _PLAIN_KEY.match(key):
        return key
    return "`" + key.replace("\\", "\\\\").replace("`", "\\`") + "`"


def same_json(a: Any, b: Any) -> bool:
    """JSON equality: ``1 == 1.0``, but ``true`` is not ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(same_json, a, b))
    return type(a) is type(b) and bool(a == b)


def iso_time(ts: float) -> str:
    """ISO 8601 in UTC with microseconds, always the same width."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def envelope(path: EntityPath, change: Change, now: float) -> dict[str, Any]:
    """The event payload, field for field as the integration guide shows it."""
    return {
        "eventTimestamp": iso_time(round(now, 6)),
        "operationType": change.operation,
        "entityPath": path.path,
        "entityId": path.entity_id,
        "entityKey": change.labels.entity_key,
        "collectionPath": path.collection_path,
        "organizationId": change.labels.organization_id,
        "data": {
            "value": document(path, change.new),
            "oldValue": document(path, change.old),
            "updateMask": change.mask,
        },
    }


def document(path: EntityPath, state: EntityState | None) -> dict[str, Any] | None:
    """An entity state as payloads show it (``data.value``, ``data.oldValue``)."""
    if state is None:
        return None
    return {
        "key": path.path,
        "properties": state.properties,
        "createTime": iso_time(state.created_at),
        "updateTime": iso_time(state.updated_at),
    }
