"""A PostgreSQL outage under load: the API answers 503 and recovers, no accepted event is lost.

The test owns a private PostgreSQL cluster (initdb, then the server as a child process on a free
port), because it stops the server: the machine's shared server on 5432 serves other tests.
"""

from __future__ import annotations

import asyncio
import ctypes
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from hookline.domain.secretbox import SecretBox
from hookline.store.migrate import upgrade
from hookline.store.postgres import CHANNEL, PostgresStore
from tests.conftest import IN_CI, Receiver, Service, free_port, start_service
from tests.polling import until

pytestmark = pytest.mark.slow
OUTAGE_SECONDS = 3.0
# An answer slower than this while the database is down counts as a hang.
MAX_ANSWER_SECONDS = 5.0
PUBLISHERS = 4
STOP_SECONDS = 30  # a service that does not stop is a failure, not a hang
_PR_SET_PDEATHSIG = 1


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


def _die_with_parent() -> None:
    """In the child before exec: a killed test run must not leave a server running."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGINT)


class Cluster:
    """A throwaway PostgreSQL cluster in a temporary directory, on 127.0.0.1:``port``.

    The server is a child process of the test run (started from the main thread, which is what
    the parent-death signal watches). PostgreSQL refuses to run as root, so as root its files
    belong to, and its programs run as, the ``postgres`` user.
    """

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="hookline-pg-"))
        self.data = self.root / "data"
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/hookline"
        self._user = "postgres" if os.geteuid() == 0 else None
        self._server: subprocess.Popen[bytes] | None = None
        if self._user is not None:
            shutil.chown(self.root, self._user, self._user)

    def init(self) -> None:
        command = [str(self.bin_dir / "initdb"), "-D", str(self.data), "-A", "trust"]
        done = subprocess.run(
            [*command, "-U", "postgres", "--no-sync"],
            user=self._user,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"initdb failed:\n{done.stdout}\n{done.stderr}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def spawn(self) -> None:
        assert self._server is None, "already running"
        where = ["-D", str(self.data), "-p", str(self.port), "-k", str(self.root)]
        options = ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
        with (self.root / "server.log").open("ab") as log:
            self._server = subprocess.Popen(
                [str(self.bin_dir / "postgres"), *where, *options],
                user=self._user,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        ready = [str(self.bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        while subprocess.run(ready, check=False, timeout=10).returncode != 0:
            assert self._server is not None and self._server.poll() is None, self.log()
            assert time.monotonic() < deadline, "PostgreSQL did not start"
            time.sleep(0.1)

    def signal_stop(self) -> subprocess.Popen[bytes]:
        # SIGINT is the "fast" shutdown: every session is ended, mid-query included, as in a
        # restart or a failover.
        assert self._server is not None, "not running"
        server, self._server = self._server, None
        server.send_signal(signal.SIGINT)
        return server

    async def stop(self) -> None:
        server = self.signal_stop()
        await asyncio.to_thread(server.wait, 30)

    async def start(self) -> None:
        self.spawn()
        await asyncio.to_thread(self.wait_ready)

    def log(self) -> str:
        return (self.root / "server.log").read_text(errors="replace")

    def remove(self) -> None:
        if self._server is not None:
            self.signal_stop().wait(30)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    bin_dir = _pg_bin()
    if bin_dir is None:
        reason = "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin"
        if IN_CI:
            pytest.fail(f"{reason}: CI must run the outage test")
        pytest.skip(reason)
    pg = Cluster(bin_dir)
    try:
        pg.init()
        pg.spawn()
        pg.wait_ready()
        yield pg
    finally:
        pg.remove()


@pytest.fixture
async def fresh_db(cluster: Cluster) -> AsyncIterator[str]:
    if not cluster.running:
        await cluster.start()
    admin = await asyncpg.connect(cluster.dsn.rsplit("/", 1)[0] + "/postgres")
    try:
        await admin.execute("DROP DATABASE IF EXISTS hookline WITH (FORCE)")
        await admin.execute("CREATE DATABASE hookline")
    finally:
        await admin.close()
    await asyncio.to_thread(upgrade, cluster.dsn)
    yield cluster.dsn


@dataclass
class Publisher:
    """Publishes events one after another and sorts every answer."""

    service: Service
    path: str
    key: str
    accepted: list[str] = field(default_factory=list)
    unavailable: int = 0
    other: list[tuple[float, int | str, Any]] = field(default_factory=list)
    slowest: float = 0.0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, concurrency: int) -> None:
        """``concurrency`` publishers at once, so that queries are in flight when it stops."""
        await asyncio.gather(*(self._loop(i) for i in range(concurrency)))

    async def _loop(self, publisher: int) -> None:
        timeout = aiohttp.ClientTimeout(total=MAX_ANSWER_SECONDS * 2)
        headers = {"Authorization": f"Bearer {self.key}"}
        n = 0
        while not self._stop.is_set():
            n += 1
            started = time.monotonic()
            body = {"type": "order.created", "payload": {"publisher": publisher, "n": n}}
            try:
                async with self.service.http.post(
                    self.service.url + self.path, json=body, headers=headers, timeout=timeout
                ) as r:
                    answer = await r.json(content_type=None)
                    self._sort(r.status, answer, r.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.other.append((time.monotonic(), type(exc).__name__, str(exc)))
            self.slowest = max(self.slowest, time.monotonic() - started)
            await asyncio.sleep(0.01)

    def _sort(self, status: int, answer: Any, retry_after: str | None) -> None:
        if status == 202:
            self.accepted.append(answer["id"])
        elif status == 503 and answer["error"]["code"] == "unavailable" and retry_after:
            self.unavailable += 1
        else:
            self.other.append((time.monotonic(), status, answer))

    def stop(self) -> None:
        self._stop.set()


async def test_outage_answers_503_then_recovers_and_loses_nothing(
    cluster: Cluster, fresh_db: str, receiver: Receiver
) -> None:
    service, stop, task = await start_service(fresh_db, poll_interval=0.5)
    try:
        ws, key = await service.workspace()
        await service.ok(
            "POST",
            f"/v1/workspaces/{ws}/webhooks",
            token=key,
            json={"name": "sink", "url": receiver.url + "/hook", "events": ["*"]},
        )
        publisher = Publisher(service, f"/v1/workspaces/{ws}/events", key)
        publishing = asyncio.create_task(publisher.run(PUBLISHERS))
        await until(lambda: len(publisher.accepted) >= 20, 10, what="events before the outage")

        await cluster.stop()
        before = len(publisher.accepted)
        await until(lambda: publisher.unavailable >= 5, 10, what="503 answers")
        await asyncio.sleep(OUTAGE_SECONDS)
        down_accepted = len(publisher.accepted) - before
        await cluster.start()

        recovered = len(publisher.accepted)
        await until(
            lambda: len(publisher.accepted) >= recovered + 20, 15, what="the API to recover"
        )
        publisher.stop()
        await publishing

        assert publisher.other == [], "neither 503 nor 202"
        assert publisher.slowest < MAX_ANSWER_SECONDS
        assert down_accepted <= PUBLISHERS, "202s while the database was down"
        accepted = set(publisher.accepted)
        assert len(accepted) == len(publisher.accepted)

        def delivered() -> set[str]:
            return {r.headers["X-Hookline-Event-Id"] for r in receiver.requests}

        await until(lambda: accepted <= delivered(), 30, what="every accepted event to arrive")
        # Extra deliveries may exist: a commit whose answer was lost with the connection is a
        # 503 for an event that is in fact stored (the publisher's idempotency key covers it).
    finally:
        stop.set()
        await asyncio.wait_for(task, STOP_SECONDS)
        await service.http.close()


async def test_listen_connection_comes_back_after_a_restart(
    cluster: Cluster, fresh_db: str
) -> None:
    """A worker in another process learns of new work by NOTIFY alone, after a restart too."""
    store = await PostgresStore(fresh_db, SecretBox(None)).open()
    try:
        await store.wait_for_work(0.01)  # LISTEN is set up on the first wait
        await cluster.stop()
        # While the server is down: no error and no hang.
        await asyncio.wait_for(store.wait_for_work(0.01), MAX_ANSWER_SECONDS)
        await cluster.start()
        waiting = asyncio.create_task(store.wait_for_work(10))
        await asyncio.sleep(0.5)
        notifier = await asyncpg.connect(fresh_db)
        try:
            started = time.monotonic()
            await notifier.execute(f"NOTIFY {CHANNEL}")
            await waiting
        finally:
            await notifier.close()
        assert time.monotonic() - started < 2, "NOTIFY no longer reaches the listener"
    finally:
        await store.close()
