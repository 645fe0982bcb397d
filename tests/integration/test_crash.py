"""Crashes, restarts, drains and load, against the real CLI in subprocesses.

The API (``hookline serve``) and the workers (``hookline worker``) run as separate processes on
one database, as in production; receivers are real HTTP servers on 127.0.0.1. A lease cannot be
shorter than 35 s (Settings refuses less: one request may take 30 s), so the tests that SIGKILL a
worker wait for a real lease to expire and are marked slow.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from hookline.settings import Settings
from tests.conftest import Receiver, Service, free_port
from tests.polling import until

ADMIN_TOKEN = "crash-test-admin-token"
LEASE_SECONDS = 35  # the minimum Settings accepts
STARTUP_TIMEOUT = 30.0


class CliProcess:
    """One ``hookline`` subprocess; stdout and stderr go to a log file that tests can poll."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "hookline.cli", *args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.popen.send_signal(signal.SIGTERM)

    async def wait_exit(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while (code := self.popen.poll()) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.log_path.name} still running after {timeout}s")
            await asyncio.sleep(0.05)
        return code

    async def wait_for_output(self, *parts: str, timeout: float = STARTUP_TIMEOUT) -> None:
        async def found() -> bool:
            return any(all(p in line for p in parts) for line in self.log().splitlines())

        await eventually(found, timeout, f"{parts} in {self.log_path.name}", self)

    async def wait_healthy(
        self, http: aiohttp.ClientSession, url: str, timeout: float = STARTUP_TIMEOUT
    ) -> None:
        async def healthy() -> bool:
            try:
                async with http.get(url + "/healthz") as r:
                    return r.status == 200
            except aiohttp.ClientError:
                return False

        await eventually(healthy, timeout, f"{url}/healthz", self)

    def stop(self) -> None:
        """SIGKILL if still running, and reap: no process outlives its test."""
        if self.popen.poll() is None:
            self.kill()
        self.popen.wait(10)


async def eventually(
    check: Callable[[], Awaitable[bool]],
    timeout: float,
    what: str,
    proc: CliProcess | None = None,
) -> None:
    """Poll ``check`` until true; fail after ``timeout`` or as soon as ``proc`` dies."""

    async def met() -> bool:
        if await check():
            return True
        if proc is not None and proc.popen.poll() is not None:
            raise AssertionError(f"{proc.log_path.name} exited while waiting for {what}")
        return False

    await until(met, timeout, what=what, interval=0.1)


class Cluster:
    """Starts API and worker processes for one test and kills every one of them afterwards."""

    def __init__(self, tmp_path: Path, http: aiohttp.ClientSession) -> None:
        self._tmp_path = tmp_path
        self.http = http
        self.processes: list[CliProcess] = []

    def spawn(self, name: str, args: list[str], database_url: str, **env: object) -> CliProcess:
        log_path = self._tmp_path / f"{len(self.processes):02d}-{name}.log"
        proc = CliProcess(args, _env(database_url, **env), log_path)
        self.processes.append(proc)
        return proc

    async def api(
        self, database_url: str, *, worker: bool = False, **env: object
    ) -> tuple[CliProcess, Service]:
        """``hookline serve``, with or without its embedded worker, once /healthz answers."""
        port = free_port()
        args = ["serve", "--port", str(port)] + ([] if worker else ["--no-worker"])
        proc = self.spawn("serve", args, database_url, **env)
        url = f"http://127.0.0.1:{port}"
        await proc.wait_healthy(self.http, url)
        settings = Settings(database_url=database_url)
        return proc, Service(url, ADMIN_TOKEN, self.http, settings)

    async def worker(self, database_url: str, **env: object) -> CliProcess:
        """``hookline worker``, once it announces "Hookline worker … started"."""
        proc = self.spawn("worker", ["worker"], database_url, **env)
        await proc.wait_for_output("Hookline worker ", " started")
        return proc

    def stop_all(self) -> None:
        for proc in self.processes:
            proc.stop()
            lines = [line for line in proc.log().splitlines() if '"alembic.' not in line]
            print(f"--- {proc.log_path.name} (exit {proc.popen.returncode}) ---")
            print("\n".join(lines[-40:]))


