"""Deleting a workspace: the rule the REST API and the CLI apply.

Only the admin (the admin token, or an operator key) may delete one. While any of its
deliveries is pending (due, retrying, held for a disabled webhook, or being attempted by a
worker right now) the deletion is refused with 409 ``deliveries_in_flight``, unless it is
forced: then those deliveries are dropped with the rest, and a worker's result for one in
flight is discarded when it is recorded. The check is made once, when the deletion starts: an
event published while it runs is deleted with the rest.

What goes, and in how many transactions, is ``hookline.store.removal``'s text. Afterwards the
workspace's API keys no longer exist: the process that deleted it forgets them at once (its
REST adapter drops them from its key cache), every other process within
``HOOKLINE_API_KEY_CACHE_SECONDS``; a publish to it answers 404 at once everywhere (routing reads
the workspace's config version on every publish).
"""

from __future__ import annotations

from hookline.domain.models import Workspace
from hookline.errors import Conflict, NotFound
from hookline.services.deps import Deps
from hookline.services.workspaces import Principal, require_admin
from hookline.store import Store


class DeliveriesInFlight(Conflict):
    """409: the workspace has pending deliveries and the deletion was not forced."""

    code = "deliveries_in_flight"

    def __init__(self, workspace_id: str, count: int) -> None:
        self.count = count
        noun = "delivery" if count == 1 else "deliveries"
        super().__init__(
            f"workspace {workspace_id} has {count} pending {noun} (due, retrying, held or being"
            " attempted); delete it with ?force=true to drop them"
        )


async def delete_workspace(deps: Deps, who: Principal, workspace_id: str, force: bool) -> None:
    """Delete a workspace and everything it owns (see the module's text), and forget its
    routes and API keys in this process."""
    require_admin(who)
    await remove_workspace(deps.store, workspace_id, force=force)
    deps.router.forget(workspace_id)
    deps.forget_keys_of(workspace_id)


async def removal_of(store: Store, workspace_id: str) -> tuple[Workspace, int]:
    """The workspace and how many pending deliveries deleting it would drop (what the CLI asks
    about before it deletes); ``NotFound`` for an unknown workspace."""
    found = await store.config.get_workspace(workspace_id) if workspace_id else None
    if found is None:
        raise NotFound(f"workspace {workspace_id} not found")
    return found, await store.removal.pending_deliveries(workspace_id)


async def remove_workspace(store: Store, workspace_id: str, *, force: bool) -> None:
    """The deletion itself, on the store alone (the CLI runs it without a running Hookline):
    ``NotFound`` for an unknown workspace, ``DeliveriesInFlight`` unless ``force``."""
    _, pending = await removal_of(store, workspace_id)
    if pending and not force:
        raise DeliveriesInFlight(workspace_id, pending)
    if not await store.removal.delete_workspace(workspace_id):
        raise NotFound(f"workspace {workspace_id} not found")  # deleted meanwhile
