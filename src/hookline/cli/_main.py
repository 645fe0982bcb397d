"""The ``main`` group and the server-side commands: serve, worker, migrate, workspace,
generate-key. The receiver's tools, the ``flow``, ``operator-key`` and ``portal-link`` groups
and the ``workspace`` commands of :mod:`._workspaces` are registered at the end."""

from __future__ import annotations

import click

from hookline import __version__
from hookline.cli._common import (
    _guard,
    _run,
    _worker_options,
    database_option,
    metrics_options,
    settings_from,
)
from hookline.cli._flows import flow
from hookline.cli._operator_keys import operator_key
from hookline.cli._portal_links import portal_link
from hookline.cli._receiver import listen_command, verify_command
from hookline.cli._workspaces import workspace_delete, workspace_list
from hookline.settings import parse_networks


@click.group()
@click.version_option(__version__, prog_name="hookline")
@click.option(
    "--log-level",
    envvar="HOOKLINE_LOG_LEVEL",
    show_envvar=True,
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
def main(log_level: str) -> None:
    """Hookline: self-hosted webhooks, signed, retried, inspectable."""
    from hookline.runtime.logs import configure

    configure(log_level.upper())


@main.command()
@click.option(
    "--host", envvar="HOOKLINE_HOST", show_envvar=True, default="127.0.0.1", show_default=True
)
@click.option(
    "--port", envvar="HOOKLINE_PORT", show_envvar=True, default=8000, show_default=True, type=int
)
@database_option
@_worker_options
@metrics_options
@click.option(
    "--no-worker",
    is_flag=True,
    envvar="HOOKLINE_NO_WORKER",
    show_envvar=True,
    help="Run the API alone (workers run as `hookline worker`).",
)
@click.option(
    "--admin-token",
    envvar="HOOKLINE_ADMIN_TOKEN",
    show_envvar=True,
    default=None,
    help="Admin bearer token. Unset: one is generated at first start and printed once.",
)
def serve(
    host: str,
    port: int,
    database_url: str,
    concurrency: int,
    allowed_networks: str,
    metrics_port: int | None,
    metrics_host: str,
    no_worker: bool,
    admin_token: str | None,
) -> None:
    """Run the API and (unless --no-worker) an embedded delivery worker."""
    from hookline.runtime.process import Roles, run

    settings = settings_from(
        database_url=database_url,
        worker_concurrency=concurrency,
        allowed_networks=parse_networks(allowed_networks) or None,
        admin_token=admin_token,
        metrics_port=metrics_port,
        metrics_host=metrics_host,
    )
    _guard(lambda: _run(run(settings, Roles(api=True, worker=not no_worker, host=host, port=port))))


@main.command()
@database_option
@_worker_options
@metrics_options
def worker(
    database_url: str,
    concurrency: int,
    allowed_networks: str,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Run a delivery worker only (start as many as you like, on as many machines). Its
    Prometheus metrics are served only with --metrics-port."""
    from hookline.runtime.process import Roles, run

    settings = settings_from(
        database_url=database_url,
        worker_concurrency=concurrency,
        allowed_networks=parse_networks(allowed_networks) or None,
        metrics_port=metrics_port,
        metrics_host=metrics_host,
    )
    _guard(lambda: _run(run(settings, Roles(api=False, worker=True))))


@main.command()
@database_option
def migrate(database_url: str) -> None:
    """Apply pending schema migrations (and say what changed)."""
    from hookline.store.migrate import current_revision, head_revisions, upgrade

    settings = settings_from(database_url=database_url)
    url = settings.database_url

    def go() -> None:
        before = _run(current_revision(url))
        upgrade(url)
        click.echo(migrate_report(before, head_revisions()))

    _guard(go)


def migrate_report(before: frozenset[str], head: frozenset[str]) -> str:
    """What ``hookline migrate`` did, in one line."""
    from hookline.store.tables import metadata

    revision = ", ".join(sorted(head))
    if not before:
        tables = sorted(metadata.tables)
        return (
            f"created Hookline's schema at revision {revision}:"
            f" {len(tables)} tables ({', '.join(tables)})"
        )
    if before != head:
        return f"upgraded the schema from revision {', '.join(sorted(before))} to {revision}"
    return f"database schema is current (revision {revision})"


@main.group()
def workspace() -> None:
    """Manage workspaces (tenants)."""


@workspace.command("create")
@click.argument("name")
@database_option
def workspace_create(name: str, database_url: str) -> None:
    """Create a workspace; prints its id and a new API key (shown once)."""
    from hookline.runtime.process import prepare_database
    from hookline.services.workspaces import create_workspace
    from hookline.store import open_store

    settings = settings_from(database_url=database_url)

    async def go() -> None:
        await prepare_database(settings)
        store = await open_store(settings)
        try:
            ws, token = await create_workspace(store, name)
        finally:
            await store.close()
        click.echo(f"workspace_id: {ws.id}")
        click.echo(f"api_key: {token}")

    _guard(lambda: _run(go()))


@main.command("generate-key")
def generate_key() -> None:
    """Print a new key for HOOKLINE_SECRET_KEY (encrypts webhook secrets at rest)."""
    from hookline.domain.secretbox import SecretBox

    click.echo(SecretBox.generate_key())


main.add_command(verify_command)
main.add_command(listen_command)
main.add_command(flow)
main.add_command(operator_key)
main.add_command(portal_link)
workspace.add_command(workspace_list)
workspace.add_command(workspace_delete)
