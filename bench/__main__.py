"""``python -m bench [SCENARIO …] [--runs N] [--events N] …``: run, print the table, save JSON.

Scenarios: throughput (with the ceiling and the Celery peer), latency, fanout, isolation,
growth (with the worker's memory), destinations (RabbitMQ and Redis Streams against a bare
client loop), volume (PostgreSQL's partitioned history at 20,000,000 attempts),
profile (py-spy on one throughput run; not in ``all``), instructions (callgrind's count per
delivery and per ceiling request; not in ``all``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

from bench import (
    destinations,
    fanout,
    growth,
    instructions,
    isolation,
    latency,
    machine,
    profile,
    throughput,
    volume,
)
from bench.db import DEFAULT_PG_URL
from bench.options import Options
from bench.procs import Procs
from bench.report import Row, table, write_json
from bench.sink import Sink, start_sink
from bench.stack import Context

Scenario = Callable[[Context, Sink, Options], Awaitable[tuple[list[Row], dict[str, Any]]]]
SCENARIOS: dict[str, Scenario] = {
    "throughput": throughput.run,
    "latency": latency.run,
    "fanout": fanout.run,
    "isolation": isolation.run,
    "growth": growth.run,
    "destinations": destinations.run,
    "profile": profile.run,
    "instructions": instructions.run,
    "volume": volume.run,
}
DEFAULT = ("throughput", "latency", "fanout", "isolation", "growth", "destinations", "volume")
RESULTS = Path(__file__).parent / "results"


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part)


def _names(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split(",") if part)


def parse(argv: list[str] | None = None) -> tuple[list[str], Options, argparse.Namespace]:
    d = Options()
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("scenarios", nargs="*", choices=[*SCENARIOS, "all"], default=[])
    p.add_argument("--runs", type=int, default=d.runs, help="repetitions (median reported)")
    p.add_argument("--events", type=int, default=d.events, help="throughput events per run")
    p.add_argument("--concurrency", type=int, default=d.concurrency)
    p.add_argument("--publishers", type=int, default=d.publishers)
    p.add_argument(
        "--publish-batch",
        type=int,
        default=d.publish_batch,
        help="events per publish request in throughput runs (1: POST /events per event)",
    )
    p.add_argument("--backends", type=_names, default=d.backends)
    p.add_argument("--celery-pools", type=_names, default=d.celery_pools)
    p.add_argument("--latency-rates", type=_ints, default=d.latency_rates)
    p.add_argument("--latency-seconds", type=float, default=d.latency_seconds)
    p.add_argument("--latency-backends", type=_names, default=d.latency_backends)
    p.add_argument("--fanout-sizes", type=_ints, default=d.fanout_sizes)
    p.add_argument("--fanout-backends", type=_names, default=d.fanout_backends)
    p.add_argument("--isolation-events", type=int, default=d.isolation_events)
    p.add_argument("--growth-sizes", type=_ints, default=d.growth_sizes)
    p.add_argument("--growth-backends", type=_names, default=d.growth_backends)
    p.add_argument("--growth-window", type=float, default=d.growth_window)
    p.add_argument("--growth-ingest", type=int, default=d.growth_ingest)
    p.add_argument("--volume-attempts", type=int, default=d.volume_attempts)
    p.add_argument("--volume-days", type=int, default=d.volume_days)
    p.add_argument("--volume-migrate-rows", type=int, default=d.volume_migrate_rows)
    p.add_argument(
        "--instructions-webhooks",
        type=int,
        default=d.instructions_webhooks,
        help="webhooks the instructions backlog is spread over (fan-out shape: as many as events)",
    )
    p.add_argument(
        "--destination-kinds",
        type=_names,
        default=d.destination_kinds,
        help="broker kinds of the destinations scenario (rabbitmq, redis)",
    )
    p.add_argument("--sink", choices=["nginx", "aiohttp"], default=d.sink)
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    p.add_argument("--plot", type=Path, default=Path("docs/benchmarks-latency.png"))
    p.add_argument("--out", type=Path, default=None, help="JSON file (bench/results/…)")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="HOOKLINE_X=V",
        help="extra environment for every Hookline process (repeatable)",
    )
    args = p.parse_args(argv)
    chosen = list(DEFAULT) if not args.scenarios or "all" in args.scenarios else args.scenarios
    names = {f.name for f in dataclasses.fields(Options)} - {"extra"}
    extra = dict(item.split("=", 1) for item in args.env)
    opts = Options(**{k: v for k, v in vars(args).items() if k in names}, extra=extra)
    return chosen, opts, args


async def main(argv: list[str] | None = None) -> None:
    chosen, opts, args = parse(argv)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = args.out or RESULTS / f"bench-{stamp}.json"
    info, found = machine.machine(), await machine.versions(args.pg_url)
    print(machine.describe(info, found), flush=True)
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hookline-bench-") as tmp:
        procs = Procs(RESULTS / "logs" / stamp)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            ctx = Context(Path(tmp), procs, args.pg_url, session)
            try:
                sink = await start_sink(procs, Path(tmp), prefer=opts.sink)
                for name in chosen:
                    print(f"== {name}", flush=True)
                    started, load = time.monotonic(), os.getloadavg()[0]
                    found_rows, raw[name] = await SCENARIOS[name](ctx, sink, opts)
                    raw[name]["seconds"] = round(time.monotonic() - started, 1)
                    # Other work on the machine shows here: the figures are only as good.
                    raw[name]["load_1min"] = [round(load, 2), round(os.getloadavg()[0], 2)]
                    rows += found_rows
                    print(table(found_rows), flush=True)
            finally:
                procs.stop_all()
    if "latency" in raw:
        latency.plot(raw["latency"], args.plot)
    document = {
        "started": stamp,
        "command": "python -m bench " + " ".join(argv or sys.argv[1:]),
        "machine": info,
        "versions": found,
        "options": dataclasses.asdict(opts),
        "sink": sink.kind,
        "rows": rows,
        "raw": raw,
    }
    write_json(out, document)
    print(f"\n{table(rows)}\n\nJSON: {out}")


if __name__ == "__main__":
    uvloop.run(main())
