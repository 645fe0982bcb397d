"""What the services of one process work with: the settings, the store, the router, the sender
and the group commit of publishes. Built once per process (``runtime.state.AppState.deps``) and
handed to every service call, whichever front door makes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hookline.services.routing import Router
from hookline.settings import Settings
from hookline.store import Store
from hookline.store.group_commit import GroupCommit

if TYPE_CHECKING:
    from hookline.delivery.sender import Sender

__all__ = ["Deps"]


@dataclass(frozen=True, slots=True)
class Deps:
    settings: Settings
    store: Store
    router: Router
    sender: Sender
    publisher: GroupCommit
