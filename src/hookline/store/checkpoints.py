"""SQLite WAL checkpoints, off the event loop.

SQLite normally checkpoints inside whichever ``COMMIT`` pushes the write-ahead log past 1,000
pages: that commit then copies megabytes into the database file and waits for the disk. Hookline
commits the worker's bookkeeping on the event loop's thread (see :mod:`hookline.store.sqlite`),
so that commit would stall every request and delivery of the process for tens of milliseconds.
Instead the write connection never checkpoints (``wal_autocheckpoint = 0``) and this task runs
a ``PASSIVE`` checkpoint on a connection of its own, in a thread, twice a second while there are
writes. A passive checkpoint never blocks readers or writers; the log is reused from its start
once everything in it is checkpointed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

log = logging.getLogger(__name__)


class Checkpointer:
    def __init__(self, path: str, *, interval: float = 0.5) -> None:
        self._path = path
        self._interval = interval
        self._dirty = False
        self._conn: sqlite3.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._running: asyncio.Future[tuple[int, int, int]] | None = None  # in its thread

    def wrote(self) -> None:
        """Something was committed: the next round checkpoints."""
        self._dirty = True

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hookline-sqlite-checkpoints")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._running is not None:
            # Cancelling the task does not stop its thread: closing the connection under a
            # checkpoint still running on it would crash the process (seen under valgrind).
            with contextlib.suppress(sqlite3.Error):
                await self._running
            self._running = None
        if self._conn is not None:
            await asyncio.to_thread(self._conn.close)
            self._conn = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            if not self._dirty:
                continue
            self._dirty = False
            self._running = asyncio.ensure_future(asyncio.to_thread(self.checkpoint))
            try:
                await asyncio.shield(self._running)
            except sqlite3.Error as exc:  # e.g. disk full: the log just grows until it passes
                log.warning("WAL checkpoint failed: %s", exc)
            self._running = None

    def checkpoint(self) -> tuple[int, int, int]:
        """One passive checkpoint: (busy, frames in the log, frames checkpointed)."""
        if self._conn is None:
            self._conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA busy_timeout = 1000")
        busy, frames, done = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(frames), int(done)
