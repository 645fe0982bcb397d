"""What is particular to the SQLite store: how its write transactions and WAL checkpoints run."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from hookline.domain.models import Workspace
from hookline.errors import StoreUnavailable
from hookline.settings import Settings
from hookline.store import open_store, sqlite_writer
from hookline.store.checkpoints import Checkpointer
from hookline.store.migrate import upgrade
from hookline.store.sqlite import SqliteStore


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "hookline.db"
    upgrade(f"sqlite:///{path}")
    return path


async def _open(path: Path) -> SqliteStore:
    store = await open_store(Settings(database_url=f"sqlite:///{path}"))
    assert isinstance(store, SqliteStore)
    return store


async def test_the_write_connection_leaves_checkpoints_to_the_background_task(
    db_path: Path,
) -> None:
    store = await _open(db_path)
    try:
        writer = store.dialect._writer
        assert writer is not None
        (autocheckpoint,) = (await writer.execute_fetchall("PRAGMA wal_autocheckpoint"))[0]
        assert autocheckpoint == 0
        for n in range(300):
            await store.config.create_workspace(Workspace(f"ws_{n:04d}", f"w{n}", 1.0))
        # Within a few rounds of the checkpointer, the log is back in the database file.
        for _ in range(50):
            with sqlite3.connect(db_path) as conn:
                log = conn.execute("PRAGMA wal_checkpoint(NOOP)").fetchone()
            if log[1] != -1 and log[1] == log[2]:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"the WAL was never checkpointed: {log}")
        assert len(await store.config.list_workspaces()) == 300
    finally:
        await store.close()


def test_a_passive_checkpoint_copies_the_whole_log(db_path: Path) -> None:
    with sqlite3.connect(db_path, isolation_level=None) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        for n in range(200):
            conn.execute(
                "INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, 1.0)",
                (f"ws_{n:04d}", f"w{n}"),
            )
        checkpointer = Checkpointer(str(db_path))
        busy, frames, done = checkpointer.checkpoint()
        assert busy == 0
        assert frames > 0
        assert done == frames


async def test_a_write_that_waits_for_another_process_does_not_block_the_loop(
    db_path: Path,
) -> None:
    """Another process holds the database lock: the store's BEGIN waits for it on the writer's
    thread, so the event loop keeps running meanwhile."""
    store = await _open(db_path)
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        writing = asyncio.create_task(store.config.create_workspace(Workspace("ws_1", "one", 1.0)))
        await asyncio.sleep(0.5)
        assert not writing.done()  # still waiting for the lock
        assert ticks >= 20  # and the loop was free all along
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 5)
        ticking.cancel()
        assert [w.id for w in await store.config.list_workspaces()] == ["ws_1"]
    finally:
        other.close()
        await store.close()


async def test_a_lock_held_past_the_busy_timeout_is_store_unavailable(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on PostgreSQL, a database that cannot be written now is ``StoreUnavailable`` (the API's
    503 with Retry-After), not an opaque error; the store works again once the lock is gone."""
    monkeypatch.setattr(sqlite_writer, "BUSY_TIMEOUT_MS", 100)  # not the 30 s of production
    store = await _open(db_path)
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailable, match="busy"):
            await store.config.create_workspace(Workspace("ws_1", "one", 1.0))
        other.execute("COMMIT")
        await store.config.create_workspace(Workspace("ws_1", "one", 1.0))
        assert [w.id for w in await store.config.list_workspaces()] == ["ws_1"]
    finally:
        other.close()
        await store.close()


async def test_a_failed_transaction_leaves_the_writer_usable(db_path: Path) -> None:
    store = await _open(db_path)
    try:
        await store.config.create_workspace(Workspace("ws_1", "one", 1.0))
        with pytest.raises(sqlite3.IntegrityError):  # the same id again
            await store.config.create_workspace(Workspace("ws_1", "again", 1.0))
        await store.config.create_workspace(Workspace("ws_2", "two", 1.0))
        assert {w.id for w in await store.config.list_workspaces()} == {"ws_1", "ws_2"}
    finally:
        await store.close()