def _env(database_url: str, **settings: object) -> dict[str, str]:
    """This environment without HOOKLINE_* variables, plus the given settings as HOOKLINE_*."""
    values: dict[str, object] = {
        "database_url": database_url,
        "admin_token": ADMIN_TOKEN,
        "allowed_networks": "127.0.0.0/8",
        "poll_interval": 0.2,
        "lease_seconds": LEASE_SECONDS,
        **settings,
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env["PYTHONUNBUFFERED"] = "1"  # the "started" line must reach the log file at once
    return env | {f"HOOKLINE_{k.upper()}": str(v) for k, v in values.items()}


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    # Tests request this fixture last, so that their processes die before the receiver and the
    # database they use are torn down (fixtures end in reverse order).
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        started = Cluster(tmp_path, http)
        try:
            yield started
        finally:
            started.stop_all()


# -- publishing and inspecting through the API --------------------------------------------------


async def subscribe(api: Service, receiver: Receiver) -> tuple[str, str]:
    """A workspace with one webhook to ``receiver``: (workspace id, API key)."""
    ws, key = await api.workspace()
    hook = {"name": "sink", "url": receiver.url + "/hook", "events": ["*"]}
    await api.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=hook)
    return ws, key


async def publish(
    api: Service, ws: str, key: str, count: int, *, parallel: int = 50
) -> list[dict[str, Any]]:
    """Publish ``count`` events, ``parallel`` at a time; the 202 answers.

    A lane stops at the first connection error, so when the API is killed mid-way the result
    holds exactly the events that were accepted.
    """
    accepted: list[dict[str, Any]] = []
    numbers = iter(range(count))

    async def lane() -> None:
        for n in numbers:
            body = {"type": "crash.test", "payload": {"n": n}}
            try:
                status, event = await api.call(
                    "POST", f"/v1/workspaces/{ws}/events", token=key, json=body
                )
            except aiohttp.ClientError:
                return
            assert status == 202, (status, event)
            accepted.append(event)

    await asyncio.gather(*(lane() for _ in range(parallel)))
    return accepted


