"""What an aggregation window sends (pure): one request carrying every collected event.

The body is a JSON document, byte-identical to ``json.dumps`` like every Hookline body::

    {"type": "hookline.batch", "count": 3,
     "window_start": "2026-11-23T10:00:00Z", "window_end": "2026-11-23T10:10:00Z",
     "events": [{"id": "evt_…", "type": "task.completed", "created_at": "…", "payload": {…}}, …]}

Events are in arrival order. The window's delivery id is its ``id`` (the ``webhook-id`` of the
Standard Webhooks signature), so a receiver de-duplicates a re-sent window like any message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hookline.domain.models import Delivery, Event
from hookline.domain.payloads import encode_payload
from hookline.domain.timefmt import iso

BATCH_TYPE = "hookline.batch"


def window_document(events: Sequence[Event], start: float, end: float) -> dict[str, Any]:
    return {
        "type": BATCH_TYPE,
        "count": len(events),
        "window_start": iso(start),
        "window_end": iso(end),
        "events": [
            {
                "id": e.id,
                "type": e.type,
                "created_at": iso(e.created_at),
                "payload": json.loads(e.body),
            }
            for e in events
        ],
    }


def window_event(delivery: Delivery, events: Sequence[Event]) -> Event:
    """The window as one event, so that it is shaped, signed and sent like any other."""
    end = max(delivery.next_attempt_at, events[-1].created_at)
    document = window_document(events, delivery.created_at, end)
    return Event(
        id=delivery.id,
        workspace_id=delivery.workspace_id,
        type=BATCH_TYPE,
        body=encode_payload(document),
        idempotency_key=None,
        created_at=delivery.created_at,
    )
