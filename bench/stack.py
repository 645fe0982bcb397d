"""A running Hookline: a database, ``hookline serve`` and zero or more ``hookline worker``s.

Backends: ``sqlite`` (one ``serve`` with its embedded worker), ``sqliteN`` (``serve --no-worker``
and N ``hookline worker`` processes sharing the SQLite file), ``pgN`` (``serve --no-worker`` and N
``hookline worker`` processes on a fresh PostgreSQL database), ``sqlite0``/``pg0`` (the API
alone).
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.api import Api
from bench.db import Db, postgres_db, sqlite_db
from bench.procs import Proc, Procs, free_port, hookline_argv, wait_port

LOOPBACK = "127.0.0.0/8"


@dataclass
class Context:
    """What every scenario shares: where to write, how to reach PostgreSQL, the HTTP session."""

    work_dir: Path
    procs: Procs
    pg_admin_url: str
    session: aiohttp.ClientSession


@dataclass
class Stack:
    db: Db
    api: Api
    server: Proc
    workers: list[Proc] = field(default_factory=list)
    _procs: list[Proc] = field(default_factory=list)

    @property
    def delivering(self) -> list[Proc]:
        """The processes that deliver: the workers, or the server with its embedded worker."""
        return self.workers or [self.server]

    async def stop(self) -> None:
        await self.stop_processes()
        await self.db.drop()

    async def stop_processes(self) -> None:
        """Stop Hookline's processes and keep the database."""
        for proc in reversed(self._procs):
            await asyncio.to_thread(proc.stop)


def parse_backend(backend: str) -> tuple[str, int]:
    """``sqlite`` → (sqlite, -1: embedded); ``sqlite1`` → (sqlite, 1); ``pg2`` → (postgres, 2);
    ``pg0``/``sqlite0`` → API only."""
    if backend == "sqlite":
        return "sqlite", -1
    if backend.startswith("sqlite") and backend[6:].isdigit():
        return "sqlite", int(backend[6:])
    if backend.startswith("pg") and backend[2:].isdigit():
        return "postgres", int(backend[2:])
    raise ValueError(f"unknown backend {backend!r}: sqlite, sqlite0, sqlite1, pg0, pg1, pg2, …")


async def new_db(ctx: Context, backend: str, label: str) -> Db:
    if parse_backend(backend)[0] == "sqlite":
        return sqlite_db(ctx.work_dir, label)
    db = await postgres_db(ctx.pg_admin_url, label)
    argv = hookline_argv("migrate", "--database-url", db.url)
    done = await asyncio.to_thread(subprocess.run, argv, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"hookline migrate failed:\n{done.stdout[-2000:]!r}")
    return db


async def start_stack(
    ctx: Context,
    backend: str,
    *,
    label: str,
    concurrency: int = 200,
    env: Mapping[str, str] | None = None,
    db: Db | None = None,
) -> Stack:
    """Start Hookline on a fresh database (or ``db``) and wait until its API answers."""
    workers = parse_backend(backend)[1]
    db = db or await new_db(ctx, backend, label)
    port, admin = free_port(), "hla_" + secrets.token_urlsafe(24)
    common = ["--concurrency", str(concurrency), "--allowed-networks", LOOPBACK]
    serve = ["serve", "--port", str(port), "--database-url", db.url, *common]
    serve += ["--admin-token", admin] + ([] if workers < 0 else ["--no-worker"])
    server = ctx.procs.start(f"serve-{label}", hookline_argv(*serve), env)
    await wait_port(port, server, timeout=60)
    stack = Stack(db, Api(ctx.session, f"http://127.0.0.1:{port}", admin), server)
    stack._procs.append(server)
    if workers > 0:
        await start_workers(ctx, stack, workers, label=label, concurrency=concurrency, env=env)
    return stack


async def start_workers(
    ctx: Context,
    stack: Stack,
    count: int,
    *,
    label: str,
    concurrency: int = 200,
    env: Mapping[str, str] | None = None,
    ready: bool = False,
) -> None:
    """Add ``count`` ``hookline worker`` processes (SQLite too: they share the file); with
    ``ready``, wait until each has imported everything and announced itself."""
    common = ["--concurrency", str(concurrency), "--allowed-networks", LOOPBACK]
    for _ in range(count):
        argv = hookline_argv("worker", "--database-url", stack.db.url, *common)
        worker = ctx.procs.start(f"worker-{label}", argv, env)
        stack.workers.append(worker)
        stack._procs.append(worker)
    for worker in stack.workers[-count:] if ready else ():
        await wait_log(worker, "started", timeout=60)
    await asyncio.sleep(0.5)  # workers connect and LISTEN


async def wait_log(proc: Proc, text: str, *, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while text not in proc.tail(50):
        if not proc.alive() or asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"{proc.name} did not say {text!r}:\n{proc.tail()}")
        await asyncio.sleep(0.05)


async def wait_attempts(
    stack: Stack, expected: int, *, timeout: float, interval: float = 0.1
) -> int:
    """Poll the attempts table until it holds ``expected`` rows; returns the count seen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = 0
    while loop.time() < deadline:
        seen = await stack.db.attempts()
        if seen >= expected:
            return seen
        for proc in stack.delivering:
            if not proc.alive():
                code = proc.popen.returncode
                raise RuntimeError(f"{proc.name} exited ({code}):\n{proc.tail()}")
        await asyncio.sleep(interval)
    return seen
