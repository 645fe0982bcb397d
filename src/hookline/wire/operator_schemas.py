"""Operator keys over REST (their JSON names are the contract): the token appears in the answer
that creates a key, and nowhere else."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hookline.domain.models import OperatorKey
from hookline.domain.nul import NoNulModel
from hookline.domain.timefmt import iso

__all__ = ["OperatorKeyCreated", "OperatorKeyIn", "OperatorKeyOut"]


class OperatorKeyIn(NoNulModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="Who or what uses the key.")


class OperatorKeyOut(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="The token's first characters, to tell keys apart.")
    created_at: str | None
    revoked_at: str | None = None

    @classmethod
    def of(cls, key: OperatorKey) -> OperatorKeyOut:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            created_at=iso(key.created_at),
            revoked_at=iso(key.revoked_at),
        )


class OperatorKeyCreated(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: str | None
    token: str = Field(description="The key itself: shown once, store it now.")

    @classmethod
    def of(cls, key: OperatorKey, token: str) -> OperatorKeyCreated:
        return cls(
            id=key.id, name=key.name, prefix=key.prefix, created_at=iso(key.created_at), token=token
        )
