"""Reading a workspace's events back: by page, by type, by id, by text, and one event with its
deliveries across webhooks.

The store has no payload text search, so text is looked for in the latest ``TEXT_SCAN`` events
of the workspace.
"""

from __future__ import annotations

from hookline.domain.models import Delivery, Event, Page
from hookline.domain.records import record
from hookline.errors import NotFound
from hookline.services.deps import Deps
from hookline.store import DeliveryQuery

#: How many of the latest events a text search looks through.
TEXT_SCAN = 1000
_SCAN_PAGE = 250
_TRAIL = 200


@record
class EventTrail:
    """An event, its deliveries, and the name of each delivery's webhook (by webhook id)."""

    event: Event
    deliveries: list[Delivery]
    webhook_names: dict[str, str]


async def list_events(
    deps: Deps, workspace_id: str, *, limit: int, cursor: str | None, type: str | None = None
) -> Page:
    """The workspace's events, newest first; ``type`` keeps those of one type."""
    return await deps.store.history.list_events(workspace_id, limit=limit, cursor=cursor, type=type)


async def find_event(deps: Deps, workspace_id: str, event_id: str) -> Event | None:
    return await deps.store.history.get_event(workspace_id, event_id)


async def get_event(deps: Deps, workspace_id: str, event_id: str) -> Event:
    found = await deps.store.history.get_event(workspace_id, event_id)
    if found is None:
        raise NotFound(f"event {event_id} not found")
    return found


async def search_text(deps: Deps, workspace_id: str, text: str, *, limit: int) -> list[Event]:
    """Up to ``limit`` of the latest ``TEXT_SCAN`` events whose body contains ``text`` (case
    aside), newest first."""
    needle, found, cursor = text.casefold(), list[Event](), None
    for _ in range(TEXT_SCAN // _SCAN_PAGE):
        page = await deps.store.history.list_events(workspace_id, limit=_SCAN_PAGE, cursor=cursor)
        found += [e for e in page.items if needle in e.body.casefold()]
        if page.next_cursor is None or len(found) >= limit:
            break
        cursor = page.next_cursor
    return found[:limit]


async def event_trail(deps: Deps, workspace_id: str, event_id: str) -> EventTrail:
    """The event with (up to 200 of) its deliveries; a deleted webhook is named so."""
    store = deps.store
    event = await get_event(deps, workspace_id, event_id)
    page = await store.history.list_deliveries(
        workspace_id, DeliveryQuery(event_id=event_id, limit=_TRAIL)
    )
    names = {}
    for webhook_id in {d.webhook_id for d in page.items}:
        hook = await store.config.get_webhook(workspace_id, webhook_id)
        names[webhook_id] = hook.config.name if hook else f"{webhook_id} (deleted)"
    return EventTrail(event, page.items, names)
