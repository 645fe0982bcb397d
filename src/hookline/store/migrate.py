"""Schema migrations through Alembic, driven from code (no alembic.ini needed).

Alembic (and SQLAlchemy under it) is imported only to migrate: a process whose database is
already current, such as every ``hookline worker``, checks the revision with one plain query
(:func:`current_revision`) and never loads them.
"""

from __future__ import annotations

import ast
import asyncio
import os
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from hookline.errors import StoreUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

_VERSIONS = Path(__file__).parent / "migrations" / "versions"


def sqlalchemy_url(database_url: str) -> str:
    """Map Hookline's database URL to the async SQLAlchemy driver URL Alembic connects with."""
    if database_url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + database_url.removeprefix("sqlite:///")
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+asyncpg://" + database_url.removeprefix(prefix)
    raise ValueError(f"unsupported database URL scheme: {database_url.split(':')[0]}")


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "hookline.store:migrations")
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision``. Blocking: call it outside the loop or in a thread."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The newest revision(s) of ``migrations/versions``, as Alembic finds them, without Alembic.

    Each script's ``revision`` and ``down_revision`` are read with ``ast`` (importing a script
    would import Alembic and SQLAlchemy): the heads are the revisions no script revises.
    """
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in _VERSIONS.glob("*.py"):
        if script.name.startswith(("__", ".#")):
            continue
        found = _script_revisions(script)
        if "revision" not in found:
            raise RuntimeError(f"migration {script.name} names no revision")
        revisions.add(str(found["revision"]))
        down = found.get("down_revision")
        if isinstance(down, str):
            revised.add(down)
        elif isinstance(down, tuple | list):
            revised.update(str(d) for d in down)
    return frozenset(revisions - revised)


def _script_revisions(script: Path) -> dict[str, object]:
    found: dict[str, object] = {}
    targets: list[ast.expr]
    for node in ast.parse(script.read_text(encoding="utf-8"), str(script)).body:
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                found[target.id] = ast.literal_eval(value)
    return found


async def current_revision(database_url: str) -> frozenset[str]:
    """The revisions recorded in ``alembic_version``: empty for a database never migrated.

    Raises ``StoreUnavailable`` if a PostgreSQL server cannot be reached.
    """
    sqlalchemy_url(database_url)  # the same schemes as the migrations, or ValueError
    if database_url.startswith("sqlite:///"):
        return await asyncio.to_thread(_sqlite_revision, database_url.removeprefix("sqlite:///"))
    import asyncpg

    try:
        # One query on a connection used once: nothing to gain from a named statement, and
        # behind PgBouncer in transaction mode one would outlive the connection on the server.
        conn = await asyncpg.connect(database_url, timeout=10, statement_cache_size=0)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StoreUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc
    try:
        found = await conn.fetch("SELECT version_num FROM alembic_version")
    except asyncpg.UndefinedTableError:
        return frozenset()
    finally:
        await conn.close()
    return frozenset(str(row["version_num"]) for row in found)


def _sqlite_revision(path: str) -> frozenset[str]:
    if not path or path == ":memory:" or not os.path.exists(path):
        return frozenset()  # connecting would create the file; upgrading will
    try:
        conn = sqlite3.connect(path, timeout=30)
        try:
            found = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:  # no such table, or not a database: upgrading tells what is wrong
        return frozenset()
    return frozenset(str(row[0]) for row in found)


async def schema_is_current(database_url: str) -> bool:
    """True if the database is at the newest revision this code knows."""
    return await current_revision(database_url) == head_revisions()


def is_current(database_url: str) -> bool:
    """:func:`schema_is_current`, blocking (it runs its own event loop: call it in a thread)."""
    return asyncio.run(schema_is_current(database_url))
