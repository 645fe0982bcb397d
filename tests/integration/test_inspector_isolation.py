"""What a capture URL answers can never act on Hookline's own origin: every answer under
``/in/`` is sandboxed (no script, an opaque origin) whatever the bin configured, and a bin may
not set cookies or other headers a browser applies to the whole origin. Capture URLs can be
shown under a separate origin (``capture_base_url``)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hookline.settings import Settings
from hookline.store import open_store
from hookline.store.bins import Bin, BinConfig
from tests.conftest import Service, started

ISOLATION = {
    "content-security-policy": "sandbox; default-src 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
}
REFUSED = (
    "Set-Cookie",
    "set-cookie2",
    "Content-Security-Policy",
    "Content-Security-Policy-Report-Only",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Strict-Transport-Security",
    "Access-Control-Allow-Origin",
    "access-control-allow-credentials",
    "Clear-Site-Data",
    "Refresh",
    "Link",
    "Service-Worker-Allowed",
    "NEL",
    "Report-To",
    "Alt-Svc",
    "WWW-Authenticate",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
)


async def _answer(service: Service, method: str, url: str, body: bytes = b"") -> Any:
    async with service.http.request(method, url, data=body or None, allow_redirects=False) as r:
        await r.read()
        return r


def _assert_isolated(answer: Any) -> None:
    headers = {name: answer.headers.getall(name, []) for name in ISOLATION}
    assert headers == {name: [value] for name, value in ISOLATION.items()}, answer.status
    assert "set-cookie" not in answer.headers


async def test_a_bin_may_not_set_cookies_or_origin_wide_headers(service: Service) -> None:
    ws, key = await service.workspace()
    bins = f"/v1/workspaces/{ws}/bins"
    for name in REFUSED:
        config = {"name": "x", "response_headers": {"X-Fine": "1", name: "v"}}
        status, body = await service.call("POST", bins, token=key, json=config)
        assert status == 422, name
        assert body["error"]["code"] == "validation_failed"
        assert body["error"]["field"] == "response_headers"
        assert repr(name) in body["error"]["message"]
    # What a receiver mock legitimately answers stays allowed: sandbox and nosniff make a
    # text/html answer harmless, and a redirect names where to go.
    config = {"Content-Type": "text/html", "Location": "https://example.com/", "X-Id": "7"}
    mock = await service.ok(
        "POST", bins, token=key, json={"response_status": 302, "response_headers": config}
    )
    answer = await _answer(service, "GET", mock["capture_url"])
    assert answer.status == 302 and answer.headers["location"] == "https://example.com/"
    assert answer.headers["x-id"] == "7" and answer.headers["content-type"] == "text/html"
    _assert_isolated(answer)


async def test_every_capture_answer_is_sandboxed(service: Service) -> None:
    ws, key = await service.workspace()
    bins = f"/v1/workspaces/{ws}/bins"
    page = "<script>document.title = 'pwned'</script>"
    html = await service.ok(
        "POST",
        bins,
        token=key,
        json={"response_body": page, "response_headers": {"Content-Type": "text/html"}},
    )
    plain = await service.ok("POST", bins, token=key, json={"max_requests": 1})
    answers = [
        await _answer(service, "POST", html["capture_url"] + "/deep/path", b"x"),
        await _answer(service, "HEAD", html["capture_url"]),
        await _answer(service, "POST", plain["capture_url"]),  # the default JSON answer
        await _answer(service, "POST", plain["capture_url"]),  # 429: full
        await _answer(service, "POST", html["capture_url"], b"x" * (1024 * 1024 + 1)),  # 413
        await _answer(service, "GET", f"{service.url}/in/bin_unknown"),
        await _answer(service, "GET", f"{service.url}/in/"),
        await _answer(service, "PROPFIND", f"{service.url}/in/bin_unknown/x"),
    ]
    assert [a.status for a in answers] == [200, 200, 200, 429, 413, 404, 404, 404]
    for answer in answers:
        _assert_isolated(answer)
    async with service.http.get(service.url + "/healthz") as outside:
        assert "content-security-policy" not in outside.headers  # only capture URLs


async def test_a_capture_url_is_never_loaded_as_code(service: Service) -> None:
    """A browser loading a bin as a script, style sheet or worker (as an injection on the
    dashboard's origin might) is refused before the bin answers; a page load still works."""
    ws, key = await service.workspace()
    js = {"response_body": "alert(1)", "response_headers": {"Content-Type": "text/javascript"}}
    created = await service.ok("POST", f"/v1/workspaces/{ws}/bins", token=key, json=js)
    for dest in ("script", "style", "worker", "serviceworker"):
        headers = {"Sec-Fetch-Dest": dest}
        async with service.http.get(created["capture_url"], headers=headers) as r:
            assert r.status == 403, dest
            assert "alert" not in await r.text()
            _assert_isolated(r)
    async with service.http.get(
        created["capture_url"], headers={"Sec-Fetch-Dest": "document"}
    ) as r:
        assert (r.status, await r.text()) == (200, "alert(1)")
    page = await service.ok("GET", f"/v1/workspaces/{ws}/bins/{created['id']}/requests", token=key)
    assert len(page["data"]) == 1  # only the page load was captured


async def test_a_bin_stored_with_a_cookie_before_the_rule_does_not_set_it(service: Service) -> None:
    ws, _ = await service.workspace()
    store = await open_store(Settings(database_url=service.settings.database_url))
    now = time.time()
    headers = {
        "Set-Cookie": "hookline_session=stolen; Path=/",
        "Content-Security-Policy": "script-src *",
        "Access-Control-Allow-Origin": "*",
        "X-Kept": "yes",
    }
    try:
        config = BinConfig(response_headers=headers, response_body="<b>old</b>")
        await store.inspector.create_bin(Bin("bin_old", ws, "old", config, 0, now + 600, now))
    finally:
        await store.close()
    answer = await _answer(service, "POST", f"{service.url}/in/bin_old")
    assert answer.status == 200 and answer.headers["x-kept"] == "yes"
    assert "access-control-allow-origin" not in answer.headers
    _assert_isolated(answer)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_capture_urls_can_live_on_their_own_origin(database_url: str) -> None:
    base = "https://capture.example.test"
    async for service in started(database_url, capture_base_url=base + "/"):
        ws, key = await service.workspace()
        bins = f"/v1/workspaces/{ws}/bins"
        created = await service.ok("POST", bins, token=key, json={})
        assert created["capture_url"] == f"{base}/in/{created['id']}"
        listed = await service.ok("GET", bins, token=key)
        assert [b["capture_url"] for b in listed["data"]] == [created["capture_url"]]
        # The same Hookline answers the capture URL's path (the proxy routes /in/ to it).
        answer = await _answer(service, "POST", f"{service.url}/in/{created['id']}/a?b=1", b"x")
        assert answer.status == 200
        [captured] = (await service.ok("GET", f"{bins}/{created['id']}/requests", token=key))[
            "data"
        ]
        assert captured["url"] == f"{base}/in/{created['id']}/a?b=1"
