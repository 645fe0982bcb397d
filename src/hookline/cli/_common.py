"""Helpers every ``hookline`` command shares: the event loop, settings, errors, common options."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from hookline.errors import HooklineError
from hookline.settings import DEFAULT_DATABASE_URL, Settings

if TYPE_CHECKING:
    from hookline.store import Store

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover - uvloop is a dependency on every supported OS
        return asyncio.run(coro)


def database_option(func: F) -> F:
    return click.option(
        "--database-url",
        envvar="HOOKLINE_DATABASE_URL",
        show_envvar=True,
        default=DEFAULT_DATABASE_URL,
        show_default=True,
        help="sqlite:///PATH or postgresql://user@host/db",
    )(func)


def settings_from(**overrides: Any) -> Settings:
    try:
        return Settings.from_env().with_overrides(**overrides)
    except HooklineError as exc:
        raise click.UsageError(str(exc)) from exc


@asynccontextmanager
async def opened_store(database_url: str) -> AsyncIterator[Store]:
    """The store of ``database_url``, for a command that works on the database directly (no
    running Hookline needed): a SQLite file is migrated first, a PostgreSQL database must be."""
    from hookline.runtime.process import prepare_database
    from hookline.store import open_store

    settings = settings_from(database_url=database_url)
    await prepare_database(settings)
    store = await open_store(settings)
    try:
        yield store
    finally:
        await store.close()


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows under a header, in columns as wide as their widest cell."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = (
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
        for row in (header, *rows)
    )
    return "\n".join(line.rstrip() for line in lines)


def _worker_options(func: F) -> F:
    func = click.option(
        "--concurrency",
        type=click.IntRange(1, 10_000),
        envvar="HOOKLINE_WORKER_CONCURRENCY",
        show_envvar=True,
        default=200,
        show_default=True,
        help="Requests in flight at once per worker.",
    )(func)
    return click.option(
        "--allowed-networks",
        envvar="HOOKLINE_ALLOWED_NETWORKS",
        show_envvar=True,
        default="",
        help="Comma-separated CIDRs deliveries may reach although private/loopback "
        "(e.g. 10.0.0.0/8,127.0.0.1/32). Everything non-public is refused otherwise.",
    )(func)


def metrics_options(func: F) -> F:
    func = click.option(
        "--metrics-port",
        envvar="HOOKLINE_METRICS_PORT",
        show_envvar=True,
        type=click.IntRange(0, 65535),
        default=None,
        help="Serve /metrics on this port, not the API's (HOOKLINE_METRICS_TOKEN, if set, is "
        "required there too). Unset: `serve` answers /metrics on the API port to the metrics "
        "token or, without one, the admin token; a worker serves no metrics.",
    )(func)
    return click.option(
        "--metrics-host",
        envvar="HOOKLINE_METRICS_HOST",
        show_envvar=True,
        default="127.0.0.1",
        show_default=True,
        help="The address --metrics-port listens on (0.0.0.0 for a scraper on another host).",
    )(func)


def _guard(action: Callable[[], object]) -> None:
    try:
        action()
    except HooklineError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
