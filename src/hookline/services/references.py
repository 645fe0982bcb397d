"""Objects found by id or by the identifier their owner gave them (``uid``; for an event, the
idempotency key it was published with): a path may name either, as Svix's paths do."""

from __future__ import annotations

from hookline.domain.models import Event, Webhook
from hookline.errors import NotFound
from hookline.services.deps import Deps

__all__ = ["event_by_ref", "webhook_by_ref"]


async def webhook_by_ref(deps: Deps, ws: str, ref: str) -> Webhook:
    """The workspace's webhook whose id or uid is ``ref``."""
    found = await deps.store.config.get_webhook(ws, ref)
    if found is None:
        found = await deps.store.config.get_webhook_by_uid(ws, ref)
    if found is None:
        raise NotFound(f"endpoint {ref} not found")
    return found


async def event_by_ref(deps: Deps, ws: str, ref: str) -> Event:
    """The workspace's event whose id or idempotency key (its uid) is ``ref``."""
    found = await deps.store.history.get_event(ws, ref)
    if found is None:
        found = await deps.store.log.find_event_by_key(ws, ref)
    if found is None:
        raise NotFound(f"message {ref} not found")
    return found
