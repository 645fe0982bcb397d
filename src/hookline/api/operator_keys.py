"""Operator keys over REST, for the admin token or another operator key (a workspace API key is
refused with 403): the adapter of ``hookline.services.operators``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from hookline.api.auth import Principal, admin_only
from hookline.api.state import State
from hookline.services import operators
from hookline.wire.operator_schemas import OperatorKeyCreated, OperatorKeyIn, OperatorKeyOut
from hookline.wire.schemas import ListOut

router = APIRouter(prefix="/v1/operator-keys", tags=["operator keys"])
Admin = Annotated[Principal, Depends(admin_only)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OperatorKeyCreated)
async def create_operator_key(body: OperatorKeyIn, state: State, _: Admin) -> OperatorKeyCreated:
    """A new key with the admin token's rights; its ``token`` is in this answer only."""
    key, token = await operators.create_operator_key(state.store, body.name)
    return OperatorKeyCreated.of(key, token)


@router.get("", response_model=ListOut)
async def list_operator_keys(state: State, _: Admin) -> ListOut:
    """Every key, revoked ones included (``revoked_at`` set); never a token."""
    return ListOut(
        data=[OperatorKeyOut.of(k) for k in await operators.list_operator_keys(state.store)]
    )


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_operator_key(key_id: str, state: State, _: Admin) -> None:
    """Revoke a key: refused at once here, within ``HOOKLINE_API_KEY_CACHE_SECONDS`` by the
    other API processes."""
    await operators.revoke_operator_key(state.store, key_id)
    state.operator_keys.forget(key_id)
