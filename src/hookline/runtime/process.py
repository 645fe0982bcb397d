"""Running Hookline: the API, the embedded worker, or both, in one event loop.

``hookline serve`` and ``hookline worker`` call :func:`run`; tests call it too, in-process, with
a ``stop`` event instead of a signal. The API (FastAPI, the dashboard, uvicorn) is imported only
when this process serves it: a ``hookline worker`` starts without loading any of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from hookline.delivery.destinations.pool import Destinations
from hookline.delivery.sender import Sender
from hookline.delivery.worker import Worker
from hookline.domain.address_policy import AddressPolicy
from hookline.errors import ConfigError
from hookline.runtime import partition_keeper, tracing
from hookline.runtime.listeners import bind, bound_port
from hookline.runtime.maintenance import Maintenance
from hookline.runtime.metrics import Metrics
from hookline.runtime.metrics_access import metrics_access
from hookline.runtime.metrics_server import start_metrics_server
from hookline.services.routing import Router
from hookline.services.workspaces import admin_token_hash
from hookline.settings import Settings
from hookline.store import Store, migrate, open_store
from hookline.store.migrate import schema_is_current

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Roles:
    api: bool = True
    worker: bool = True
    host: str = "127.0.0.1"
    port: int = 8000


class _ApiServer(Protocol):
    """What is needed of the uvicorn server: run it on a bound socket, and ask it to stop."""

    should_exit: bool

    async def serve(self, sockets: list[socket.socket] | None = None) -> None: ...


def _server(config: uvicorn.Config, on_started: Callable[[], None]) -> _ApiServer:
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # Signals are ours: the worker must drain before the process exits.
            yield

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:  # the socket accepts connections from here on
                on_started()

    return Server(config)


@dataclass
class _Sockets:
    """The process's listening sockets, all bound before any role starts (a taken port stops
    the start-up with one clear error, before anything says it is running)."""

    api: socket.socket | None = None
    metrics: socket.socket | None = None

    @classmethod
    def bind(cls, settings: Settings, roles: Roles) -> _Sockets:
        found = cls()
        try:
            if roles.api:
                found.api = bind(roles.host, roles.port, setting="--port or HOOKLINE_PORT")
            if settings.metrics_port is not None:
                found.metrics = bind(
                    settings.metrics_host,
                    settings.metrics_port,
                    setting="--metrics-port or HOOKLINE_METRICS_PORT",
                )
        except ConfigError:
            found.close()
            raise
        return found

    def close(self) -> None:
        for sock in (self.api, self.metrics):
            if sock is not None:
                sock.close()


def _url(host: str, sock: socket.socket) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{bound_port(sock)}"


async def prepare_database(settings: Settings) -> None:
    """SQLite migrates itself; PostgreSQL upgrades are an explicit ``hookline migrate``.

    A current schema is recognised with one query, without loading Alembic.
    """
    if await schema_is_current(settings.database_url):
        return
    if settings.is_sqlite:
        await migrate(settings)
    else:
        raise ConfigError("the database schema is not current: run `hookline migrate` first")


async def run(
    settings: Settings,
    roles: Roles,
    *,
    stop: asyncio.Event | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    if stop is None:
        stop = asyncio.Event()
        _handle_signals(stop)
    await prepare_database(settings)
    store = await open_store(settings, pool_size=max(10, settings.worker_concurrency // 20))
    await partition_keeper.make_ahead(store, settings)
    sender = Sender(
        AddressPolicy(settings.allowed_networks),
        excerpt_bytes=settings.response_excerpt_bytes,
        limit=settings.worker_concurrency,
    )
    await sender.start()
    destinations = Destinations(AddressPolicy(settings.allowed_networks))
    traced = tracing.start() is not None  # only with OTEL_* set: see runtime.tracing
    store.queue.reads_traceparent = traced
    try:
        await _run_roles(settings, roles, store, (sender, destinations), stop, announce)
    finally:
        await destinations.close()
        await sender.close()
        await store.close()
        if traced:
            await asyncio.to_thread(tracing.stop)  # exports the spans still buffered


def _settle_heap() -> None:
    """Exclude everything loaded at start-up (modules, the app, its models) from later garbage
    collections. A full collection otherwise walks those hundreds of thousands of long-lived
    objects each time: a pause of ~100 ms in which no request is answered and nothing is sent,
    the whole p99 at 500 events/s.

    Young collections are also made rarer (every 20,000 net allocations, not 700): each request
    and delivery allocates a few hundred short-lived objects, and collecting every few of them
    cost ~10 % of a busy worker's time (measured with the in-process drain).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


