"""The shared state as a FastAPI dependency of the REST handlers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hookline.runtime.state import AppState, get_state

__all__ = ["AppState", "State", "get_state", "state_dependency"]


async def state_dependency(request: Request) -> AppState:
    """``get_state`` as a dependency: async, because FastAPI runs a plain function dependency
    in a thread pool, a thread hand-off on every request."""
    return get_state(request)


State = Annotated[AppState, Depends(state_dependency)]
