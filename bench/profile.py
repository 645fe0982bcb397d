"""``python -m bench profile``: one throughput run and one drain run per backend with py-spy
on Hookline's processes (the workers alone in a drain run); writes py-spy's raw (collapsed)
stacks, an SVG flame graph, and a summary of where the CPU went (self and inclusive share of
the samples holding the GIL, by function).

Not part of ``all``: sampling slows the target, so its runs are not benchmark figures.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path
from typing import Any

from bench.options import Options
from bench.procs import Proc, executable
from bench.report import Row
from bench.sink import Sink
from bench.stack import Context, Stack
from bench.throughput import Detach, drain_run, hookline_run

TOP = 25


def summarize_stacks(path: Path, top: int = TOP) -> dict[str, list[tuple[str, float]]]:
    """Self and inclusive shares (percent of on-CPU samples) of the busiest functions."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_function(frame) for frame in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    share = 100.0 / max(total, 1)
    return {
        "self": [(f, round(n * share, 1)) for f, n in own.most_common(top)],
        "inclusive": [(f, round(n * share, 1)) for f, n in inclusive.most_common(top * 2)],
        "samples": [("total", float(total))],
    }


def _function(frame: str) -> str:
    """``name (path/to/file.py:12)`` → ``name (file.py)``: lines merged per function."""
    name, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rstrip(")")
    return f"{name} ({file})"


async def _record(ctx: Context, stack: Stack, out_dir: Path, label: str, drain: bool) -> list[Proc]:
    spy = executable("py-spy")
    if spy is None:
        raise RuntimeError("py-spy is not installed: pip install '.[bench]'")
    spies = []
    for proc in stack.workers if drain else [stack.server, *stack.workers]:
        for fmt in ("raw", "flamegraph"):
            suffix = "txt" if fmt == "raw" else "svg"
            out = out_dir / f"profile-{label}-{proc.name}-{proc.pid}.{suffix}"
            argv = [spy, "record", "--pid", str(proc.pid), "--rate", "97", "--format", fmt]
            # The raw profile counts only samples holding the GIL: Python CPU, not waiting.
            argv += ["--gil"] if fmt == "raw" else []
            spies.append(ctx.procs.start("py-spy", [*argv, "--output", str(out)]))
    await asyncio.sleep(1.0)  # py-spy attaches
    return spies


async def _stop(spies: list[Proc]) -> None:
    """SIGINT makes py-spy write its file (SIGTERM would lose it)."""
    for spy in spies:
        spy.popen.send_signal(signal.SIGINT)
    for spy in spies:
        await asyncio.to_thread(spy.popen.wait, 60)


async def run(ctx: Context, sink: Sink, opts: Options) -> tuple[list[Row], dict[str, Any]]:
    out_dir = ctx.procs.log_dir.parent.parent
    raw: dict[str, Any] = {}
    for backend in opts.backends:

        async def attach(stack: Stack, label: str = backend, drain: bool = False) -> Detach:
            spies = await _record(ctx, stack, out_dir, label, drain)
            return lambda: _stop(spies)

        async def attach_drain(stack: Stack, label: str = backend) -> Detach:
            return await attach(stack, f"{label}-drain", True)

        raw[backend] = await hookline_run(ctx, sink, backend, opts, f"prof-{backend}", attach)
        raw[f"{backend}-drain"] = await drain_run(
            ctx, sink, backend, opts, f"prof-dr-{backend}", attach_drain
        )
        print(f"  {backend}: {raw[backend]}; drain {raw[f'{backend}-drain']:,.0f}/s")
    for txt in sorted(out_dir.glob("profile-*.txt")):
        raw[txt.name] = summary = summarize_stacks(txt)
        print(f"\n{txt.name}: {int(summary['samples'][0][1])} samples")
        for function, pct in summary["self"][:15]:
            print(f"  {pct:5.1f}% self  {function}")
    return [], raw