async def _run_roles(
    settings: Settings,
    roles: Roles,
    store: Store,
    outlets: tuple[Sender, Destinations],
    stop: asyncio.Event,
    announce: Callable[[str], None],
) -> None:
    sockets = _Sockets.bind(settings, roles)
    metrics = Metrics()
    scrapes = None
    try:
        if sockets.metrics is not None:
            access = metrics_access(settings, admin_token_hash=None)
            scrapes = await start_metrics_server(sockets.metrics, metrics, store, access)
        await _run_bound(settings, store, outlets, stop, announce, metrics, sockets.api, roles)
    finally:
        if scrapes is not None:
            await scrapes.cleanup()
        sockets.close()


async def _run_bound(
    settings: Settings,
    store: Store,
    outlets: tuple[Sender, Destinations],
    stop: asyncio.Event,
    announce: Callable[[str], None],
    metrics: Metrics,
    api_socket: socket.socket | None,
    roles: Roles,
) -> None:
    """Run the roles; HTTP requests and broker messages go out through ``outlets``, the
    process's one sender and one set of broker connections."""
    tasks: list[asyncio.Task[None]] = []
    worker = None
    sender, destinations = outlets
    if roles.worker:
        worker = Worker(
            store, settings, sender=sender, destinations=destinations, on_outcome=metrics.observe
        )
    if worker is not None:
        tasks.append(asyncio.create_task(worker.run(), name="hookline-worker"))
        upkeep = Maintenance(store, settings).run(stop)
        tasks.append(asyncio.create_task(upkeep, name="hookline-maintenance"))
    elif store.partitions is not None:  # the worker's maintenance keeps them otherwise
        keeper = partition_keeper.keep_ahead(store, settings, stop)
        tasks.append(asyncio.create_task(keeper, name="hookline-partitions"))
    server = None
    if api_socket is not None:
        server = await _api_server(settings, roles, store, outlets, metrics, announce, api_socket)
        tasks.append(asyncio.create_task(server.serve([api_socket]), name="hookline-api"))
    if worker is not None and server is None:
        announce(f"Hookline worker {worker.worker_id} started")
    _settle_heap()
    done = asyncio.create_task(stop.wait())
    await asyncio.wait([done, *tasks], return_when=asyncio.FIRST_COMPLETED)
    if server is not None:
        server.should_exit = True
    if worker is not None:
        worker.stop()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    done.cancel()
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _api_server(
    settings: Settings,
    roles: Roles,
    store: Store,
    outlets: tuple[Sender, Destinations],
    metrics: Metrics,
    announce: Callable[[str], None],
    sock: socket.socket,
) -> _ApiServer:
    import uvicorn

    from hookline.api.app import create_app
    from hookline.runtime.state import AppState

    token_hash, generated = await admin_token_hash(store, settings.admin_token)
    sender, destinations = outlets
    state = AppState(
        settings, store, Router(store), sender, token_hash, metrics, destinations=destinations
    )
    config = uvicorn.Config(
        create_app(state),
        host=roles.host,
        port=roles.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        loop="none",
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxy_networks,
    )
    url = _url(roles.host, sock)

    def started() -> None:
        announce(f"Hookline is running at {url}  (API docs: {url}/docs)")
        if generated:
            announce(f"Admin token (shown once, store it now): {generated}")

    return _server(config, started)


def _handle_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
