"""Presets: event types Hookline can describe by itself (``hookline.domain.presets``), added to
a workspace's catalog on request; event types that exist are left as they are. Entity kinds are
also registered automatically the first time an entity of that kind is seen."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hookline.api.auth import WorkspaceId
from hookline.api.state import State
from hookline.domain.nul import NoNulModel
from hookline.services import catalog

router = APIRouter(prefix="/v1/workspaces/{ws}/event-types/presets", tags=["catalog"])


class PresetOut(BaseModel):
    created: list[str]
    existing: list[str]


class EntityKindsIn(NoNulModel):
    model_config = ConfigDict(extra="forbid")

    kinds: list[str] = Field(min_length=1, max_length=100)


@router.post("/jobs", response_model=PresetOut)
async def job_presets(ws: WorkspaceId, state: State) -> PresetOut:
    """Register ``job.succeeded`` and ``job.failed`` (payload ``jobId``, ``jobStatus``,
    ``outputId``, ``flowId``)."""
    done = await catalog.add_job_presets(state.deps, ws)
    return PresetOut(created=done.created, existing=done.existing)


@router.post("/entities", response_model=PresetOut)
async def entity_presets(ws: WorkspaceId, body: EntityKindsIn, state: State) -> PresetOut:
    """Register ``{kind}.created|updated|deleted`` before the first entity of a kind arrives,
    so webhooks can subscribe to, say, ``comment.deleted`` right away."""
    done = await catalog.add_entity_presets(state.deps, ws, body.kinds)
    return PresetOut(created=done.created, existing=done.existing)
