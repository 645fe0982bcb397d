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


State = Annotated[AppState, Depends(get_state)]
