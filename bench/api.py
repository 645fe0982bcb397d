"""A thin client of Hookline's HTTP API and the two publishers (closed and open loop)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from bench.poster import Poster, ProtocolError

Payload = Callable[[int, float], Any]


def padded(size: int = 1024) -> Payload:
    """A payload of about ``size`` bytes carrying its sequence number and send time."""

    def build(seq: int, sent_at: float) -> Any:
        base = {"seq": seq, "sent_at": sent_at, "pad": ""}
        filler = size - len(orjson.dumps(base))
        return base | {"pad": "x" * max(0, filler)}

    return build


class Api:
    def __init__(self, session: aiohttp.ClientSession, base: str, token: str) -> None:
        self.session = session
        self.base = base
        self._token = token

    async def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token or self._token}"}
        data = None if body is None else orjson.dumps(body)
        if data is not None:
            headers["Content-Type"] = "application/json"
        async with self.session.request(
            method, self.base + path, data=data, headers=headers
        ) as resp:
            text = await resp.read()
            if resp.status >= 400:
                raise RuntimeError(f"{method} {path}: {resp.status} {text[:300]!r}")
            return orjson.loads(text) if text else None

    async def workspace(self, name: str) -> Workspace:
        found = await self.call("POST", "/v1/workspaces", {"name": name})
        return Workspace(self, found["id"], found["api_key"])


@dataclass
class Workspace:
    api: Api
    id: str
    key: str

    async def webhook(self, name: str, url: str, **config: Any) -> str:
        body = {"name": name, "url": url, "events": ["*"], **config}
        found = await self.api.call("POST", f"/v1/workspaces/{self.id}/webhooks", body, self.key)
        return str(found["id"])

    async def webhooks(
        self, numbers: range, url_for: Callable[[int], str], *, prefix: str = "wh", **config: Any
    ) -> list[str]:
        """Create many webhooks, a few requests at a time (names ``<prefix>-<number>``); their
        ids, in the order of ``numbers``."""
        queue = iter(numbers)
        ids: dict[int, str] = {}

        async def creator() -> None:
            for i in queue:
                ids[i] = await self.webhook(f"{prefix}-{i}", url_for(i), **config)

        await asyncio.gather(*(creator() for _ in range(8)))
        return [ids[i] for i in numbers]

    async def publish(self, type: str, payload: Any) -> str:
        path = f"/v1/workspaces/{self.id}/events"
        found = await self.api.call("POST", path, {"type": type, "payload": payload}, self.key)
        return str(found["id"])

    async def publish_batch(self, type: str, payloads: list[Any]) -> list[str]:
        """Several events in one request (``POST …/events/batch``, one transaction)."""
        path = f"/v1/workspaces/{self.id}/events/batch"
        body = {"events": [{"type": type, "payload": p} for p in payloads]}
        found = await self.api.call("POST", path, body, self.key)
        return [str(item["id"]) for item in found["data"]]


@dataclass
class Published:
    """What a publisher did: when it started and finished, and each event's send time."""

    first: float
    last: float
    sent: dict[str, float] = field(default_factory=dict)
    errors: int = 0
    error_kinds: Counter[str] = field(default_factory=Counter)

    def failed(self, exc: Exception) -> None:
        self.errors += 1
        self.error_kinds[type(exc).__name__ + ": " + str(exc)[:60]] += 1

    @property
    def rate(self) -> float:
        return len(self.sent) / max(self.last - self.first, 1e-9)


async def publish_many(
    ws: Workspace,
    count: int,
    *,
    concurrency: int,
    payload: Payload,
    type: str = "bench.event",
    batch: int = 1,
) -> Published:
    """Closed loop: ``concurrency`` publishers, each sending its next request when answered;
    a request carries ``batch`` events (``batch`` > 1: the batch endpoint)."""
    result = Published(time.time(), 0.0)
    queue = iter(range(0, count, batch))

    async def publisher() -> None:
        for first in queue:
            sent_at = time.time()
            seqs = range(first, min(first + batch, count))
            try:
                if batch == 1:
                    ids = [await ws.publish(type, payload(first, sent_at))]
                else:
                    ids = await ws.publish_batch(type, [payload(n, sent_at) for n in seqs])
            except (aiohttp.ClientError, RuntimeError, TimeoutError) as exc:
                result.failed(exc)
                continue
            result.sent.update(dict.fromkeys(ids, sent_at))

    await asyncio.gather(*(publisher() for _ in range(concurrency)))
    result.last = time.time()
    return result


async def publish_at_rate(
    ws: Workspace, rate: float, seconds: float, *, payload: Payload, type: str = "bench.event"
) -> Published:
    """Open loop: event ``i`` is due at ``start + i / rate`` whether or not earlier ones were
    answered, and its send time is that due time (no coordinated omission). Requests go
    through ``bench.poster`` (see there why not aiohttp)."""
    # No garbage collection while publishing: a full collection of this process (tens of
    # thousands of tasks and futures by the end of a run) paused it for 70-110 ms, and the
    # events due meanwhile went out late, counted in their latency as Hookline's.
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        return await _publish_at_rate(ws, rate, seconds, payload=payload, type=type)
    finally:
        gc.enable()
        gc.unfreeze()


async def _publish_at_rate(
    ws: Workspace, rate: float, seconds: float, *, payload: Payload, type: str
) -> Published:
    total = int(rate * seconds)
    url = f"{ws.api.base}/v1/workspaces/{ws.id}/events"
    poster = Poster(url, {"Authorization": f"Bearer {ws.key}"})
    start = time.time() + 0.05
    result = Published(start, 0.0)
    tasks: list[asyncio.Task[None]] = []

    async def send(seq: int, due: float) -> None:
        body = orjson.dumps({"type": type, "payload": payload(seq, due)})
        try:
            status, answer = await poster.post(body)
            if status >= 400:
                raise RuntimeError(f"POST events: {status} {answer[:300]!r}")
            event_id = str(orjson.loads(answer)["id"])
        except (OSError, ProtocolError, RuntimeError, TimeoutError) as exc:
            result.failed(exc)
            return
        result.sent[event_id] = due

    for seq in range(total):
        due = start + seq / rate
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(seq, due)))
    await asyncio.gather(*tasks)
    result.last = time.time()
    poster.close()
    return result
