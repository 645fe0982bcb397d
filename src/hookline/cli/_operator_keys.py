"""The ``operator-key`` group: make, list and revoke operator keys (the admin token's rights,
each with a name), on the database directly (no running Hookline needed)."""

from __future__ import annotations

import click

from hookline.cli._common import _guard, _run, database_option, opened_store, table


@click.group("operator-key")
def operator_key() -> None:
    """Manage operator keys: named keys with the admin token's rights, revocable one by one."""


@operator_key.command("create")
@click.argument("name")
@database_option
def operator_key_create(name: str, database_url: str) -> None:
    """Create an operator key; prints its id and its token (shown once: store it now)."""
    from hookline.services.operators import create_operator_key

    async def go() -> None:
        async with opened_store(database_url) as store:
            key, token = await create_operator_key(store, name)
        click.echo(f"operator_key_id: {key.id}")
        click.echo(f"token: {token}")

    _guard(lambda: _run(go()))


@operator_key.command("list")
@database_option
def operator_key_list(database_url: str) -> None:
    """List the operator keys, revoked ones included (never their tokens)."""
    from hookline.domain.timefmt import iso
    from hookline.services.operators import list_operator_keys

    async def go() -> None:
        async with opened_store(database_url) as store:
            found = await list_operator_keys(store)
        if not found:
            click.echo("no operator keys")
            return
        rows = [
            (k.id, k.name, k.prefix + "…", iso(k.created_at) or "-", iso(k.revoked_at) or "-")
            for k in found
        ]
        click.echo(table(("ID", "NAME", "PREFIX", "CREATED", "REVOKED"), rows))

    _guard(lambda: _run(go()))


@operator_key.command("revoke")
@click.argument("key_id")
@database_option
def operator_key_revoke(key_id: str, database_url: str) -> None:
    """Revoke an operator key. A running Hookline refuses it within
    HOOKLINE_API_KEY_CACHE_SECONDS (its dashboard sessions end at their next request)."""
    from hookline.services.operators import revoke_operator_key

    async def go() -> None:
        async with opened_store(database_url) as store:
            await revoke_operator_key(store, key_id)
        click.echo(f"revoked operator key {key_id}")

    _guard(lambda: _run(go()))
