"""The start-up schema check: one plain query, exact, and in step with Alembic's scripts."""

from __future__ import annotations

import asyncio
import importlib
import os
from pathlib import Path

import asyncpg
import pytest
from alembic.script import ScriptDirectory

from hookline.errors import ConfigError, StoreUnavailable
from hookline.runtime.process import prepare_database
from hookline.settings import Settings
from hookline.store.migrate import (
    alembic_config,
    current_revision,
    downgrade,
    head_revisions,
    schema_is_current,
    upgrade,
)
from tests.conftest import PG_ADMIN_DSN, _dsn, require_postgres


def test_the_heads_read_without_alembic_are_alembics() -> None:
    scripts = ScriptDirectory.from_config(alembic_config("sqlite:///unused.db"))
    assert head_revisions() == set(scripts.get_heads())
    assert len(head_revisions()) == 1


def test_heads_of_a_branched_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scripts = {
        "a.py": 'revision: str = "a"\ndown_revision: str | None = None\n',
        "b.py": 'revision = "b"\ndown_revision = "a"\n',
        "c.py": 'revision = "c"\ndown_revision = "a"\n',
        "d.py": 'revision = "d"\ndown_revision = ("b", "c")\n',  # a merge
        "e.py": 'revision = "e"\ndown_revision = "c"\n',
        "__init__.py": "",
    }
    for name, text in scripts.items():
        (tmp_path / name).write_text(text)
    # (``hookline.store.migrate`` the attribute is the package's function of that name)
    monkeypatch.setattr(importlib.import_module("hookline.store.migrate"), "_VERSIONS", tmp_path)
    head_revisions.cache_clear()
    try:
        assert head_revisions() == {"d", "e"}
    finally:
        head_revisions.cache_clear()


async def test_a_migrated_database_is_current_and_a_downgraded_one_is_not(
    database_url: str,
) -> None:
    if database_url.startswith("sqlite"):  # the SQLite fixture database comes empty
        await asyncio.to_thread(upgrade, database_url)
    assert await current_revision(database_url) == head_revisions()
    assert await schema_is_current(database_url)
    await asyncio.to_thread(downgrade, database_url, "-1")
    assert not await schema_is_current(database_url)
    await asyncio.to_thread(downgrade, database_url, "base")
    assert await current_revision(database_url) == frozenset()  # the table, empty


async def test_a_missing_sqlite_file_is_not_current_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    assert await current_revision(f"sqlite:///{path}") == frozenset()
    assert not path.exists()


async def test_a_file_that_is_not_a_database_counts_as_unmigrated(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(os.urandom(4096))
    assert await current_revision(f"sqlite:///{path}") == frozenset()


async def test_sqlite_migrates_itself_at_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    await prepare_database(Settings(database_url=url))
    assert await schema_is_current(url)
    await prepare_database(Settings(database_url=url))  # current: nothing to do


@pytest.mark.postgres
async def test_postgres_never_migrated_is_refused_at_start() -> None:
    require_postgres()
    name = "hl_revision_probe"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        assert await current_revision(_dsn(name)) == frozenset()  # no alembic_version table
        with pytest.raises(ConfigError, match="hookline migrate"):
            await prepare_database(Settings(database_url=_dsn(name)))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_an_unreachable_postgres_is_unavailable() -> None:
    with pytest.raises(StoreUnavailable):
        await current_revision("postgresql://nobody@127.0.0.1:1/none")
