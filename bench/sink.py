"""The receiving end: a fast local HTTP sink in its own process that logs every request.

nginx (Debian's) answers ``200`` from a bare ``return`` and writes one line per request:
``<arrival epoch seconds, ms resolution> <X-Hookline-Event-Id> <path>``. Without nginx,
``bench.pysink`` (aiohttp on uvloop) writes the same lines. Scenarios only read the log.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import Proc, Procs, executable, free_port, wait_port

_NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
{user}
events {{ worker_connections 16384; multi_accept on; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  log_format bench '$msec $http_x_hookline_event_id $uri';
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    access_log {dir}/access.log bench buffer=256k flush=50ms;
    location / {{ return 200 "ok\\n"; }}
  }}
}}
"""


@dataclass(frozen=True, slots=True)
class Arrival:
    at: float
    event_id: str
    path: str


@dataclass
class Sink:
    """A running sink and an incremental reader of its request log."""

    kind: str
    url: str
    log: Path
    proc: Proc
    _offset: int = 0
    _partial: bytes = b""
    arrivals: list[Arrival] = field(default_factory=list)
    by_prefix: Counter[str] = field(default_factory=Counter)

    def poll(self) -> int:
        """Read new log lines; returns how many requests arrived in total."""
        try:
            with self.log.open("rb") as fh:
                fh.seek(self._offset)
                chunk = fh.read()
        except FileNotFoundError:
            return len(self.arrivals)
        self._offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            at, event_id, path = [*line.decode().split(" ", 2), "", ""][:3]
            self.arrivals.append(Arrival(float(at), event_id, path))
            self.by_prefix[_prefix(path)] += 1
        return len(self.arrivals)

    def received(self, event_ids: set[str], since: int = 0) -> dict[str, float]:
        """Arrival time of each of ``event_ids`` seen after arrival number ``since`` (the last
        arrival wins if one was delivered twice)."""
        return {a.event_id: a.at for a in self.arrivals[since:] if a.event_id in event_ids}

    def count(self, prefix: str) -> int:
        """Requests whose path starts with ``/<prefix>/`` (call ``poll`` first)."""
        return self.by_prefix[prefix]

    def since(self, prefix: str) -> list[Arrival]:
        return [a for a in self.arrivals if _prefix(a.path) == prefix]


def _prefix(path: str) -> str:
    return path.split("/", 2)[1] if path.count("/") >= 1 else path


async def start_sink(procs: Procs, work_dir: Path, *, prefer: str = "nginx") -> Sink:
    port = free_port()
    directory = work_dir / "sink"
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "access.log"
    nginx = executable("nginx") if prefer == "nginx" else None
    if nginx is not None:
        user = "user root;" if os.geteuid() == 0 else ""
        conf = directory / "nginx.conf"
        conf.write_text(_NGINX_CONF.format(dir=directory, port=port, user=user))
        proc = procs.start("nginx", [nginx, "-c", str(conf), "-p", str(directory)])
        kind = "nginx"
    else:
        argv = [sys.executable, "-m", "bench.pysink", str(port), str(log)]
        proc = procs.start("pysink", argv)
        kind = "aiohttp"
    await wait_port(port, proc)
    return Sink(kind, f"http://127.0.0.1:{port}", log, proc)
