"""What request handlers share: the settings, the store, the router and the sender."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from hookline.metrics import Metrics
from hookline.routing import Router
from hookline.settings import Settings
from hookline.store import Store

if TYPE_CHECKING:
    from hookline.delivery.sender import Sender


@dataclass
class AppState:
    settings: Settings
    store: Store
    router: Router
    sender: Sender
    admin_token_hash: str = field(repr=False)
    metrics: Metrics = field(default_factory=Metrics)


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.hookline
    return state


async def state_dependency(request: Request) -> AppState:
    """``get_state`` as a dependency: async, because FastAPI runs a plain function dependency
    in a thread pool, a thread hand-off on every request."""
    return get_state(request)


State = Annotated[AppState, Depends(state_dependency)]
