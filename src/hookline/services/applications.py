"""Workspaces as a SaaS vendor addresses them: by its own identifier (``uid``) as well as by
id, with metadata and a throttle rate; found or created in one call; paged through.

A Svix application is a workspace: the Svix-compatible API is an adapter over these functions,
and Hookline's own API and CLI reach the same workspaces. Who may reach which workspace stays
``hookline.services.workspaces``' rule.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from hookline.domain.ids import new_id
from hookline.domain.models import Workspace
from hookline.domain.workspace_fields import WorkspaceDraft, draft_problems
from hookline.errors import Conflict, NotFound, raise_every
from hookline.services.deps import Deps
from hookline.services.workspaces import Principal, check_key_reach, require_admin
from hookline.store import LogPage

__all__ = [
    "WorkspaceDraft",
    "create",
    "get_or_create",
    "list_page",
    "resolve",
    "update",
]


async def create(deps: Deps, who: Principal, draft: WorkspaceDraft) -> Workspace:
    """A new workspace (the admin's or an operator key's); ``Conflict`` when its uid is
    taken. It has no API key: the operator's token reaches it."""
    require_admin(who)
    raise_every(draft_problems(draft))
    now = time.time()
    workspace = Workspace(
        new_id("ws"), draft.name, now, draft.uid, dict(draft.metadata or {}),
        draft.throttle_rate or None, updated_at=now,
    )  # fmt: skip
    await deps.store.config.create_workspace(workspace)
    return workspace


async def get_or_create(
    deps: Deps, who: Principal, draft: WorkspaceDraft
) -> tuple[Workspace, bool]:
    """The workspace with the draft's uid if there is one (and whether it was created now);
    two concurrent calls create it once."""
    if draft.uid is not None:
        found = await deps.store.config.get_workspace_by_uid(draft.uid)
        if found is not None:
            check_key_reach(who, found.id)
            return found, False
    try:
        return await create(deps, who, draft), True
    except Conflict:
        assert draft.uid is not None
        found = await deps.store.config.get_workspace_by_uid(draft.uid)
        if found is None:
            raise
        check_key_reach(who, found.id)
        return found, False


async def resolve(deps: Deps, who: Principal, ref: str) -> Workspace:
    """The workspace whose id or uid is ``ref``, if ``who`` may reach it: 404 for the admin
    when none is, 403 ``wrong_workspace`` for a workspace key naming any other."""
    found = await deps.store.config.get_workspace(ref)
    if found is None:
        found = await deps.store.config.get_workspace_by_uid(ref)
    check_key_reach(who, None if found is None else found.id)
    if found is None:
        raise NotFound(f"application {ref} not found")
    return found


async def update(deps: Deps, workspace: Workspace, changes: Mapping[str, Any]) -> Workspace:
    """Change what ``changes`` names of ``name``, ``uid``, ``metadata``, ``throttle_rate``
    and ``strict_event_types``."""
    draft = WorkspaceDraft(
        changes.get("name", workspace.name),
        changes.get("uid", workspace.uid),
        changes.get("metadata", workspace.metadata),
        changes.get("throttle_rate", workspace.throttle_rate),
    )
    raise_every(draft_problems(draft))
    updated = replace(
        workspace,
        name=draft.name,
        uid=draft.uid,
        metadata=dict(draft.metadata or {}),
        throttle_rate=draft.throttle_rate or None,
        strict_event_types=bool(changes.get("strict_event_types", workspace.strict_event_types)),
        updated_at=time.time(),
    )
    if not await deps.store.config.update_workspace(updated):
        raise NotFound(f"application {workspace.id} not found")
    return updated


async def list_page(
    deps: Deps, who: Principal, *, limit: int, cursor: str | None, backwards: bool = False
) -> LogPage:
    """Workspaces oldest first (a workspace key sees only its own)."""
    if not who.admin:
        assert who.workspace_id is not None
        own = await deps.store.config.get_workspace(who.workspace_id)
        return LogPage([own] if own is not None and cursor is None else [], False)
    return await deps.store.config.list_workspaces_page(
        limit=limit, cursor=cursor, backwards=backwards
    )
