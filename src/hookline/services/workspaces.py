"""Workspaces, their API keys and the admin token (used by the API and the CLI alike)."""

from __future__ import annotations

import time

from hookline.domain import keys
from hookline.domain.ids import new_id
from hookline.domain.models import ApiKey, Workspace
from hookline.store import Store


async def create_api_key(store: Store, workspace_id: str, name: str) -> tuple[ApiKey, str]:
    """A new key; the token itself is returned once and only its hash is stored."""
    token = keys.new_token()
    key = ApiKey(
        id=new_id("key"),
        workspace_id=workspace_id,
        name=name,
        prefix=keys.display_prefix(token),
        key_hash=keys.hash_token(token),
        created_at=time.time(),
    )
    await store.create_api_key(key)
    return key, token


async def create_workspace(store: Store, name: str) -> tuple[Workspace, str]:
    workspace = Workspace(id=new_id("ws"), name=name, created_at=time.time())
    await store.create_workspace(workspace)
    _, token = await create_api_key(store, workspace.id, "default")
    return workspace, token


async def admin_token_hash(store: Store, configured: str | None) -> tuple[str, str | None]:
    """The admin token's hash, and the token itself when it was generated just now.

    A configured token (``HOOKLINE_ADMIN_TOKEN``) always wins. Otherwise the first start
    generates one, stores only its hash, and returns it once so it can be printed.
    """
    if configured:
        return keys.hash_token(configured), None
    token = keys.new_token("hla_")
    if await store.set_meta_if_absent(keys.ADMIN_HASH_META, keys.hash_token(token)):
        return keys.hash_token(token), token
    stored = await store.get_meta(keys.ADMIN_HASH_META)
    assert stored is not None
    return stored, None