async def deliveries(
    api: Service, ws: str, key: str, status: str | None = None
) -> list[dict[str, Any]]:
    """Every delivery of the workspace (optionally with one status), through the paged API."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = "?limit=500" + (f"&status={status}" if status else "")
        query += f"&cursor={cursor}" if cursor else ""
        page = await api.ok("GET", f"/v1/workspaces/{ws}/deliveries{query}", token=key)
        found += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            return found


async def settle(api: Service, ws: str, key: str, timeout: float) -> Counter[str]:
    """Wait until no delivery is pending (due, leased or retrying); the count per status."""

    async def nothing_pending() -> bool:
        return await deliveries(api, ws, key, "pending") == []

    await eventually(nothing_pending, timeout, "no pending deliveries")
    return Counter(d["status"] for d in await deliveries(api, ws, key))


def header_counts(receiver: Receiver, name: str, start: int = 0) -> Counter[str]:
    return Counter(r.headers[name] for r in receiver.requests[start:])


async def kill_mid_flight(proc: CliProcess, receiver: Receiver, after: int) -> tuple[int, int]:
    """SIGKILL ``proc`` once ``after`` requests arrived: (requests then, how many unanswered)."""
    await receiver.wait_for(after, timeout=60)
    killed_at = asyncio.get_running_loop().time()
    proc.kill()
    assert await proc.wait_exit() == -signal.SIGKILL
    # The receiver answers each request ``delay`` after it arrives: later ones were in flight.
    unanswered = sum(1 for r in receiver.requests if r.at > killed_at - receiver.delay)
    await asyncio.sleep(0.2)  # whatever the process wrote before it died has been read by now
    return len(receiver.requests), unanswered


# -- 1. a worker killed mid-run -----------------------------------------------------------------


@pytest.mark.slow
async def test_sigkilled_worker_loses_no_event(
    database_url: str, receiver: Receiver, cluster: Cluster
) -> None:
    receiver.delay = 0.5  # every request is in flight for 0.5 s: the kill lands mid-flight
    _, api = await cluster.api(database_url)
    ws, key = await subscribe(api, receiver)
    slots = {"worker_concurrency": 50, "per_webhook_concurrency": 50}
    doomed = await cluster.worker(database_url, **slots)
    publishing = asyncio.create_task(publish(api, ws, key, 400, parallel=20))
    before_restart, unanswered = await kill_mid_flight(doomed, receiver, after=100)
    published = await publishing
    assert len(published) == 400

    started = time.monotonic()
    await cluster.worker(database_url, **slots)
    assert await settle(api, ws, key, LEASE_SECONDS + 30) == {"succeeded": len(published)}
    arrivals = header_counts(receiver, "X-Hookline-Event-Id")
    assert set(arrivals) == {e["id"] for e in published}, "an accepted event was never delivered"
    twice = sorted(n for n in arrivals.values() if n > 1)
    print(
        f"\n[{database_url.split(':')[0]}] {len(published)} events; {before_restart} requests"
        f" before the kill, {unanswered} of them unanswered; {len(twice)} events arrived twice;"
        f" recovery took {time.monotonic() - started:.1f}s"
    )
    # The unanswered requests were never recorded, so they must come again once their lease
    # expires; and the new worker, alone, delivers each event at most once.
    assert unanswered >= 1 and len(twice) >= unanswered
    assert max(header_counts(receiver, "X-Hookline-Event-Id", before_restart).values()) == 1


# -- 2. two workers, one PostgreSQL database, 10,000 events -------------------------------------


class LeaseSampler:
    """Polls ``deliveries.leased_by`` to see which workers held deliveries.

    Nothing a receiver sees tells the workers apart, and recording clears ``leased_by``, so this
    samples the leases while they are held. A delivery may be seen with two holders without
    being sent twice: a worker gives back what it claimed beyond a webhook's in-flight cap.
    """

    # status = 'pending' lets PostgreSQL use the small partial index instead of a full scan.
    _SQL = "SELECT id, leased_by FROM deliveries WHERE status = 'pending' AND leased_by IS NOT NULL"

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self.holders: defaultdict[str, set[str]] = defaultdict(set)
        self._stop = asyncio.Event()

    async def run(self) -> None:
        conn = await asyncpg.connect(self._dsn)
        try:
            while not self._stop.is_set():
                for row in await conn.fetch(self._SQL):
                    self.holders[row["id"]].add(row["leased_by"])
                await asyncio.sleep(0.05)
        finally:
            await conn.close()

    def stop(self) -> None:
        self._stop.set()

    def pids(self) -> Counter[int]:
        """Deliveries seen leased, by worker process id (worker ids are host:pid:object)."""
        return Counter(int(h.split(":")[1]) for held in self.holders.values() for h in held)


async def settle_postgres(dsn: str, timeout: float) -> dict[str, int]:
    """Wait until no delivery is pending; the count per status, and attempts (key 'attempts')."""
    conn = await asyncpg.connect(dsn)
    try:

        async def nothing_pending() -> bool:
            n = await conn.fetchval("SELECT count(*) FROM deliveries WHERE status = 'pending'")
            return int(n) == 0

        await eventually(nothing_pending, timeout, "no pending deliveries")
        rows = await conn.fetch("SELECT status, count(*) AS n FROM deliveries GROUP BY status")
        counts = {r["status"]: int(r["n"]) for r in rows}
        counts["attempts"] = int(await conn.fetchval("SELECT count(*) FROM attempts"))
        return counts
    finally:
        await conn.close()


@pytest.mark.slow
@pytest.mark.postgres
async def test_two_workers_deliver_10000_events_exactly_once(
    pg_url: str, receiver: Receiver, cluster: Cluster
) -> None:
    total = 10_000
    _, api = await cluster.api(pg_url)
    ws, key = await subscribe(api, receiver)
    # One fast endpoint: let each worker use all its slots on it.
    workers = [await cluster.worker(pg_url, per_webhook_concurrency=200) for _ in range(2)]
    sampler = LeaseSampler(pg_url)
    sampling = asyncio.create_task(sampler.run())
    started = time.monotonic()
    published = await publish(api, ws, key, total, parallel=50)
    published_in = time.monotonic() - started
    await receiver.wait_for(total, timeout=300)  # generous: CI machines may be shared
    delivered_in = time.monotonic() - started
    counts = await settle_postgres(pg_url, timeout=60)
    await asyncio.sleep(1.0)  # a late duplicate would arrive now
    sampler.stop()
    await sampling

    expected = {d["id"] for e in published for d in e["deliveries"]}
    arrivals = header_counts(receiver, "X-Hookline-Delivery-Id")
    assert len(expected) == total
    assert set(arrivals) == expected
    assert [d for d, n in arrivals.items() if n > 1] == []
    assert counts == {"succeeded": total, "attempts": total}
    shares = sampler.pids()
    print(
        f"\npublished {total} events in {published_in:.1f}s ({total / published_in:.0f}/s);"
        f" all delivered after {delivered_in:.1f}s ({total / delivered_in:.0f}/s end to end);"
        f" deliveries seen leased per worker pid: {dict(shares)}"
    )
    assert {w.pid for w in workers} <= set(shares), "a worker did no work"
    assert set(shares) <= {w.pid for w in workers}


# -- 3. SIGTERM drains ---------------------------------------------------------------------------


async def test_sigterm_drains_in_flight_deliveries(
    database_url: str, receiver: Receiver, cluster: Cluster
) -> None:
    receiver.delay = 1.0
    _, api = await cluster.api(database_url)
    ws, key = await subscribe(api, receiver)
    published = await publish(api, ws, key, 20, parallel=5)
    assert len(published) == 20
    worker = await cluster.worker(database_url, worker_concurrency=5)
    await receiver.wait_for(5, timeout=15)
    worker.terminate()
    assert await worker.wait_exit(timeout=15) == 0, worker.log()[-2000:]

    in_flight = set(header_counts(receiver, "X-Hookline-Delivery-Id"))
    assert len(receiver.requests) == 5, "the worker claimed new work after SIGTERM"
    status = {d["id"]: (d["status"], d["attempt_count"]) for d in await deliveries(api, ws, key)}
    assert {status[d] for d in in_flight} == {("succeeded", 1)}
    assert {s for d, s in status.items() if d not in in_flight} == {("pending", 0)}
    # Nothing is left leased: a new worker sends the other 15 long before a lease could expire.
    await cluster.worker(database_url)
    await receiver.wait_for(20, timeout=LEASE_SECONDS / 3)
    assert header_counts(receiver, "X-Hookline-Event-Id") == Counter(e["id"] for e in published)


# -- 4. the single-process SQLite service, killed and restarted ----------------------------------


@pytest.mark.slow
async def test_restarted_sqlite_service_delivers_every_accepted_event(
    tmp_path: Path, receiver: Receiver, cluster: Cluster
) -> None:
    database_url = f"sqlite:///{tmp_path}/hookline.db"
    receiver.delay = 0.2
    first, api = await cluster.api(database_url, worker=True)
    ws, key = await subscribe(api, receiver)
    publishing = asyncio.create_task(publish(api, ws, key, 600, parallel=10))
    _, unanswered = await kill_mid_flight(first, receiver, after=100)
    accepted = await publishing
    delivered_before = set(header_counts(receiver, "X-Hookline-Event-Id"))

    started = time.monotonic()
    _, api = await cluster.api(database_url, worker=True)
    statuses = await settle(api, ws, key, LEASE_SECONDS + 30)
    assert set(statuses) == {"succeeded"}
    arrivals = header_counts(receiver, "X-Hookline-Event-Id")
    missing = {e["id"] for e in accepted} - set(arrivals)
    print(
        f"\n{len(accepted)} of 600 events accepted before the kill, {len(delivered_before)}"
        f" delivered before it ({unanswered} unanswered);"
        f" {sum(n > 1 for n in arrivals.values())} arrived twice;"
        f" recovery took {time.monotonic() - started:.1f}s"
    )
    assert missing == set()


# -- 5. an API process killed while it accepts events --------------------------------------------


async def test_sigkilled_api_loses_no_accepted_event(
    database_url: str, receiver: Receiver, cluster: Cluster
) -> None:
    """A 202 is given only once the event and its deliveries are committed: an API process
    killed mid-publish (``serve --no-worker``; workers in their own process) loses none of
    the events it accepted, on either database."""
    killed, api = await cluster.api(database_url)
    ws, key = await subscribe(api, receiver)
    await cluster.worker(database_url)
    publishing = asyncio.create_task(publish(api, ws, key, 3000, parallel=20))
    await receiver.wait_for(200, timeout=60)  # the worker is delivering while events arrive
    killed.kill()
    assert await killed.wait_exit() == -signal.SIGKILL
    accepted = await publishing
    # 200 delivered means ~200 accepted, less the 202s still on their way (20 lanes).
    assert 150 <= len(accepted) < 3000, "the kill must land mid-publish"

    _, api = await cluster.api(database_url)
    statuses = await settle(api, ws, key, timeout=60)
    assert set(statuses) == {"succeeded"}
    arrivals = header_counts(receiver, "X-Hookline-Event-Id")
    assert {e["id"] for e in accepted} - set(arrivals) == set()
    # Events committed whose 202 was lost with the process are stored and delivered too; each
    # event arrives once (no worker died, so no lease ran out mid-request).
    assert sum(statuses.values()) >= len(accepted)
    assert max(arrivals.values()) == 1
