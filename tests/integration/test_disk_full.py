"""A full SQLite database: publishing answers 503, nothing is corrupted, nothing accepted is lost.

``PRAGMA max_page_count`` on the service's own write connection makes SQLite refuse to grow the
file, which takes the same path as a full disk (``SQLITE_FULL``, "database or disk is full").
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hookline.settings import Settings
from hookline.store import Store, open_store
from hookline.store.sqlite import SqliteStore
from tests.conftest import Receiver, Service, start_service

PAYLOAD = {"blob": "x" * 4000}
_UNLIMITED = 1_073_741_823  # SQLite's default max_page_count
STOP_SECONDS = 30  # a service that does not stop is a failure, not a hang


class Opened:
    """Keeps the store the service opens, to reach its write connection."""

    def __init__(self) -> None:
        self.stores: list[Store] = []

    async def __call__(self, settings: Settings, **kwargs: Any) -> Store:
        store = await open_store(settings, **kwargs)
        self.stores.append(store)
        return store

    async def limit_pages(self, pages: int | None) -> int:
        """Cap the database at its current size (``None``), or at ``pages``; the cap in force."""
        store = self.stores[0]
        assert isinstance(store, SqliteStore)
        writer = store.dialect._writer
        assert writer is not None
        async with store.dialect._lock:  # between two transactions of the service
            if pages is None:
                (row,) = await writer.execute_fetchall("PRAGMA page_count")
                pages = int(row[0])
            (row,) = await writer.execute_fetchall(f"PRAGMA max_page_count = {pages}")
            return int(row[0])


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Opened:
    opened = Opened()
    monkeypatch.setattr("hookline.runtime.process.open_store", opened)
    return opened


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return "; ".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check"))


async def _workspace_with_sink(
    service: Service, receiver: Receiver, **config: Any
) -> tuple[str, str]:
    ws, key = await service.workspace()
    hook = {"name": "sink", "url": receiver.url, "events": ["*"], **config}
    await service.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=hook)
    return f"/v1/workspaces/{ws}", key


async def _fill(service: Service, base: str, key: str) -> tuple[list[str], list[Any]]:
    """Publish until the database refuses three times: the accepted ids, the refusals."""
    accepted: list[str] = []
    refused: list[Any] = []
    for n in range(300):
        body = {"type": "a.b", "payload": PAYLOAD | {"n": n}}
        status, answer = await service.call("POST", f"{base}/events", token=key, json=body)
        if status == 202:
            accepted.append(answer["id"])
        else:
            refused.append((status, answer))
        if len(refused) >= 3:
            break
    assert refused, "the database never filled up"
    assert all(s == 503 and a["error"]["code"] == "unavailable" for s, a in refused), refused
    return accepted, refused


async def test_a_full_database_answers_503_and_keeps_every_accepted_event(
    opened: Opened, tmp_path: Path, receiver: Receiver
) -> None:
    path = tmp_path / "hookline.db"
    # No worker: the deliveries wait, so that "deliverable" is checked after the incident.
    service, stop, task = await start_service(f"sqlite:///{path}", worker=False)
    try:
        base, key = await _workspace_with_sink(service, receiver)
        accepted: list[str] = []
        for n in range(5):
            body = {"type": "a.b", "payload": {"n": n}}
            accepted.append(
                (await service.ok("POST", f"{base}/events", token=key, json=body))["id"]
            )
        await opened.limit_pages(None)
        accepted += (await _fill(service, base, key))[0]

        # Full is not down: reads still answer, other writes get the same clear refusal.
        await service.ok("GET", f"{base}/events?limit=5", token=key)
        status, answer = await service.call(
            "POST", f"{base}/event-types", token=key, json={"name": "c.d", "example": PAYLOAD}
        )
        assert (status, answer["error"]["code"]) == (503, "unavailable")

        await opened.limit_pages(_UNLIMITED)
        body = {"type": "a.b", "payload": {}}
        event = await service.ok("POST", f"{base}/events", token=key, json=body)
        accepted.append(event["id"])  # the write connection was not left inside a transaction
        assert await asyncio.to_thread(_integrity, path) == "ok"
        for event_id in accepted:
            await service.ok("GET", f"{base}/events/{event_id}", token=key)
    finally:
        stop.set()
        await asyncio.wait_for(task, STOP_SECONDS)
        await service.http.close()

    # What an operator does once space is freed: start Hookline again; it delivers everything.
    worker, stop, task = await start_service(f"sqlite:///{path}")
    try:
        await receiver.wait_for(len(accepted), timeout=20)
        await asyncio.sleep(0.5)  # and nothing more: a refused event left no delivery behind
    finally:
        stop.set()
        await asyncio.wait_for(task, STOP_SECONDS)
        await worker.http.close()
    delivered = [r.headers["X-Hookline-Event-Id"] for r in receiver.requests]
    assert sorted(delivered) == sorted(accepted)


async def test_attempts_made_while_full_are_recorded_once_there_is_room(
    opened: Opened, tmp_path: Path, receiver: Receiver
) -> None:
    path = tmp_path / "hookline.db"
    service, stop, task = await start_service(f"sqlite:///{path}")
    try:
        # Form-encoded, so that each attempt logs its own 4 kB body and recording it needs
        # new pages (an event's JSON body sent unchanged is not copied into the attempt).
        form = "application/x-www-form-urlencoded"
        base, key = await _workspace_with_sink(service, receiver, content_type=form)
        other_ws, other_key = await service.workspace("filler")
        receiver.delay = 2.0  # the attempts are in flight while the database fills up
        accepted = []
        for n in range(5):
            body = {"type": "a.b", "payload": PAYLOAD | {"n": n}}
            accepted.append(
                (await service.ok("POST", f"{base}/events", token=key, json=body))["id"]
            )
        await receiver.wait_for(len(accepted))
        await opened.limit_pages(None)
        await _fill(service, f"/v1/workspaces/{other_ws}", other_key)
        await asyncio.sleep(receiver.delay + 0.5)  # answered; recording them keeps failing
        pending = await service.ok("GET", f"{base}/deliveries?status=pending", token=key)
        assert len(pending["data"]) == len(accepted), "recorded although the database was full"

        await opened.limit_pages(_UNLIMITED)
        for _ in range(300):
            done = await service.ok("GET", f"{base}/deliveries?status=succeeded", token=key)
            if len(done["data"]) == len(accepted):
                break
            await asyncio.sleep(0.05)
        assert sorted(d["event_id"] for d in done["data"]) == sorted(accepted)
        assert await asyncio.to_thread(_integrity, path) == "ok"
    finally:
        stop.set()
        await asyncio.wait_for(task, STOP_SECONDS)
        await service.http.close()
