"""``python -m bench.convoy``: what a batched SQLite write costs on a thread of its own while
another thread runs Python, against the same write alone.

Why it matters: ``sqlite3`` releases the GIL around each step of a statement, so moving
Hookline's writes to a thread could in principle use a second core. But every row must then
take the GIL back, and a busy thread gives it up only every switch interval. This measures
that, with nothing of Hookline's involved. Not part of ``all``.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

ROWS, ALONE, BESIDE = 100, 200, 100
_INSERT = "INSERT INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?)"


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE TABLE attempts (id TEXT PRIMARY KEY, delivery_id TEXT, webhook_id TEXT,"
        " number INT, started_at REAL, headers TEXT, body TEXT)"
    )
    conn.execute("CREATE INDEX ix_attempts_delivery ON attempts (delivery_id)")
    return conn


def _batch(conn: sqlite3.Connection, k: int) -> float:
    """One transaction of ``ROWS`` attempt-sized rows; its seconds."""
    now = time.time()
    rows = [
        (f"att{k}_{i:06d}", f"dlv{k}_{i}", "wh1", 1, now, '{"Content-Type": "text/plain"}', "ok")
        for i in range(ROWS)
    ]
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(_INSERT, rows)
    conn.execute("COMMIT")
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hookline-convoy-") as tmp:
        conn = _connect(Path(tmp) / "convoy.db")
        alone = sorted(_batch(conn, k) for k in range(ALONE))
        beside: list[float] = []
        stop = threading.Event()

        def spin() -> None:
            n = 0
            while not stop.is_set():
                n += 1

        def write() -> None:
            beside.extend(_batch(conn, k) for k in range(ALONE, ALONE + BESIDE))

        spinner, writer = threading.Thread(target=spin), threading.Thread(target=write)
        spinner.start()
        writer.start()
        writer.join()
        stop.set()
        spinner.join()
        conn.close()
    beside.sort()
    mean_alone, mean_beside = sum(alone) / len(alone), sum(beside) / len(beside)
    print(
        f"{ROWS}-row batch, median: alone {alone[len(alone) // 2] * 1e3:.2f} ms;"
        f" on a thread beside a busy one {beside[len(beside) // 2] * 1e3:.2f} ms"
        f" (p90 {beside[len(beside) * 9 // 10] * 1e3:.2f} ms,"
        f" mean {mean_beside * 1e3:.2f} ms against {mean_alone * 1e3:.2f} ms;"
        f" switch interval {sys.getswitchinterval() * 1e3:g} ms)"
    )


if __name__ == "__main__":
    main()
