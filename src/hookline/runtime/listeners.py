"""Listening sockets, bound before anything says it is listening.

A port that is taken (or not ours to take) becomes one clear :class:`ConfigError` naming the
address and the setting to change, rather than a server's traceback after a "running" banner.
"""

from __future__ import annotations

import errno
import os
import socket

from hookline.errors import ConfigError


def bind(host: str, port: int, *, setting: str) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: any free one); ``setting`` names how to
    choose another, e.g. ``"--port or HOOKLINE_PORT"``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As uvicorn does: rebinding right after a restart, while old connections linger in
        # TIME_WAIT, succeeds; a port another process listens on is still refused.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {_reason(exc)} (set {setting})"
        ) from exc
    sock.setblocking(False)
    return sock


def bound_port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "address already in use"
    if exc.errno is not None:
        return os.strerror(exc.errno).lower()
    return str(exc)
