"""``hookline worker`` starts without the API's libraries: no FastAPI, uvicorn or dashboard, and no
Alembic or SQLAlchemy when the schema is current (it is checked with one plain query)."""

from __future__ import annotations

import ast
import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

from hookline.store.migrate import upgrade

HEAVY: tuple[str, ...] = (
    "fastapi",
    "starlette",
    "uvicorn",
    "alembic",
    "sqlalchemy",
    "hookline.api",
    "jinja2",
)
HEAVY += ("hookline.dashboard",)

# The real CLI entry point; at exit, the heavy modules that were loaded.
_SCRIPT = f"""
import atexit, sys
atexit.register(lambda: print("LOADED", sorted(m for m in {HEAVY!r} if m in sys.modules)))
from hookline.cli import main
main(["worker", "--database-url", sys.argv[1]])
"""


def _run_worker(database_url: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, database_url],
        env=env | {"PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    timer = threading.Timer(60, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "started" in line:
                break
        time.sleep(0.3)  # a claim and a wait for work (LISTEN on PostgreSQL)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        timer.cancel()
    assert proc.returncode == 0, err
    loaded = [line for line in out.splitlines() if line.startswith("LOADED ")]
    assert loaded, (out, err)
    return list(ast.literal_eval(loaded[0].removeprefix("LOADED ")))


async def test_a_worker_starts_without_the_api_or_alembic(database_url: str) -> None:
    if database_url.startswith("sqlite"):  # PostgreSQL's fixture database comes migrated
        await asyncio.to_thread(upgrade, database_url)
    assert await asyncio.to_thread(_run_worker, database_url) == []


def test_importing_the_cli_and_service_loads_no_api() -> None:
    code = (
        "import sys, hookline.cli, hookline.runtime.process, hookline.store.postgres,"
        " hookline.store.sqlite; "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]", out.stdout
