"""The dashboard driven over plain HTTP, for tests of its sessions without a browser.

Cookies are kept by hand: aiohttp's cookie jar keeps none from an IP address and sends no
``Secure`` cookie over plain HTTP, where a browser does for a loopback host.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.cookies import Morsel, SimpleCookie

import aiohttp

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@asynccontextmanager
async def browserless() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session that keeps no cookies of its own (``DashboardClient`` keeps them)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        yield http


@dataclass
class Answer:
    status: int
    location: str | None
    text: str
    cookies: dict[str, Morsel[str]]

    def csrf(self) -> str:
        found = _CSRF.search(self.text)
        assert found, self.text[:500]
        return found.group(1)


@dataclass
class DashboardClient:
    """One visitor: a cookie store and the headers every request carries (``X-Forwarded-*``,
    ``Host``)."""

    http: aiohttp.ClientSession
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)

    async def get(self, path: str) -> Answer:
        return await self._send("GET", path, None)

    async def post(self, path: str, form: dict[str, str]) -> Answer:
        return await self._send("POST", path, form)

    async def sign_in(self, token: str) -> Answer:
        page = await self.get("/login")
        return await self.post("/login", {"token": token, "csrf_token": page.csrf()})

    async def _send(self, method: str, path: str, form: dict[str, str] | None) -> Answer:
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        async with self.http.request(
            method, self.url + path, data=form, headers=headers, allow_redirects=False
        ) as r:
            text = await r.text()
            jar: SimpleCookie = SimpleCookie()
            for line in r.headers.getall("Set-Cookie", []):
                jar.load(line)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
            return Answer(r.status, r.headers.get("Location"), text, dict(jar))
