"""What the services of one process work with: the settings, the store, the router, the sender,
the group commit of publishes and the catalog's checks of what is published. Built once per
process (``runtime.state.AppState.deps``) and handed to every service call, whichever front door
makes it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hookline.services.catalog_gate import CatalogGate
from hookline.services.routing import Router
from hookline.settings import Settings
from hookline.store import Store
from hookline.store.group_commit import GroupCommit

if TYPE_CHECKING:
    from hookline.delivery.destinations.pool import Destinations
    from hookline.delivery.sender import Sender

__all__ = ["Deps"]


@dataclass(frozen=True, slots=True)
class Deps:
    settings: Settings
    store: Store
    router: Router
    sender: Sender
    publisher: GroupCommit
    catalog_gate: CatalogGate = field(default_factory=CatalogGate)
    forget_keys_of: Callable[[str], None] = field(default=lambda workspace_id: None)
    """Drop a deleted workspace's API keys from this process's caches (other processes stop
    trusting them within ``HOOKLINE_API_KEY_CACHE_SECONDS``)."""
    destinations: Destinations | None = None
    """The process's broker connections, for the Test button of broker actions."""