async def test_a_cancelled_write_never_leaves_a_transaction_open(db_path: Path) -> None:
    store = await _open(db_path)
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        writing = asyncio.create_task(store.config.create_workspace(Workspace("ws_1", "one", 1.0)))
        await asyncio.sleep(0.2)
        writing.cancel()  # while its BEGIN waits on the writer's thread
        other.execute("COMMIT")
        with pytest.raises(asyncio.CancelledError):
            await writing
        await store.config.create_workspace(Workspace("ws_2", "two", 1.0))
        assert "ws_2" in {w.id for w in await store.config.list_workspaces()}
    finally:
        other.close()
        await store.close()


async def _bump(store: SqliteStore, workspace_id: str) -> None:
    async with store.dialect.tx() as tx:  # what every webhook or flow change does
        await store.config._bump_version(tx, workspace_id)


async def test_the_config_version_is_read_on_the_loop_and_sees_every_commit(
    db_path: Path,
) -> None:
    """Read on the loop's thread (no hop per publish), yet never stale: each read follows the
    commits before it, of this process and of another."""
    store, other = await _open(db_path), await _open(db_path)
    try:
        assert await store.config.config_version("ws_1") is None
        await other.config.create_workspace(Workspace("ws_1", "one", 1.0))
        first = await store.config.config_version("ws_1")
        assert first is not None
        await _bump(other, "ws_1")
        assert await store.config.config_version("ws_1") == first + 1
        await _bump(store, "ws_1")
        assert await store.config.config_version("ws_1") == first + 2
    finally:
        await store.close()
        await other.close()


class _Busy:
    """Stands for the loop's connection while the file is busy (a WAL recovery, say): what
    SQLite answers then cannot be brought about from beside a store that has the file open."""

    def execute(self, sql: str, *args: object) -> None:
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorcode = sqlite3.SQLITE_BUSY
        raise error


async def test_a_config_version_read_on_a_busy_file_waits_on_the_readers_thread(
    db_path: Path,
) -> None:
    store = await _open(db_path)
    try:
        await store.config.create_workspace(Workspace("ws_1", "one", 1.0))
        version = await store.config.config_version("ws_1")
        loop_reader, store.dialect._watch = store.dialect._watch, _Busy()  # type: ignore[assignment]
        try:
            assert await store.config.config_version("ws_1") == version
        finally:
            store.dialect._watch = loop_reader
    finally:
        await store.close()


async def test_a_waiting_worker_notices_a_commit_made_by_another_process(db_path: Path) -> None:
    """Two stores on one file stand for a worker process and an API process: the worker's wait
    ends soon after the other commits, long before its poll interval."""
    worker_side, api_side = await _open(db_path), await _open(db_path)
    try:
        await worker_side.wait_for_work(0.05)  # settled: it has seen the file as it is
        loop = asyncio.get_running_loop()
        waiting = asyncio.create_task(worker_side.wait_for_work(30))
        await asyncio.sleep(0.2)
        assert not waiting.done()  # nothing happened: still waiting
        committed = loop.time()
        await api_side.config.create_workspace(Workspace("ws_1", "one", 1.0))
        await asyncio.wait_for(waiting, 5)
        assert loop.time() - committed < 1.0
    finally:
        await worker_side.close()
        await api_side.close()


async def test_closing_waits_for_a_checkpoint_still_running_in_its_thread(db_path: Path) -> None:
    # Cancelling the checkpoint task does not stop its thread: closing the connection under a
    # running checkpoint crashed the process (a segfault in sqlite3, seen under valgrind).
    started, release = threading.Event(), threading.Event()

    class Slow(Checkpointer):
        def checkpoint(self) -> tuple[int, int, int]:
            started.set()
            release.wait(10)
            return super().checkpoint()

    checkpoints = Slow(str(db_path), interval=0.01)
    checkpoints.start()
    checkpoints.wrote()
    assert await asyncio.to_thread(started.wait, 10)
    closing = asyncio.create_task(checkpoints.close())
    await asyncio.sleep(0.2)
    assert not closing.done()
    release.set()
    await asyncio.wait_for(closing, 10)
    assert checkpoints._conn is None
