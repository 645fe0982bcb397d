"""``python -m bench destinations``: deliveries/s to RabbitMQ and to a Redis stream through
Hookline, against a bare loop of the same client library in the same run.

Per broker kind and repetition:

1. **bare**: ``python -m bench.destinations KIND URL TARGET COUNT CONCURRENCY`` in its own
   process (as a worker is): the client library alone publishes ``--events`` messages of a
   delivery's size (a 1 KB JSON body and the ~8 headers a delivery carries: event, delivery and
   attempt ids, the Standard Webhooks signature) with ``--concurrency`` in flight, awaiting each
   acknowledgement, with the library set up as Hookline's publishers set it up: aio-pika, one
   connection and one channel with publisher confirms, persistent messages published
   ``mandatory`` through the default exchange to a durable queue; redis-py's asyncio ``XADD``
   (field ``body``, then one field per header) over a pool of 16 sockets, no retries.
   Messages/s from the first publish to the last acknowledgement.
2. **hookline**: ``serve --no-worker`` on a fresh SQLite file and one action of the kind
   created through the API, one ``hookline worker`` (``--concurrency``, also the per-webhook
   cap) started and ready, then ``--events`` deliveries bulk-loaded in one transaction (the
   throughput scenario's drain, with the broker in nginx's place): deliveries/s from the first
   attempt to the last one stored. Each delivery is a message built and signed, published,
   acknowledged, and its attempt recorded.
3. the bare loop again; the two bare runs are averaged (the host drifts over minutes).

Every message is counted at the broker afterwards (the queue's message count, the stream's
``XLEN``) and every delivery must have succeeded: a run that lost or failed any raises instead
of reporting a figure. The ratio is the median of the per-repetition ratios hookline ÷ bare.

Brokers: ``BENCH_RABBITMQ_URL`` (default ``amqp://guest:guest@127.0.0.1:5672/``) and
``BENCH_REDIS_URL`` (``redis://127.0.0.1:6379/0``); each run uses a queue or stream of its own
and deletes it. A kind whose broker does not answer or whose client library is missing is
reported as skipped, with the reason.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import importlib
import os
import socket
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from bench.bulk import backlog_id, load_backlog
from bench.options import Options
from bench.procs import cpu_seconds
from bench.report import Row
from bench.sink import Sink
from bench.stack import Context, Stack, start_stack, start_workers, wait_attempts
from bench.stats import fmt, ratio, summarize

Detach = Callable[[], Awaitable[None]]
#: The bare Redis loop's sockets: as many as Hookline's Redis publisher keeps per server.
REDIS_SOCKETS = 16


@dataclass(frozen=True, slots=True)
class Kind:
    """A broker kind the scenario publishes to, and where its broker is."""

    name: str
    title: str
    library: str
    url: str
    bare: str

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or {"rabbitmq": 5672, "redis": 6379}[self.name]


KINDS = {
    "rabbitmq": Kind(
        "rabbitmq",
        "RabbitMQ",
        "aio_pika",
        os.environ.get("BENCH_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        "aio-pika, publisher confirms, mandatory",
    ),
    "redis": Kind(
        "redis",
        "Redis Streams",
        "redis",
        os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "redis-py asyncio, XADD",
    ),
}


# The bare loop: one message of a delivery's shape, published COUNT times.


def sample_message() -> tuple[bytes, dict[str, str]]:
    """A body like the backlog's (``bench.bulk`` pads each event to ~1 KB) and the headers a
    delivery of it carries, with values of the same lengths."""
    body = orjson.dumps({"n": 0, "pad": "x" * 1000})
    event_id, delivery_id = backlog_id("evt", 0), backlog_id("dlv", 0)
    signature = base64.b64encode(hashlib.sha256(body).digest()).decode()
    headers = {
        "Content-Type": "application/json",
        "X-Hookline-Event-Id": event_id,
        "X-Hookline-Event-Type": "backlog.item",
        "X-Hookline-Delivery-Id": delivery_id,
        "X-Hookline-Attempt": "1",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(time.time())),
        "webhook-signature": f"v1,{signature}",
    }
    return body, headers


async def _bare_rabbitmq(url: str, queue: str, count: int, concurrency: int) -> dict[str, float]:
    import aio_pika
    from pamqp.commands import Basic

    body, headers = sample_message()
    connection = await aio_pika.connect(url)
    errors = 0
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = channel.default_exchange
        numbers = iter(range(count))

        async def sender() -> None:
            nonlocal errors
            for seq in numbers:
                message = aio_pika.Message(
                    body,
                    headers=dict(headers),
                    content_type="application/json",
                    message_id=f"evt_{seq}",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    timestamp=time.time(),
                )
                confirmed = await exchange.publish(message, routing_key=queue, mandatory=True)
                errors += not isinstance(confirmed, Basic.Ack)

        started, cpu = time.time(), time.process_time()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        seconds, cpu = time.time() - started, time.process_time() - cpu
    return {"started": started, "seconds": seconds, "cpu": cpu, "errors": errors}


async def _bare_redis(url: str, stream: str, count: int, concurrency: int) -> dict[str, float]:
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.typing import EncodableT, FieldT

    body, headers = sample_message()
    fields: dict[FieldT, EncodableT] = {"body": body}
    fields.update(headers)
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=REDIS_SOCKETS, timeout=None, retry=Retry(NoBackoff(), 0)
    )
    client = aioredis.Redis.from_pool(pool)
    numbers = iter(range(count))

    async def sender() -> None:
        for _ in numbers:
            await client.xadd(stream, fields)

    try:
        await client.ping()
        started, cpu = time.time(), time.process_time()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        seconds, cpu = time.time() - started, time.process_time() - cpu
    finally:
        await client.aclose()
    return {"started": started, "seconds": seconds, "cpu": cpu, "errors": 0}


_BARE = {"rabbitmq": _bare_rabbitmq, "redis": _bare_redis}


async def bare_run(kind: Kind, target: str, count: int, concurrency: int) -> dict[str, float]:
    """The bare loop in its own process: messages/s and CPU µs per message."""
    argv = [sys.executable, "-m", "bench.destinations", kind.name, kind.url, target]
    argv += [str(count), str(concurrency)]
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"the bare {kind.name} loop failed ({proc.returncode})")
    found = orjson.loads(out)
    if found["errors"]:
        raise RuntimeError(f"the bare {kind.name} loop had {found['errors']} unacknowledged")
    return {
        "rate": count / found["seconds"],
        "cpu_us": 1e6 * found["cpu"] / count,
        "seconds": found["seconds"],
    }


# The broker side: a queue or stream per run, counted afterwards, then deleted.


async def prepare(kind: Kind, target: str) -> None:
    if kind.name == "rabbitmq":
        import aio_pika

        async with await aio_pika.connect(kind.url) as connection:
            channel = await connection.channel()
            await channel.declare_queue(target, durable=True)
    else:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(kind.url)
        try:
            await client.delete(target)
        finally:
            await client.aclose()


async def count_and_remove(kind: Kind, target: str) -> int:
    """How many messages the queue or stream holds; then it is deleted."""
    if kind.name == "rabbitmq":
        import aio_pika

        async with await aio_pika.connect(kind.url) as connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(target, passive=True)
            found = queue.declaration_result.message_count or 0
            await queue.delete(if_unused=False, if_empty=False)
            return int(found)
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(kind.url)
    try:
        found = await client.xlen(target)
        await client.delete(target)
        return int(found)
    finally:
        await client.aclose()


async def verified(kind: Kind, target: str, expected: int, what: str) -> None:
    found = await count_and_remove(kind, target)
    if found != expected:
        raise RuntimeError(f"{what}: {kind.title} holds {found} messages, {expected} were sent")


def action(kind: Kind, target: str) -> dict[str, Any]:
    """The action's configuration in the API's shape."""
    if kind.name == "rabbitmq":
        return {"url": kind.url, "exchange": "", "routing_key": target}
    return {"url": kind.url, "stream": target}


# Hookline: one worker draining a bulk-loaded backlog into the broker.


async def hookline_run(
    ctx: Context,
    kind: Kind,
    target: str,
    opts: Options,
    label: str,
    attach: Callable[[Stack], Awaitable[Detach]] | None = None,
) -> dict[str, float]:
    """``opts.events`` deliveries drained by one worker process into ``target``: deliveries/s
    from the first attempt to the last one stored, and the worker's CPU µs per delivery.
    ``attach`` (a profiler) is called once the worker is ready, its result when it is done."""
    c = str(opts.concurrency)
    env = {"HOOKLINE_PER_WEBHOOK_CONCURRENCY": c, "HOOKLINE_LOG_LEVEL": "WARNING", **opts.extra}
    stack = await start_stack(ctx, "sqlite0", label=label, concurrency=opts.concurrency, env=env)
    detach: Detach | None = None
    try:
        ws = await stack.api.workspace("bench")
        body = {"name": kind.name, "kind": kind.name, kind.name: action(kind, target)}
        found = await ws.api.call(
            "POST", f"/v1/workspaces/{ws.id}/webhooks", body | {"events": ["*"]}, ws.key
        )
        await start_workers(
            ctx, stack, 1, label=label, concurrency=opts.concurrency, env=env, ready=True
        )
        if attach is not None:
            detach = await attach(stack)
        pids = [worker.pid for worker in stack.workers]
        cpu_before = cpu_seconds(pids)
        await load_backlog(stack.db, ws.id, [str(found["id"])], opts.events, pad=1000)
        seen = await wait_attempts(stack, opts.events, timeout=60 + opts.events / 50)
        cpu = cpu_seconds(pids) - cpu_before
        first = float(await stack.db.scalar("SELECT MIN(started_at) FROM attempts"))
        done = float(await stack.db.scalar("SELECT MAX(updated_at) FROM deliveries"))
        succeeded = "SELECT COUNT(*) FROM deliveries WHERE status = 'succeeded'"
        ok = int(await stack.db.scalar(succeeded))
        failure = await stack.db.scalar(
            "SELECT error_class || ': ' || error_message FROM attempts"
            " WHERE error_class IS NOT NULL LIMIT 1"
        )
    finally:
        if detach is not None:
            await detach()
        await stack.stop()
    if seen < opts.events or ok != opts.events:
        raise RuntimeError(
            f"{label}: {seen} attempts, {ok} of {opts.events} deliveries succeeded"
            + (f" (e.g. {failure})" if failure else "")
        )
    return {
        "rate": opts.events / (done - first),
        "cpu_us": 1e6 * cpu / opts.events,
        "seconds": done - first,
    }


def unavailable(kind: Kind) -> str | None:
    """Why ``kind`` cannot be measured here (None: it can)."""
    try:
        importlib.import_module(kind.library)
    except ImportError:
        return f"{kind.library} is not installed"
    host = urlsplit(kind.url).hostname or "127.0.0.1"
    try:
        with socket.create_connection((host, kind.port), timeout=2):
            return None
    except OSError as exc:
        return f"{kind.title} is not reachable on {host}:{kind.port} ({exc})"


async def one_kind(ctx: Context, kind: Kind, opts: Options) -> dict[str, Any]:
    bare: list[dict[str, float]] = []
    bare_runs: list[list[dict[str, float]]] = []
    hookline: list[dict[str, float]] = []
    for i in range(opts.runs):
        pair = []
        for step in ("a", "b"):
            if step == "b":
                target = _target(f"hl-{i}")
                await prepare(kind, target)
                label = f"dest-{kind.name}-{i}"
                hookline.append(await hookline_run(ctx, kind, target, opts, label))
                await verified(kind, target, opts.events, label)
            target = _target(f"bare-{i}{step}")
            await prepare(kind, target)
            pair.append(await bare_run(kind, target, opts.events, opts.concurrency))
            await verified(kind, target, opts.events, f"bare {kind.name} {i}{step}")
        bare.append({k: (pair[0][k] + pair[1][k]) / 2 for k in pair[0]})
        bare_runs.append(pair)
        print(
            f"  {kind.name} run {i}: bare {fmt(bare[-1]['rate'])} msgs/s"
            f" ({fmt(bare[-1]['cpu_us'])} µs CPU each); hookline {fmt(hookline[-1]['rate'])}"
            f" deliveries/s ({fmt(hookline[-1]['cpu_us'])} µs CPU each)",
            flush=True,
        )
    return {"bare": bare, "bare_runs": bare_runs, "hookline": hookline}


async def run(ctx: Context, sink: Sink, opts: Options) -> tuple[list[Row], dict[str, Any]]:
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    for name in opts.destination_kinds:
        if name not in KINDS:
            raise ValueError(f"unknown destination kind {name!r}: {', '.join(KINDS)}")
        kind = KINDS[name]
        reason = unavailable(kind)
        if reason is not None:
            print(f"  {name}: skipped, {reason}", flush=True)
            raw[name] = {"skipped": reason}
            rows.append(Row("destination", kind.title, summarize([]), "", 0, f"skipped: {reason}"))
            continue
        raw[name] = found = await one_kind(ctx, kind, opts)
        rows += _rows(kind, found, opts)
    return rows, raw


def _rows(kind: Kind, found: dict[str, Any], opts: Options) -> list[Row]:
    n = f"{opts.events:,} messages, {opts.concurrency} in flight"
    bare, hookline = found["bare"], found["hookline"]
    bare_rates = [r["rate"] for r in bare]
    rates = [r["rate"] for r in hookline]
    ratios = summarize([ratio(h, b) for h, b in zip(rates, bare_rates, strict=True)])
    return [
        Row("destination", f"{kind.title}, bare {kind.bare}, {n}", summarize(bare_rates),
            "msgs/s", 0, _cpu(bare, "message")),
        Row("destination", f"{kind.title}, Hookline, SQLite, 1 worker process, {n}",
            summarize(rates), "deliveries/s", 0, _cpu(hookline, "delivery")),
        Row("÷ bare", f"{kind.title}, Hookline, SQLite, 1 worker process", ratios, "x", 2),
    ]  # fmt: skip


def _cpu(found: list[dict[str, float]], per: str) -> str:
    return f"CPU {fmt(summarize([r['cpu_us'] for r in found]).median)} µs/{per}"


def _target(label: str) -> str:
    return f"hookline-bench-{label}-{uuid.uuid4().hex[:8]}"


def main() -> None:
    import uvloop

    name, url, target, count, concurrency = sys.argv[1:6]
    found = uvloop.run(_BARE[name](url, target, int(count), int(concurrency)))
    print(orjson.dumps(found).decode())


if __name__ == "__main__":
    main()
