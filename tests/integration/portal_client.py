"""The customer portal driven over plain HTTP, as its page script and htmx drive it: the link's
token exchanged once at ``POST /portal/sign-in``, then the session and CSRF headers the page
carries (its ``#portal`` element's ``hx-headers``) sent with every request."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDict

from tests.conftest import Service

_HX_HEADERS = re.compile(r"hx-headers='([^']*)'")


@dataclass
class Answer:
    status: int
    text: str
    headers: CIMultiDict[str]

    def session(self) -> dict[str, str]:
        """The headers the page sends with every later request (``HX-Request`` included)."""
        found = _HX_HEADERS.search(self.text)
        assert found is not None, (self.status, self.text[:500])
        headers: dict[str, str] = json.loads(html.unescape(found.group(1)))
        return headers | {"HX-Request": "true"}


async def _answer(response: aiohttp.ClientResponse) -> Answer:
    return Answer(response.status, await response.text(), CIMultiDict(response.headers))


async def sign_in(svc: Service, token: str | None) -> Answer:
    """What the shell page's script does with the token of the URL's fragment."""
    headers = {"HX-Request": "true"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with svc.http.post(svc.url + "/portal/sign-in", headers=headers) as r:
        return await _answer(r)


async def visit(
    svc: Service,
    method: str,
    path: str,
    headers: dict[str, str],
    data: dict[str, str] | None = None,
) -> Answer:
    """A request of the page with its session headers (``headers``: ``Answer.session()``)."""
    async with svc.http.request(method, svc.url + path, headers=headers, data=data) as r:
        return await _answer(r)


async def link(svc: Service, ws: str, token: str | None = None, **options: Any) -> dict[str, Any]:
    """A new portal link of ``ws`` (made with the admin token unless ``token``)."""
    made: dict[str, Any] = await svc.ok(
        "POST", f"/v1/workspaces/{ws}/portal-links", json=options, token=token
    )
    return made
