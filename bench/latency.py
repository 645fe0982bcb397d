"""Scenario 4: publish-to-receive latency at steady rates (open-loop publisher).

Each event's payload carries its send time (its *due* time in the open-loop schedule); the sink
logs each request's arrival with ``X-Hookline-Event-Id``. Latency = arrival - due time, so a
publisher that falls behind shows up as latency rather than disappearing.
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

from bench.api import padded, publish_at_rate
from bench.options import Options
from bench.report import Row
from bench.sink import Sink
from bench.stack import Context, start_stack
from bench.stats import percentile, summarize

TARGET_MS, TARGET_RATE, TARGET_BACKEND = 50.0, 500, "sqlite"
#: Headroom on PostgreSQL: one API process and one worker take single-event
#: publishes at this rate with this p99, and accept at least ``ACCEPTED`` of them as offered.
PG_TARGET_MS, PG_TARGET_RATE, PG_TARGET_BACKEND, ACCEPTED = 100.0, 3000, "pg1", 0.99
#: p99 limit per (backend, offered rate) that has a target.
TARGETS = {
    (TARGET_BACKEND, TARGET_RATE): TARGET_MS,
    (PG_TARGET_BACKEND, PG_TARGET_RATE): PG_TARGET_MS,
}
NAMES = {"sqlite": "SQLite", "pg1": "PostgreSQL, 1 worker", "pg2": "PostgreSQL, 2 workers"}


#: Seconds after the last publish within which an event counts as on time.
WINDOW_SECONDS = 30.0
#: After the window, keep waiting for stragglers while they still arrive (at least one per this
#: many seconds), so that "late" (delivered from a backlog) and "lost" (never) are told apart,
#: and the next run does not start behind this one's backlog.
STALL_SECONDS = 20.0


async def one_rate(sink: Sink, ws: Any, rate: int, seconds: float) -> dict[str, Any]:
    mark = sink.poll()
    publishing = asyncio.create_task(publish_at_rate(ws, rate, seconds, payload=padded()))
    while not publishing.done():
        # Read the sink's log as it grows: read at the end, tens of thousands of lines took
        # the load generator a burst of CPU just as the last deliveries were being made.
        await asyncio.wait([publishing], timeout=0.1)
        sink.poll()
    published = publishing.result()
    wanted = set(published.sent)
    window_ends = time.monotonic() + WINDOW_SECONDS
    arrived: dict[str, float] = {}
    on_time = 0
    progress_at = time.monotonic()
    read = mark  # arrivals looked at so far: each is read once, not at every poll
    while len(arrived) < len(wanted):
        seen = len(arrived)
        total = sink.poll()
        arrived.update(sink.received(wanted, read))  # the last wins if one came twice
        read = total
        now = time.monotonic()
        if len(arrived) > seen:
            progress_at = now
        if now < window_ends:
            on_time = len(arrived)
        elif now - progress_at > STALL_SECONDS:
            break
        await asyncio.sleep(0.1)
    ms = sorted(1000 * (at - published.sent[e]) for e, at in arrived.items())
    # An event never delivered counts as infinitely late in the percentiles.
    ms += [math.inf] * (len(wanted) - len(arrived))
    return {
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "max": ms[-1] if ms else math.nan,
        "sent": len(wanted),
        "late": len(arrived) - on_time,
        "missing": len(wanted) - len(arrived),
        "publish_errors": published.errors,
        "achieved_rate": published.rate,
        "error_kinds": dict(published.error_kinds.most_common(3)),
    }


async def run(ctx: Context, sink: Sink, opts: Options) -> tuple[list[Row], dict[str, Any]]:
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for backend in opts.latency_backends:
        env = {"HOOKLINE_LOG_LEVEL": "WARNING", **opts.extra}
        stack = await start_stack(ctx, backend, label=f"lat-{backend}", env=env)
        raw[backend] = {}
        try:
            ws = await stack.api.workspace("latency")
            await ws.webhook("sink", f"{sink.url}/lat-{backend}/")
            await one_rate(sink, ws, 50, 1.0)  # warm-up: connections, routing cache
            for rate in opts.latency_rates:
                raw[backend][str(rate)] = []
                for _ in range(opts.runs):
                    found = await one_rate(sink, ws, rate, opts.latency_seconds)
                    raw[backend][str(rate)].append(found)
                    print(f"  {backend} {rate}/s: {_brief(found)}", flush=True)
                    await asyncio.sleep(1.0)
        finally:
            await stack.stop()
    return _rows(raw, opts), raw


def _brief(found: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:,.1f}" if isinstance(v, float | int) else f"{k} {v}"
                     for k, v in found.items())  # fmt: skip


def _rows(raw: dict[str, dict[str, list[dict[str, Any]]]], opts: Options) -> list[Row]:
    rows = []
    for backend, rates in raw.items():
        for rate, runs in rates.items():
            p99 = summarize([r["p99"] for r in runs])
            p50 = summarize([r["p50"] for r in runs]).median
            p95 = summarize([r["p95"] for r in runs]).median
            missing = sum(int(r["missing"]) for r in runs)
            late = sum(int(r.get("late", 0)) for r in runs)
            errors = sum(int(r["publish_errors"]) for r in runs)
            accepted = summarize([r["achieved_rate"] for r in runs]).median
            note = f"p50 {p50:,.0f} ms, p95 {p95:,.0f} ms; API took {accepted:,.0f} ev/s"
            note += f", {late} arrived over {WINDOW_SECONDS:g} s late" if late else ""
            note += f", {missing} lost (never arrived)" if missing else ""
            note += f", {errors} publishes failed" if errors else ""
            case = f"{NAMES.get(backend, backend)}, {rate} ev/s for {opts.latency_seconds:g} s"
            limit = TARGETS.get((backend, int(rate)))
            taken = accepted >= ACCEPTED * int(rate)  # the API kept up with the offered rate
            rows.append(
                Row(
                    "latency p99",
                    case,
                    p99,
                    "ms",
                    0,
                    note,
                    "" if limit is None else f"≤ {limit:g} ms, ≥ {ACCEPTED:.0%} accepted",
                    None
                    if limit is None
                    else p99.median <= limit and taken and not (missing or errors),
                )
            )
    return rows


def plot(raw: dict[str, Any], path: Path) -> None:
    """p50/p95/p99 against the offered rate, one colour per backend (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    styles = {"p50": ":", "p95": "--", "p99": "-"}
    for backend, rates in raw.items():
        if not isinstance(rates, dict):
            continue
        xs = sorted(int(r) for r in rates)
        for key, style in styles.items():
            ys = [summarize([run[key] for run in rates[str(x)]]).median for x in xs]
            ax.plot(xs, ys, style, marker="o", label=f"{NAMES.get(backend, backend)} {key}")
    ax.axhline(TARGET_MS, color="grey", linewidth=0.8, label=f"{TARGET_MS:g} ms target")
    ax.set_yscale("log")
    ax.set_xlabel("offered rate (events/s, open loop)")
    ax.set_ylabel("publish → receive (ms)")
    ax.set_title("Hookline delivery latency against rate")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
