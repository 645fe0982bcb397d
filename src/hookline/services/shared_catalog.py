"""The shared catalog: event types of the whole instance, which every workspace sees beside its
own (as Svix's event types belong to the organisation, not to one application). Only the admin
changes it: the callers check the principal, these functions take plain values.

Its names are Svix's (letters, digits, ``-``, ``_`` and ``.``). Deleting an entry archives it
unless ``expunge`` is asked for: an archived entry is listed only on request and no longer
counts for a workspace's ``strict_event_types``, and creating its name again brings it back
with the new definition. Creating a name that is not archived is a ``Conflict``.

Every change tells this process's catalog checks at once (``hookline.services.catalog_gate``);
other processes see it within ``SHARED_TTL_SECONDS``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from hookline.domain.models import SHARED_CATALOG, EventType, Page
from hookline.errors import Conflict, NotFound
from hookline.services.catalog_entries import (
    EventTypeDraft,
    changed,
    check_draft,
    new_event_type,
    replaced,
)
from hookline.services.deps import Deps

__all__ = [
    "create_shared_event_type",
    "delete_shared_event_type",
    "get_shared_event_type",
    "list_shared_event_types",
    "put_shared_event_type",
    "update_shared_event_type",
]


async def create_shared_event_type(deps: Deps, draft: EventTypeDraft) -> EventType:
    """A new entry; an archived entry of that name is brought back, replaced by ``draft``."""
    check_draft(draft, shared=True)
    now = time.time()
    current = await deps.store.catalog.get_event_type(SHARED_CATALOG, draft.name)
    if current is None:
        et = new_event_type(SHARED_CATALOG, draft, now)
    elif current.archived:
        et = replaced(current, draft, now)
    else:
        raise Conflict(f"event type {draft.name!r} exists", field="name")
    await _save(deps, et, create=current is None)
    return et


async def get_shared_event_type(deps: Deps, name: str) -> EventType:
    found = await deps.store.catalog.get_event_type(SHARED_CATALOG, name)
    if found is None:
        raise NotFound(f"event type {name!r} not found")
    return found


async def list_shared_event_types(
    deps: Deps,
    *,
    limit: int,
    after: str | None = None,
    include_archived: bool = False,
    before: str | None = None,
) -> Page:
    """A page of entries by name after the name ``after``, or the page before the name
    ``before`` (its ``next_cursor``: set when there are more in the direction read)."""
    return await deps.store.catalog.page_event_types(
        SHARED_CATALOG, limit=limit, after=after, include_archived=include_archived, before=before
    )


async def update_shared_event_type(deps: Deps, name: str, changes: Mapping[str, Any]) -> EventType:
    """Change what ``changes`` names (``catalog_entries.CHANGEABLE``); the rest stays."""
    current = await get_shared_event_type(deps, name)
    updated = changed(current, changes, time.time())
    await _save(deps, updated, create=False)
    return updated


async def put_shared_event_type(
    deps: Deps, name: str, draft: EventTypeDraft
) -> tuple[EventType, bool]:
    """Replace the entry ``name`` whole by ``draft`` (whose name is ``name``), or create it;
    the entry and whether it was created."""
    draft = replace(draft, name=name)
    check_draft(draft, shared=True)
    current = await deps.store.catalog.get_event_type(SHARED_CATALOG, name)
    now = time.time()
    if current is None:
        created = new_event_type(SHARED_CATALOG, draft, now)
        await _save(deps, created, create=True)
        return created, True
    updated = replaced(current, draft, now)
    await _save(deps, updated, create=False)
    return updated, False


async def delete_shared_event_type(deps: Deps, name: str, *, expunge: bool = False) -> None:
    """Archive the entry, or with ``expunge`` remove it for good."""
    current = await get_shared_event_type(deps, name)
    if not expunge:
        await _save(deps, replace(current, archived=True, updated_at=time.time()), create=False)
        return
    removed = await deps.store.catalog.delete_event_type(SHARED_CATALOG, name)
    deps.catalog_gate.shared_changed()
    if not removed:
        raise NotFound(f"event type {name!r} not found")


async def _save(deps: Deps, et: EventType, *, create: bool) -> None:
    try:
        await deps.store.catalog.save_event_type(et, create=create)
    finally:
        deps.catalog_gate.shared_changed()
