"""The ``hookline`` command: serve | worker | migrate | workspace | operator-key | portal-link |
generate-key | verify | listen | flow.

:mod:`._common` holds the helpers and options the commands share, :mod:`._main` the command group
and the server-side commands, :mod:`._receiver` ``verify`` and ``listen``, :mod:`._flows` the
``flow`` group, :mod:`._workspaces` ``workspace list`` and ``workspace delete``,
:mod:`._operator_keys` the ``operator-key`` group, :mod:`._portal_links` the ``portal-link``
group.

``pip install hookline`` brings the receiver's commands (``verify``, ``listen``, ``flow``); the
server's (``serve``, ``worker``, ``migrate``, ``workspace``, ``operator-key``, ``portal-link``)
need ``pip install 'hookline[server]'``, and without it they say so in one line instead of a
traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from hookline.cli._main import main as command_group

__all__ = ["SERVER_MODULES", "main"]

# The top-level modules the `server` extra installs (and those its packages bring with them).
SERVER_MODULES = frozenset(
    {"aiosmtplib", "aiosqlite", "alembic", "asyncpg", "fastapi", "fastapi_offline", "jinja2"}
    | {"jsonschema", "prometheus_client", "pydantic", "sqlalchemy", "starlette", "uvicorn"}
    | {"uvloop"}
)


def main(args: Sequence[str] | None = None) -> None:
    """Run the ``hookline`` command with ``args`` (default: the process's arguments)."""
    try:
        command_group.main(args)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in SERVER_MODULES:
            raise
        command = _command(sys.argv[1:] if args is None else args)
        click.echo(f"{command} needs the server: pip install 'hookline[server]'", err=True)
        sys.exit(1)


def _command(args: Sequence[str]) -> str:
    """The command ``args`` run, as the user would name it: ``hookline serve``."""
    name = next((arg for arg in args if arg in command_group.commands), None)
    return f"hookline {name}" if name else "hookline"
