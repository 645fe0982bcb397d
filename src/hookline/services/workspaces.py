"""Workspaces, their API keys and the admin token, and who may act in which workspace: the
rules the REST API, the dashboard and the CLI all apply. An operator key
(``hookline.services.operators``) has the admin token's rights.

A workspace API key acts in its own workspace only. Used on another workspace's path it is
refused with 403 ``wrong_workspace`` whether that workspace exists or not, so the answer tells
a client its mistake without telling it which workspaces exist; the admin token may act in
every workspace, and an unknown one answers 404.
"""

from __future__ import annotations

import hmac
import time

from hookline.domain import keys
from hookline.domain.ids import new_id
from hookline.domain.models import ApiKey, OperatorKey, Workspace
from hookline.domain.records import record
from hookline.domain.workspace_fields import WorkspaceDraft, draft_problems
from hookline.errors import Forbidden, NotFound, raise_every
from hookline.services import operators
from hookline.services.deps import Deps
from hookline.store import Store


@record
class Principal:
    """Who a token is: the admin (the admin token, or an operator key: its id and hash), or a
    workspace API key (its workspace and hash)."""

    admin: bool
    workspace_id: str | None = None
    key_hash: str | None = None
    operator_key_id: str | None = None


ADMIN = Principal(admin=True)


def identify(
    admin_hash: str, token_hash: str, key: ApiKey | OperatorKey | None
) -> Principal | None:
    """The principal of a token given its hash and the live key stored under it, if any (an API
    key, or an operator key); None for a token that is neither the admin's nor a live key's.
    Hashes are compared in constant time."""
    if hmac.compare_digest(token_hash, admin_hash):
        return ADMIN
    if key is None or not hmac.compare_digest(token_hash, key.key_hash):
        return None
    if isinstance(key, OperatorKey):
        return Principal(admin=True, key_hash=key.key_hash, operator_key_id=key.id)
    return Principal(admin=False, workspace_id=key.workspace_id, key_hash=key.key_hash)


def is_operator_token(token: str) -> bool:
    """Whether a token is looked up among the operator keys (else among the API keys)."""
    return token.startswith(keys.OPERATOR_PREFIX)


async def sign_in(deps: Deps, admin_hash: str, token: str) -> Principal | None:
    """The principal of a token as typed (``None``: unknown or revoked)."""
    if not token:
        return None
    token_hash = keys.hash_token(token)
    if hmac.compare_digest(token_hash, admin_hash):
        return ADMIN  # no key lookup for the admin's token
    key: ApiKey | OperatorKey | None
    if is_operator_token(token):
        key = await operators.find_operator_key(deps, token_hash)
    else:
        key = await deps.store.config.find_api_key(token_hash)
    return identify(admin_hash, token_hash, key)


def require_admin(who: Principal) -> None:
    """Creating, listing and deleting workspaces, and managing operator keys, is the admin's
    alone (the admin token, or an operator key)."""
    if not who.admin:
        raise Forbidden("this operation needs the admin token or an operator key")


async def workspace_in_reach(deps: Deps, who: Principal, workspace_id: str) -> str:
    """``workspace_id`` if ``who`` may act in it: 404 for the admin when it does not exist, 403
    ``wrong_workspace`` for a key of another workspace (see the module's text)."""
    if who.admin:
        if await deps.store.config.get_workspace(workspace_id) is None:
            raise NotFound(f"workspace {workspace_id} not found")
        return workspace_id
    check_key_reach(who, workspace_id)
    return workspace_id


def check_key_reach(who: Principal, workspace_id: str | None) -> None:
    """403 ``wrong_workspace`` unless ``who`` is the admin or a key of ``workspace_id`` (None:
    a workspace that does not exist, which no key reaches)."""
    if not who.admin and (workspace_id is None or who.workspace_id != workspace_id):
        raise Forbidden("this key belongs to another workspace", code="wrong_workspace")


async def key_still_valid(deps: Deps, key_hash: str, workspace_id: str | None) -> bool:
    """Whether the key with this hash is live and still of ``workspace_id``."""
    key = await deps.store.config.find_api_key(key_hash)
    return key is not None and key.workspace_id == workspace_id


async def create_workspace(
    store: Store, name: str, draft: WorkspaceDraft | None = None
) -> tuple[Workspace, str]:
    """A new workspace and its first API key, ``default`` (the token, shown once). Takes the
    store alone, so the CLI can create one without a running Hookline. ``draft``: its uid,
    metadata and throttle rate (``Conflict`` when the uid is taken)."""
    draft = draft or WorkspaceDraft(name)
    raise_every(draft_problems(draft))
    now = time.time()
    workspace = Workspace(
        new_id("ws"), name, now, draft.uid, dict(draft.metadata or {}),
        draft.throttle_rate or None, updated_at=now,
    )  # fmt: skip
    await store.config.create_workspace(workspace)
    _, token = await _new_key(store, workspace.id, "default")
    return workspace, token


async def list_workspaces(deps: Deps) -> list[Workspace]:
    return await deps.store.config.list_workspaces()


async def find_workspace(deps: Deps, workspace_id: str) -> Workspace | None:
    return await deps.store.config.get_workspace(workspace_id)


async def get_workspace(deps: Deps, workspace_id: str) -> Workspace:
    found = await deps.store.config.get_workspace(workspace_id)
    if found is None:
        raise NotFound(f"workspace {workspace_id} not found")
    return found


async def create_api_key(deps: Deps, workspace_id: str, name: str) -> tuple[ApiKey, str]:
    """A new key; the token itself is returned once and only its hash is stored."""
    return await _new_key(deps.store, workspace_id, name)


async def list_api_keys(deps: Deps, workspace_id: str) -> list[ApiKey]:
    return await deps.store.config.list_api_keys(workspace_id)


async def revoke_api_key(deps: Deps, workspace_id: str, key_id: str) -> None:
    """Revoke at once in the database; each API process's key cache may trust it for at most
    ``HOOKLINE_API_KEY_CACHE_SECONDS`` more (the caller forgets it in its own)."""
    if not await deps.store.config.revoke_api_key(workspace_id, key_id, time.time()):
        raise NotFound(f"API key {key_id} not found")


async def _new_key(store: Store, workspace_id: str, name: str) -> tuple[ApiKey, str]:
    token = keys.new_token()
    key = ApiKey(
        id=new_id("key"),
        workspace_id=workspace_id,
        name=name,
        prefix=keys.display_prefix(token),
        key_hash=keys.hash_token(token),
        created_at=time.time(),
    )
    await store.config.create_api_key(key)
    return key, token


async def admin_token_hash(store: Store, configured: str | None) -> tuple[str, str | None]:
    """The admin token's hash, and the token itself when it was generated just now.

    A configured token (``HOOKLINE_ADMIN_TOKEN``) always wins. Otherwise the first start
    generates one, stores only its hash, and returns it once so it can be printed.
    """
    if configured:
        return keys.hash_token(configured), None
    token = keys.new_token("hla_")
    if await store.config.set_meta_if_absent(keys.ADMIN_HASH_META, keys.hash_token(token)):
        return keys.hash_token(token), token
    stored = await store.config.get_meta(keys.ADMIN_HASH_META)
    assert stored is not None
    return stored, None
