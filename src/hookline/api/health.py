"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter

from hookline.api.state import State

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(state: State) -> dict[str, str]:
    """The database answers (503 ``unavailable`` otherwise)."""
    await state.store.ping()
    return {"status": "ready"}
