"""Hookline behind PgBouncer in transaction mode (Debian's ``pgbouncer``, started by the test).

The API (``hookline serve --no-worker``) and two ``hookline worker`` processes reach PostgreSQL
only through a PgBouncer with ``pool_mode = transaction`` and a server pool smaller than their
client connections, so server connections pass from client to client between transactions: a
statement prepared for reuse, a session setting or a ``LISTEN`` on a pooled connection would
show up as errors, lost wake-ups or duplicates. The schema is created through PgBouncer too, by
two ``hookline migrate`` runs at once (the advisory lock is a transaction's own).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from hookline.store.migrate import current_revision, head_revisions
from tests.conftest import (
    IN_CI,
    PG_ADMIN_DSN,
    Receiver,
    _drop_pg_db,
    _dsn,
    free_port,
    require_postgres,
)
from tests.integration.test_crash import (  # noqa: F401 - the cluster fixture
    CliProcess,
    Cluster,
    cluster,
    deliveries,
    header_counts,
    publish,
    subscribe,
)
from tests.polling import until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

#: Server connections PgBouncer opens to the database: fewer than the three processes' pools.
SERVER_POOL = 5
POOLER = "transaction"


def pgbouncer_binary() -> str:
    """The ``pgbouncer`` executable; skipped locally when it is missing, a failure under CI."""
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if os.access("/usr/sbin/pgbouncer", os.X_OK) else None
    )
    if found is not None:
        return found
    reason = "pgbouncer is not installed (`make pgbouncer` installs Debian's package as root)"
    if IN_CI:
        pytest.fail(f"{reason}: CI must run the PgBouncer tests")
    pytest.skip(reason)


@dataclass
class Bouncer:
    """A running PgBouncer: ``url`` reaches ``direct_url``'s database through it."""

    url: str
    direct_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _config(tmp_path: Path, database: str, port: int) -> Path:
    userlist = tmp_path / "userlist.txt"
    userlist.write_text('"postgres" ""\n')
    ini = tmp_path / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"{database} = host=127.0.0.1 port=5432 dbname={database}\n"
        "\n[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {userlist}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {SERVER_POOL}\n"
        "min_pool_size = 0\n"
        "reserve_pool_size = 0\n"
        "max_client_conn = 200\n"
        "ignore_startup_parameters = extra_float_digits\n"
    )
    # PgBouncer refuses to run as root; it drops to ``-u`` after reading these files.
    for path in (tmp_path, userlist, ini):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return ini


@contextlib.contextmanager
def _running(binary: str, ini: Path, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    as_user = ["-u", "postgres"] if os.geteuid() == 0 else []
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [binary, *as_user, str(ini)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
async def bouncer(tmp_path: Path) -> AsyncIterator[Bouncer]:
    """An empty (unmigrated) database with a transaction-mode PgBouncer in front of it."""
    require_postgres()
    binary = pgbouncer_binary()
    name = f"hl_pgb_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    direct = _dsn(name)
    port = free_port()
    ini = _config(tmp_path, name, port)
    log_path = tmp_path / "pgbouncer.log"
    try:
        with _running(binary, ini, log_path) as process:
            found = Bouncer(
                f"postgresql://postgres@127.0.0.1:{port}/{name}", direct, process, log_path
            )

            async def up() -> bool:
                if process.poll() is not None:
                    raise AssertionError(f"pgbouncer exited:\n{found.log()}")
                return _accepts(port)

            await until(up, 10, what=f"pgbouncer listening on 127.0.0.1:{port}")
            yield found
            print(f"--- pgbouncer.log ---\n{found.log()[-3000:]}")
    finally:
        await _drop_pg_db(direct)


async def _migrate_through(processes: Cluster, bouncer: Bouncer) -> None:
    """Two ``hookline migrate`` at once through PgBouncer: one migrates, the other finds it done.
    Then again one after the other, as deployments run it: on the server connections the first
    runs used (a statement prepared there under a name a new process would pick again, as
    asyncpg's numbered names are, would stay and collide)."""

    def spawn() -> CliProcess:
        return processes.spawn("migrate", ["migrate"], bouncer.url, database_pooler=POOLER)

    for runs in ([spawn(), spawn()], [spawn()], [spawn()]):
        for run in runs:
            assert await run.wait_exit(timeout=120) == 0, run.log()[-3000:]
    assert await current_revision(bouncer.direct_url) == head_revisions()


async def _server_connections(bouncer: Bouncer) -> int:
    """PostgreSQL backends on the database other than the direct LISTEN ones and this one."""
    conn = await asyncpg.connect(bouncer.direct_url)
    try:
        found = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND NOT query ILIKE 'LISTEN%'"
        )
    finally:
        await conn.close()
    return int(found)


async def test_api_and_two_workers_through_pgbouncer_deliver_each_event_once(
    receiver: Receiver,
    bouncer: Bouncer,
    cluster: Cluster,  # noqa: F811 - the fixture imported above
) -> None:
    await _migrate_through(cluster, bouncer)
    env: dict[str, object] = {
        "database_pooler": POOLER,
        "listen_database_url": bouncer.direct_url,
        # Long enough that the run finishes on LISTEN wake-ups, not on polls.
        "poll_interval": 5.0,
    }
    _, api = await cluster.api(bouncer.url, worker=False, **env)
    workers = [await cluster.worker(bouncer.url, **env) for _ in range(2)]
    ws, key = await subscribe(api, receiver)

    published = await publish(api, ws, key, 300, parallel=30)
    assert len(published) == 300
    await receiver.wait_for(300, timeout=60)
    await asyncio.sleep(1.0)  # a duplicate would arrive now

    sent = header_counts(receiver, "X-Hookline-Event-Id")
    assert sent == Counter(e["id"] for e in published), "an event missing or sent twice"
    found = await deliveries(api, ws, key)
    assert len(found) == 300
    assert {d["status"] for d in found} == {"succeeded"}
    assert {d["attempt_count"] for d in found} == {1}
    # Every process's pool went through PgBouncer's few server connections.
    assert await _server_connections(bouncer) <= SERVER_POOL
    for proc in [*workers, *cluster.processes]:
        assert "prepared statement" not in proc.log(), proc.log()[-3000:]


async def test_without_a_listen_url_workers_poll(
    receiver: Receiver,
    bouncer: Bouncer,
    cluster: Cluster,  # noqa: F811 - the fixture imported above
) -> None:
    await _migrate_through(cluster, bouncer)
    env: dict[str, object] = {"database_pooler": POOLER, "poll_interval": 0.2}
    _, api = await cluster.api(bouncer.url, worker=False, **env)
    worker = await cluster.worker(bouncer.url, **env)
    await worker.wait_for_output("no LISTEN behind a transaction pooler")
    ws, key = await subscribe(api, receiver)

    published = await publish(api, ws, key, 40, parallel=10)
    await receiver.wait_for(40, timeout=30)
    await asyncio.sleep(0.5)
    assert header_counts(receiver, "X-Hookline-Event-Id") == Counter(e["id"] for e in published)
    assert {d["status"] for d in await deliveries(api, ws, key)} == {"succeeded"}
