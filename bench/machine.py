"""What the figures were measured on: the machine and every component's version."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from importlib import metadata
from typing import Any

import psutil

from bench.db import postgres_version
from bench.procs import executable


def machine() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "hookline_commit": _git("rev-parse", "--short", "HEAD"),
        "hookline_src_modified": bool(_git("status", "--porcelain", "--", "src")),
    }


def _git(*args: str) -> str:
    """The code measured: the commit, and whether src/ differed from it at the start."""
    found = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    return found.stdout.strip()


async def versions(pg_admin_url: str) -> dict[str, str]:
    found = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": await _safe_pg(pg_admin_url),
        "nginx": _nginx_version(),
        "redis-server": _redis_version(),
    }
    for package in ("hookline", "aiohttp", "uvloop", "uvicorn", "aiosqlite", "asyncpg"):
        found[package] = _package(package)
    for package in ("celery", "redis", "requests", "gevent", "aio-pika", "aiormq"):
        found[package] = _package(package)
    return found


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _redis_version() -> str:
    try:
        import redis

        from bench.celery_app import BROKER

        return str(redis.Redis.from_url(BROKER).info("server")["redis_version"])
    except Exception as exc:  # informative only, as above
        return f"unreachable ({type(exc).__name__})"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _nginx_version() -> str:
    nginx = executable("nginx")
    if nginx is None:
        return "absent"
    found = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=False)
    return found.stderr.strip().rpartition("/")[2] or "unknown"


async def _safe_pg(url: str) -> str:
    try:
        return await postgres_version(url)
    except Exception as exc:  # a version is informative only: never fail the run for it
        return f"unreachable ({type(exc).__name__})"


def describe(machine_info: dict[str, Any], found: dict[str, str]) -> str:
    parts = [
        f"{machine_info['cpu']}, {machine_info['cores']} cores, {machine_info['ram_gib']} GiB",
        f"load {machine_info['load_average_at_start']}",
        f"Python {found['python']} ({sys.implementation.name})",
    ]
    parts += [f"{k} {v}" for k, v in found.items() if k != "python"]
    return "; ".join(parts)
