"""The sample event of a webhook (pure): what the Test button sends and the previews show when
no event is given.

* The type: the one given; else the webhook's first exact event type; else the first type of
  the catalog its patterns match (``job.*`` → ``job.failed``); else ``hookline.test``.
* The payload: the one given; else the catalog example of the first such candidate type that
  has one (the type becomes that candidate) — its own ``example``, else the first of its newest
  schema's ``examples`` (where Svix keeps an event type's example); else the fallback payload
  ``{"type": <type>, "test": true, "message": "Test event from Hookline"}``.

A sample says when it is made up (``invented``): the REST preview, which shows what a real
event would produce, refuses one (422 on ``type`` or ``payload``, see docs/flows.md), where the
Test button and the dashboard's live preview send and show the fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hookline.domain.models import EventType, event_matches
from hookline.domain.records import record

__all__ = ["FALLBACK_TYPE", "Sample", "fallback_payload", "sample_event"]

#: The type of a sample when neither the webhook nor the catalog names one.
FALLBACK_TYPE = "hookline.test"


@record
class Sample:
    """A sample event. ``invented``: ``"type"`` when no event type could be chosen,
    ``"payload"`` when the type has no catalog example and none was given, else None."""

    type: str
    payload: Any
    invented: str | None = None


def fallback_payload(event_type: str) -> dict[str, Any]:
    """The payload of a sample whose type has no catalog example."""
    return {"type": event_type, "test": True, "message": "Test event from Hookline"}


def example_of(et: EventType) -> Any:
    """The event type's example: its own, else the first of its newest schema's ``examples``
    (None when it has neither)."""
    if et.example is not None:
        return et.example
    listed = (et.schema or {}).get("examples")
    return listed[0] if isinstance(listed, list) and listed else None


def candidate_types(
    patterns: Sequence[str], catalog: Sequence[EventType], given: str | None = None
) -> list[str]:
    """The types a sample may have, best first: the given one alone, else the exact names
    among ``patterns`` then the catalog's types they match."""
    if given:
        return [given]
    exact = [p for p in patterns if "*" not in p]
    matching = [et.name for et in catalog if event_matches(list(patterns), et.name)]
    return [*exact, *(name for name in matching if name not in exact)]


def sample_event(
    patterns: Sequence[str],
    catalog: Sequence[EventType],
    *,
    type: str | None = None,
    payload: Any = None,
) -> Sample:
    """The sample for a webhook subscribing to ``patterns``, from the workspace's ``catalog``;
    ``type`` and ``payload`` are what the caller gave (None: choose)."""
    candidates = candidate_types(patterns, catalog, type)
    if not candidates:
        chosen = FALLBACK_TYPE
        return Sample(chosen, fallback_payload(chosen) if payload is None else payload, "type")
    if payload is not None:
        return Sample(candidates[0], payload)
    examples = {et.name: found for et in catalog if (found := example_of(et)) is not None}
    for name in candidates:
        if name in examples:
            return Sample(name, examples[name])
    return Sample(candidates[0], fallback_payload(candidates[0]), "payload")
