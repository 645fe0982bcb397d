"""Entity events: report an entity's state (or its removal) and Hookline publishes what changed
(``hookline.services.entities``, which says how concurrent reports are ordered)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from hookline.api.auth import WorkspaceId
from hookline.api.state import State
from hookline.domain.entities import MAX_KIND, Operation
from hookline.domain.nul import NoNulModel
from hookline.services import entities
from hookline.services.entities import EntityChange, LabelsGiven
from hookline.wire.schemas import DeliveryRef

router = APIRouter(prefix="/v1/workspaces/{ws}/entities", tags=["entities"])

Kind = Annotated[str | None, Field(min_length=1, max_length=MAX_KIND)]
EntityKey = Annotated[str | None, Field(min_length=1, max_length=1024)]
OrganizationId = Annotated[str | None, Field(min_length=1, max_length=200)]


class EntityIn(NoNulModel):
    free_json: ClassVar[frozenset[str]] = frozenset({"properties"})
    model_config = ConfigDict(extra="forbid")

    properties: dict[str, Any]
    kind: Kind = None
    entityKey: EntityKey = None
    organizationId: OrganizationId = None


class EntityChangeOut(BaseModel):
    changed: bool
    event_id: str | None = None
    type: str | None = None
    operationType: Operation | None = None
    updateMask: list[str] | None = None
    deliveries: list[DeliveryRef] = Field(default_factory=list)


class EntityOut(BaseModel):
    key: str
    properties: dict[str, Any]
    createTime: str
    updateTime: str
    kind: str
    entityKey: str
    organizationId: str


@router.post("/{path:path}", response_model=EntityChangeOut)
async def report_entity(
    ws: WorkspaceId, path: str, body: EntityIn, state: State
) -> EntityChangeOut:
    """The entity's current properties: publishes ``{kind}.created`` or ``{kind}.updated``
    (``{kind}.deleted`` when ``softRemoved`` turns true), or nothing when nothing changed."""
    given = LabelsGiven(body.kind, body.entityKey, body.organizationId)
    return _out(await entities.report_entity(state.deps, ws, path, body.properties, given))


@router.delete("/{path:path}", response_model=EntityChangeOut)
async def delete_entity(
    ws: WorkspaceId,
    path: str,
    state: State,
    kind: Annotated[Kind, Query()] = None,
    entityKey: Annotated[EntityKey, Query()] = None,  # the payload's spelling
    organizationId: Annotated[OrganizationId, Query()] = None,
) -> EntityChangeOut:
    """Publishes ``{kind}.deleted`` with the last state as ``oldValue`` and forgets the entity;
    an unknown entity changes nothing."""
    given = LabelsGiven(kind, entityKey, organizationId)
    return _out(await entities.delete_entity(state.deps, ws, path, given))


@router.get("/{path:path}", response_model=EntityOut)
async def get_entity(ws: WorkspaceId, path: str, state: State) -> EntityOut:
    """The entity's last state as Hookline remembers it."""
    found = await entities.get_entity(state.deps, ws, path)
    labels = found.labels
    return EntityOut(
        **found.document,
        kind=labels.kind,
        entityKey=labels.entity_key,
        organizationId=labels.organization_id,
    )


def _out(done: EntityChange) -> EntityChangeOut:
    if done.change is None or done.event is None:
        return EntityChangeOut(changed=False, updateMask=[])
    return EntityChangeOut(
        changed=True,
        event_id=done.event.id,
        type=done.event.type,
        operationType=done.change.operation,
        updateMask=done.change.mask,
        deliveries=[DeliveryRef(id=d.id, webhook_id=d.webhook_id) for d in done.deliveries],
    )
