"""Processes under test: start them with a log file, wait for their port, stop them by pid."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent


@dataclass
class Proc:
    """A child process whose output goes to ``log``; stopped with SIGTERM, then SIGKILL."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if not self.alive():
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)

    def tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


@dataclass
class Procs:
    """Every process a scenario started, stopped together (last started, first stopped)."""

    log_dir: Path
    started: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> Proc:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}-{len(self.started)}.log"
        merged = {**os.environ, **(env or {})}
        with log.open("wb") as out:
            popen = subprocess.Popen(
                list(argv),
                stdout=out,
                stderr=subprocess.STDOUT,
                env=merged,
                cwd=os.getcwd(),
                # Own process group: a signal meant for one child (or Ctrl-C) reaches no other.
                start_new_session=True,
            )
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        while self.started:
            self.started.pop().stop()


def hookline_argv(*args: str) -> list[str]:
    exe = BIN / "hookline"
    if exe.exists():
        return [str(exe), *args]
    return [sys.executable, "-m", "hookline.cli", *args]


def executable(name: str) -> str | None:
    """A tool from the virtualenv first, then from PATH (nginx lives in /usr/sbin)."""
    local = BIN / name
    if local.exists():
        return str(local)
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_port(port: int, proc: Proc | None = None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited early:\n{proc.tail()}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise TimeoutError(f"nothing listens on port {port} after {timeout:.0f}s")


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time used so far by these processes and their live children."""
    total = 0.0
    for pid in pids:
        try:
            parent = psutil.Process(pid)
            for proc in [parent, *parent.children(recursive=True)]:
                times = proc.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


class RssSampler:
    """Samples a process's resident memory in a thread; ``peak`` is the highest seen (bytes)."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self._proc = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak = 0
        self.samples = 0

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = int(self._proc.memory_info().rss)
            except psutil.Error:
                return
            self.peak = max(self.peak, rss)
            self.samples += 1
            self._stop.wait(self._interval)


class BlackHole:
    """A port that accepts TCP connections (kernel backlog) and never answers a request."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(4096)
        self.port: int = self._sock.getsockname()[1]

    def close(self) -> None:
        self._sock.close()
