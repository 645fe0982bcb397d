"""``hookline listen``: poll an inspector bin and forward each new request to a local app.

A local alternative to smee.io or an ngrok tunnel: the bin's capture URL is public (it is
Hookline's), the app under development is not; this loop carries requests from one to the other
and prints one line for each. Which headers travel is the inspector replay's rule too
(``hookline.domain.forwarding``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from hookline.domain.forwarding import HOP_BY_HOP, forward_headers
from hookline.errors import HooklineError

__all__ = ["HOP_BY_HOP", "ListenConfig", "describe", "forward_headers", "forward_url", "listen"]

_POLL_LIMIT = 100
_FORWARD_TIMEOUT = 30.0


def forward_url(base: str, subpath: str, query: str) -> str:
    """``base`` with the captured path (after ``/in/{bin}``) appended and its query merged."""
    parts = urlsplit(base)
    path = parts.path.rstrip("/") + subpath if subpath else parts.path
    merged = "&".join(q for q in (parts.query, query) if q)
    return urlunsplit((parts.scheme, parts.netloc, path or "/", merged, ""))


def describe(
    at: float, method: str, target: str, status: int | None, ms: float, error: str | None
) -> str:
    """One output line: ``HH:MM:SS METHOD /path -> STATUS (12 ms)``."""
    clock = time.strftime("%H:%M:%S", time.localtime(at))
    outcome = str(status) if error is None else f"error: {error}"
    return f"{clock} {method} {target} -> {outcome} ({ms:.0f} ms)"


def _target(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class ListenError(HooklineError):
    """The API refused us (bad token, unknown workspace or bin): no point in polling on."""


@dataclass(frozen=True)
class ListenConfig:
    api_url: str
    token: str
    workspace: str
    forward: str
    bin_id: str | None = None
    interval: float = 1.0


class Listener:
    """Polls one bin (creating it if none is given) and forwards what arrives, oldest first."""

    def __init__(self, config: ListenConfig, echo: Callable[[str], None]) -> None:
        self._config = config
        self._echo = echo
        base = config.api_url.rstrip("/")
        self._bins = f"{base}/v1/workspaces/{config.workspace}/bins"

    async def run(self) -> None:
        """Poll and forward until cancelled."""
        headers = {"Authorization": f"Bearer {self._config.token}"}
        async with (
            aiohttp.ClientSession(headers=headers) as api,
            # Forward what was captured, not what aiohttp would add on its own.
            aiohttp.ClientSession(
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
            ) as local,
        ):
            try:
                bin_id, after = await self._start(api)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise ListenError(
                    f"cannot reach Hookline at {self._config.api_url}: {exc}"
                ) from exc
            while True:
                after = await self._poll_once(api, local, bin_id, after)
                await asyncio.sleep(self._config.interval)

    async def _start(self, api: aiohttp.ClientSession) -> tuple[str, str | None]:
        """The bin, and the request to forward after: those from before we started are history,
        not news. The capture URL is printed once everything after it will be forwarded."""
        after = None
        if self._config.bin_id is None:
            found = await self._call(api, "POST", self._bins, json={"name": "hookline listen"})
        else:
            found = await self._call(api, "GET", f"{self._bins}/{self._config.bin_id}")
            page = await self._call(api, "GET", f"{self._bins}/{found['id']}/requests?limit=1")
            after = str(page["data"][0]["id"]) if page["data"] else None
        self._echo(f"Capture URL: {found['capture_url']}  (forwarding to {self._config.forward})")
        return str(found["id"]), after

    async def _poll_once(
        self,
        api: aiohttp.ClientSession,
        local: aiohttp.ClientSession,
        bin_id: str,
        after: str | None,
    ) -> str | None:
        try:
            if after is None:
                waiting = await self._everything(api, bin_id)
            else:
                url = f"{self._bins}/{bin_id}/requests?limit={_POLL_LIMIT}&after={after}"
                waiting = (await self._call(api, "GET", url))["data"]
        except (aiohttp.ClientError, TimeoutError) as exc:
            # Hookline restarting or unreachable for a moment: keep polling.
            print(f"hookline listen: cannot reach the API: {exc}", file=sys.stderr)
            return after
        for captured in waiting:
            await self._forward(local, captured)
            after = str(captured["id"])
        return after

    async def _everything(self, api: aiohttp.ClientSession, bin_id: str) -> list[Any]:
        """Every request of a bin that had none when we started, oldest first.

        Without an ``after`` id the API lists newest first, so the pages are walked back with
        their cursor and turned round; from then on ``after`` polling returns oldest first.
        (A bin holds a bounded number of requests, so this walk is bounded too.)
        """
        found: list[Any] = []
        url = f"{self._bins}/{bin_id}/requests?limit={_POLL_LIMIT}"
        cursor = None
        while True:
            page = await self._call(api, "GET", url + (f"&cursor={cursor}" if cursor else ""))
            found.extend(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                return found[::-1]

    async def _forward(self, local: aiohttp.ClientSession, captured: dict[str, Any]) -> None:
        url = forward_url(self._config.forward, captured["subpath"], captured["query"])
        method = captured["method"]
        started = time.perf_counter()
        status, error = None, None
        try:
            async with local.request(
                method,
                url,
                headers=forward_headers(captured["headers"]),
                data=base64.b64decode(captured["body_base64"]) or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=_FORWARD_TIMEOUT),
            ) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            error = str(exc) or type(exc).__name__
        ms = (time.perf_counter() - started) * 1000
        self._echo(describe(time.time(), method, _target(url), status, ms, error))

    async def _call(self, api: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> Any:
        async with api.request(method, url, **kw) as response:
            if response.status >= 500:
                response.raise_for_status()  # a passing trouble: the caller polls again
            body = await response.json(content_type=None)
            if response.status >= 400:
                message = (body or {}).get("error", {}).get("message", response.reason)
                raise ListenError(f"the API answered {response.status}: {message}")
            return body


def _say(line: str) -> None:
    print(line, flush=True)


async def listen(config: ListenConfig, echo: Callable[[str], None] = _say) -> None:
    """What ``hookline listen`` runs: until SIGINT or SIGTERM, which end it cleanly (even in
    the middle of a forward to an app that hangs)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    polling = asyncio.create_task(Listener(config, echo).run())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait([polling, stopping], return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    polling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await polling  # its own failure (say, a revoked token) is raised here
