"""Operator keys: named keys with the admin token's rights, for the people and programs that
run a Hookline (a deployment script, the Svix-compatible API's clients) so that none of them
needs the admin token itself, and each can be revoked alone.

A key is ``hlo_`` and 43 random characters, shown once when it is made; only its SHA-256 hash
is stored. A request bearing one acts as the admin (``Principal.admin``), and says which key it
was (``Principal.operator_key_id``). Revoking a key takes effect at once in the process that
revoked it and in the dashboard of every process; each other API process may trust a key it
looked up less than ``HOOKLINE_API_KEY_CACHE_SECONDS`` ago for that long (as for API keys).

The functions that make, list and revoke keys take the store alone, so the CLI can run them
against the database without a running Hookline.
"""

from __future__ import annotations

import time

from hookline.domain import keys
from hookline.domain.ids import new_id
from hookline.domain.models import OperatorKey
from hookline.errors import NotFound
from hookline.services.deps import Deps
from hookline.store import Store


async def create_operator_key(store: Store, name: str) -> tuple[OperatorKey, str]:
    """A new key named ``name``, and its token (returned this once, never stored)."""
    token = keys.new_token(keys.OPERATOR_PREFIX)
    key = OperatorKey(
        id=new_id("opk"),
        name=name,
        prefix=keys.display_prefix(token),
        key_hash=keys.hash_token(token),
        created_at=time.time(),
    )
    await store.operators.create_operator_key(key)
    return key, token


async def list_operator_keys(store: Store) -> list[OperatorKey]:
    """Every key, revoked ones included (``revoked_at`` set), oldest first; no tokens."""
    return await store.operators.list_operator_keys()


async def revoke_operator_key(store: Store, key_id: str) -> None:
    """Revoke a key (``NotFound`` when no live key has this id); see the module's text for when
    every process refuses it."""
    if not await store.operators.revoke_operator_key(key_id, time.time()):
        raise NotFound(f"operator key {key_id} not found")


async def find_operator_key(deps: Deps, token_hash: str) -> OperatorKey | None:
    """The live key whose token has this hash, or None."""
    return await deps.store.operators.find_operator_key(token_hash)


async def key_still_valid(deps: Deps, key_hash: str) -> bool:
    """Whether the operator key with this hash is live (a dashboard session signed in with it
    asks on every request)."""
    return await deps.store.operators.find_operator_key(key_hash) is not None
