"""``hookline workspace list`` and ``hookline workspace delete``: on the database directly, like
``workspace create`` (no running Hookline needed)."""

from __future__ import annotations

import sys

import click

from hookline.cli._common import _guard, _run, database_option, opened_store, table


@click.command("list")
@database_option
def workspace_list(database_url: str) -> None:
    """List the workspaces: id, name, uid (when set) and when each was created."""
    from hookline.domain.timefmt import iso

    async def go() -> None:
        async with opened_store(database_url) as store:
            found = await store.config.list_workspaces()
        if not found:
            click.echo("no workspaces")
            return
        rows = [(w.id, w.name, w.uid or "-", iso(w.created_at) or "-") for w in found]
        click.echo(table(("ID", "NAME", "UID", "CREATED"), rows))

    _guard(lambda: _run(go()))


@click.command("delete")
@click.argument("workspace_id")
@click.option(
    "--force",
    is_flag=True,
    help="Delete it even while deliveries are pending (they are dropped). Per run only: no"
    " environment variable sets it.",
)
@click.option(
    "--yes",
    "-y",
    is_flag=True,
    help="Do not ask for confirmation. Per run only: no environment variable sets it.",
)
@database_option
def workspace_delete(workspace_id: str, force: bool, yes: bool, database_url: str) -> None:
    """Delete a workspace and everything in it: webhooks, flows, its event types, events,
    deliveries and attempts, entities, bins, API keys. Refused while deliveries are pending,
    unless --force. A running Hookline refuses the workspace's API keys within
    HOOKLINE_API_KEY_CACHE_SECONDS."""
    from hookline.services.workspace_removal import (
        DeliveriesInFlight,
        removal_of,
        remove_workspace,
    )

    async def describe() -> tuple[str, int]:
        async with opened_store(database_url) as store:
            found, pending = await removal_of(store, workspace_id)
        return found.name, pending

    async def delete() -> None:
        async with opened_store(database_url) as store:
            await remove_workspace(store, workspace_id, force=force)

    def go() -> None:
        name, pending = _run(describe())
        noun = "delivery" if pending == 1 else "deliveries"
        if pending and not force:
            click.echo(
                f"error: workspace {workspace_id} has {pending} pending {noun}; use --force to"
                " drop them",
                err=True,
            )
            sys.exit(2)
        if not yes:
            dropped = f" and drop its {pending} pending {noun}" if pending else ""
            click.confirm(
                f"Delete workspace {workspace_id} ({name}) and everything in it{dropped}?",
                abort=True,
            )
        try:
            _run(delete())
        except DeliveriesInFlight as exc:  # queued since the question was asked
            click.echo(f"error: {exc.count} deliveries became pending; use --force", err=True)
            sys.exit(2)
        click.echo(f"deleted workspace {workspace_id}")

    _guard(go)
