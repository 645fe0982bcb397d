"""Benchmark databases: a fresh SQLite file or PostgreSQL database per run, read directly.

Scenarios count rows themselves (it is a benchmark): no API round trip per poll.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

_PLACEHOLDER = re.compile(r"\$(\d+)")
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


class Db:
    """One benchmark database; ``scalar`` runs a read query without blocking the event loop.

    Queries use PostgreSQL's ``$n`` placeholders (rewritten to ``?n`` for SQLite).
    """

    def __init__(self, url: str, *, admin_url: str | None = None) -> None:
        self.url = url
        self._admin_url = admin_url

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def path(self) -> str:
        return self.url.removeprefix("sqlite:///")

    async def scalar(self, sql: str, *args: Any) -> Any:
        if self.is_sqlite:
            return await asyncio.to_thread(self._sqlite_scalar, sql, args)
        conn = await asyncpg.connect(self.url)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    def _sqlite_scalar(self, sql: str, args: tuple[Any, ...]) -> Any:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            row = conn.execute(_PLACEHOLDER.sub(r"?\1", sql), args).fetchone()
            return None if row is None else row[0]
        finally:
            conn.close()

    async def execute(self, sql: str) -> None:
        if self.is_sqlite:
            await asyncio.to_thread(self._sqlite_execute, sql)
            return
        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def _sqlite_execute(self, sql: str) -> None:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute(sql)
        finally:
            conn.close()

    async def attempts(self) -> int:
        return int(await self.scalar("SELECT COUNT(*) FROM attempts") or 0)

    async def drop(self) -> None:
        if self.is_sqlite:
            for suffix in ("", "-wal", "-shm"):
                Path(self.path + suffix).unlink(missing_ok=True)
            return
        if self._admin_url is not None:
            await _admin(
                self._admin_url, f'DROP DATABASE IF EXISTS "{_name(self.url)}" WITH (FORCE)'
            )


def sqlite_db(work_dir: Path, label: str) -> Db:
    path = work_dir / f"{label}-{uuid.uuid4().hex[:8]}.db"
    return Db(f"sqlite:///{path}")


async def postgres_db(admin_url: str, label: str) -> Db:
    name = f"hookline_bench_{label}_{uuid.uuid4().hex[:8]}"
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    return Db(urlunsplit(parts._replace(path=f"/{name}")), admin_url=admin_url)


async def postgres_version(admin_url: str) -> str:
    conn = await asyncpg.connect(admin_url)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


async def _admin(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")
