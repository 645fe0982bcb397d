"""Shared fixtures: real databases, real receivers, the real service on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hookline.runtime.process import Roles, run
from hookline.settings import Settings
from tests.polling import until

PG_ADMIN_DSN = os.environ.get("HOOKLINE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: How long a service started by a test may take to answer /healthz.
STARTUP_SECONDS = 10.0
#: One /healthz probe: a service that accepts connections but never answers is not waited on.
PROBE_TIMEOUT = aiohttp.ClientTimeout(total=2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_reachable() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return None
    except OSError as exc:
        return f"PostgreSQL is not reachable on 127.0.0.1:5432 ({exc})"


def require_postgres() -> None:
    """Skip locally when PostgreSQL is absent; under CI=true that is a failure, never a skip."""
    reason = _pg_reachable()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"{reason}: CI must run the PostgreSQL tests")
    pytest.skip(reason)


_TEMPLATE = f"hl_template_{os.getpid()}"
_template_ready = False


def _dsn(name: str) -> str:
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name


async def _migrated_template() -> str:
    """Once per test session: a database migrated as `hookline migrate` does, to copy from."""
    global _template_ready
    if not _template_ready:
        import asyncpg

        from hookline.store.migrate import upgrade

        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{_TEMPLATE}"')
        finally:
            await conn.close()
        await asyncio.to_thread(upgrade, _dsn(_TEMPLATE))
        _template_ready = True
    return _TEMPLATE


async def _create_pg_schema_db() -> str:
    """A fresh, migrated database per test (a copy of the session's migrated template)."""
    import asyncpg

    template = await _migrated_template()
    name = f"hl_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    return _dsn(name)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _template_ready:
        return

    async def drop() -> None:
        import asyncpg

        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


async def _drop_pg_db(dsn: str) -> None:
    import asyncpg

    name = dsn.rsplit("/", 1)[1]
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/hookline.db"
        return
    require_postgres()
    dsn = await _create_pg_schema_db()
    try:
        yield dsn
    finally:
        await _drop_pg_db(dsn)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    require_postgres()
    dsn = await _create_pg_schema_db()
    try:
        yield dsn
    finally:
        await _drop_pg_db(dsn)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """A real HTTP endpoint on 127.0.0.1 that records what arrives and answers as told."""

    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        async def enough() -> None:
            while len(self.requests) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), timeout)
        return self.requests


async def start_receiver() -> tuple[Receiver, web.AppRunner]:
    port = free_port()
    receiver = Receiver(url=f"http://127.0.0.1:{port}")

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        receiver.requests.append(
            Received(
                request.method,
                request.path_qs,
                dict(request.headers),
                body,
                asyncio.get_running_loop().time(),
            )
        )
        receiver.arrived.set()
        if receiver.delay:
            await asyncio.sleep(receiver.delay)
        status = receiver.statuses.pop(0) if receiver.statuses else receiver.status
        return web.Response(status=status, text="ok", headers=receiver.headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return receiver, runner


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec, runner = await start_receiver()
    try:
        yield rec
    finally:
        await runner.cleanup()


@dataclass
class Service:
    """The real service running in this event loop, and an HTTP client for its API."""

    url: str
    admin_token: str
    http: aiohttp.ClientSession
    settings: Settings

    async def call(
        self, method: str, path: str, *, token: str | None = None, json: Any = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        async with self.http.request(method, self.url + path, json=json, headers=headers) as r:
            body = await r.json() if r.content_type == "application/json" else await r.text()
            return r.status, body

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        status, body = await self.call(method, path, **kwargs)
        assert 200 <= status < 300, (status, body)
        return body

    async def workspace(self, name: str = "acme") -> tuple[str, str]:
        created = await self.ok("POST", "/v1/workspaces", json={"name": name})
        return created["id"], created["api_key"]


async def start_service(
    database_url: str, *, worker: bool = True, **overrides: Any
) -> tuple[Service, asyncio.Event, asyncio.Task[None]]:
    port = free_port()
    base: dict[str, Any] = {"allowed_networks": ("127.0.0.0/8",), "poll_interval": 0.2}
    settings = Settings(
        database_url=database_url, admin_token="test-admin-token", **(base | overrides)
    )
    stop = asyncio.Event()
    task = asyncio.create_task(
        run(settings, Roles(api=True, worker=worker, port=port), stop=stop, announce=lambda _: None)
    )
    http = aiohttp.ClientSession()
    service = Service(f"http://127.0.0.1:{port}", "test-admin-token", http, settings)

    async def healthy() -> bool:
        if task.done():
            await task  # raises what stopped it
            raise AssertionError("the service stopped before answering /healthz")
        try:
            async with http.get(service.url + "/healthz", timeout=PROBE_TIMEOUT) as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    try:
        await until(healthy, STARTUP_SECONDS, what=f"{service.url}/healthz answering 200")
    except BaseException:
        stop.set()
        await http.close()
        with contextlib.suppress(Exception):
            await task
        raise
    return service, stop, task


async def started(database_url: str, **overrides: Any) -> AsyncIterator[Service]:
    """A service for the length of an ``async for``, stopped and closed after it."""
    svc, stop, task = await start_service(database_url, **overrides)
    try:
        yield svc
    finally:
        stop.set()
        await task
        await svc.http.close()


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[Service]:
    async for svc in started(database_url):
        yield svc


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``make test``), the browser tests share one worker, so one Chromium
    serves them all (see ``tests/browser/conftest.py``); ``--dist loadgroup`` honours it."""
    browser = pytest.mark.xdist_group("browser")
    for item in items:
        if item.path.parent.name == "browser":
            item.add_marker(browser)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _quiet_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith("HOOKLINE_") and key != "HOOKLINE_TEST_PG":
            monkeypatch.delenv(key, raising=False)
    yield
