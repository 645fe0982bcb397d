"""Hostile input: oversized, deeply nested, badly encoded bodies; header injection; template
escapes; and every usual trick to make Hookline send a request into an internal network.

Each answer is a clear 4xx (or an accepted event that round-trips), never a 500. No request is
allowed to leave this machine: a tripwire records every outgoing connection and refuses any off
loopback, and loopback targets point at a trap server that must stay silent.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from hookline.wire.payloads import MAX_DEPTH
from tests.conftest import Receiver, Service, start_receiver, start_service
from tests.polling import eventually

ONE_MIB = 1024 * 1024
STOP_SECONDS = 30  # a service that does not stop is a failure, not a hang


class Tripwire:
    """Every TCP connection attempted by this process; those off loopback are refused."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []

    def off_loopback(self) -> list[tuple[str, int]]:
        return [a for a in self.attempts if not ipaddress.ip_address(a[0]).is_loopback]


@pytest.fixture
def tripwire(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tripwire]:
    wire = Tripwire()
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host, port = str(address[0]), int(address[1])
            wire.attempts.append((host, port))
            if not ipaddress.ip_address(host.split("%")[0]).is_loopback:
                raise ConnectionRefusedError(f"tripwire: no connection to {host}")
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield wire


async def _raw(
    service: Service, path: str, token: str, data: Any, content_type: str = "application/json"
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    async with service.http.post(service.url + path, data=data, headers=headers) as r:
        return r.status, await r.json(content_type=None)


# --- request bodies ------------------------------------------------------------------------


async def test_oversized_bodies_get_413_declared_or_streamed(service: Service) -> None:
    ws, key = await service.workspace()
    path = f"/v1/workspaces/{ws}/events"
    big = b'{"type": "a.b", "payload": "' + b"x" * ONE_MIB + b'"}'
    status, answer = await _raw(service, path, key, big)
    assert (status, answer["error"]["code"]) == (413, "payload_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"type": "a.b", "payload": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    status, answer = await _raw(service, path, key, chunks())
    assert (status, answer["error"]["code"]) == (413, "payload_too_large")
    await service.ok("POST", path, token=key, json={"type": "a.b", "payload": {}})


_ONE = b'{"type": "a.b", "payload": {"n": 1}}'
_BATCH = b'{"events": [{"type": "a.b", "payload": {"n": 1}}]}'


@pytest.mark.parametrize(("route", "body"), [("", _ONE), ("/batch", _BATCH)], ids=["one", "batch"])
@pytest.mark.parametrize(
    ("content_type", "data", "expected"),
    [
        pytest.param("application/json; charset=utf-8", None, (202, None), id="charset"),
        pytest.param("APPLICATION/JSON", None, (202, None), id="upper-case"),
        pytest.param("application/cloudevents+json", None, (202, None), id="plus-json"),
        pytest.param("text/plain", None, (415, "unsupported_media_type"), id="text"),
        pytest.param("", None, (415, "unsupported_media_type"), id="no-type"),
        pytest.param("application/json", b"", (422, "validation_failed"), id="empty"),
        pytest.param("application/json", b"[]", (422, "validation_failed"), id="array"),
        pytest.param("application/json", b"{}", (422, "validation_failed"), id="no-fields"),
    ],
)
async def test_publish_bodies_by_content_type(
    service: Service,
    route: str,
    body: bytes,
    content_type: str,
    data: bytes | None,
    expected: tuple[int, str | None],
) -> None:
    ws, key = await service.workspace()
    headers = {"Authorization": f"Bearer {key}"}
    if content_type:
        headers["Content-Type"] = content_type
    url = f"{service.url}/v1/workspaces/{ws}/events{route}"
    skip = () if content_type else ("Content-Type",)
    async with service.http.post(
        url, data=body if data is None else data, headers=headers, skip_auto_headers=skip
    ) as r:
        answer = await r.json(content_type=None)
    code = answer["error"]["code"] if r.status >= 400 else None
    assert (r.status, code) == expected, answer


@pytest.mark.parametrize(("route", "body"), [("", _ONE), ("/batch", _BATCH)], ids=["one", "batch"])
async def test_publish_checks_the_token_and_the_workspace(
    service: Service, route: str, body: bytes
) -> None:
    ws, key = await service.workspace()
    other, _ = await service.workspace()
    path = f"/v1/workspaces/{ws}/events{route}"
    assert (await _raw(service, path, "hlk_nope", body))[0] == 401
    status, answer = await _raw(service, f"/v1/workspaces/{other}/events{route}", key, body)
    assert (status, answer["error"]["code"]) == (403, "wrong_workspace")
    status, answer = await _raw(service, path, key, b"{nope")
    assert (status, answer["error"]["code"]) == (400, "invalid_json")
    status, answer = await _raw(service, path, key, body[:-1])
    assert (status, answer["error"]["code"]) == (400, "invalid_json")


def _event(payload: bytes, type_: bytes = b'"a.b"') -> bytes:
    return b'{"type": ' + type_ + b', "payload": ' + payload + b"}"


def _nested(depth: int) -> bytes:
    return _event(b"[" * depth + b"]" * depth)


BAD_JSON = (400, "invalid_json")
INVALID = (422, "validation_failed")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(_nested(100_000), BAD_JSON, id="depth-100000"),
        pytest.param(_nested(1_000), BAD_JSON, id="depth-1000"),
        pytest.param(_nested(300), INVALID, id="depth-300"),
        pytest.param(_nested(MAX_DEPTH + 1), INVALID, id="depth-max+1"),
        pytest.param(_event(b'"\xff\xfe"'), BAD_JSON, id="not-utf8"),
        pytest.param(_event(b'"\xc3"'), BAD_JSON, id="cut-utf8"),
        pytest.param(_event(b'"\\ud800"'), INVALID, id="lone-surrogate"),
        pytest.param(_event(b'{"\\udfff": 1}'), INVALID, id="lone-surrogate-key"),
        pytest.param(_event(b"1e999999"), INVALID, id="infinity"),
        pytest.param(_event(b"[NaN]"), INVALID, id="nan"),
        pytest.param(_event(b"18446744073709551616"), INVALID, id="int-beyond-64-bits"),
        pytest.param(_event(b"1", b'"a.b\\u0000"'), INVALID, id="nul-in-type"),
        pytest.param(_event(b"1", b'"a.b\\r\\nX-Evil: 1"'), INVALID, id="crlf-in-type"),
    ],
)
async def test_unusable_bodies_get_a_clear_4xx(
    service: Service, body: bytes, expected: tuple[int, str]
) -> None:
    ws, key = await service.workspace()
    status, answer = await _raw(service, f"/v1/workspaces/{ws}/events", key, body)
    assert (status, answer["error"]["code"]) == expected, answer
    page = await service.ok("GET", f"/v1/workspaces/{ws}/events", token=key)
    assert page["data"] == []


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH), id="max-depth"),
        pytest.param({"nul": "a\u0000b", "nul\u0000key": 1}, id="nul"),
        pytest.param({"emoji": "\U0001f600", "rtl": "\u202eevil", "ls": "\u2028"}, id="unicode"),
        pytest.param([2**64 - 1, -(2**63), 1e308, -0.0], id="number-limits"),
        pytest.param({"__proto__": {"admin": True}, "constructor": None}, id="proto-keys"),
    ],
)
async def test_awkward_but_valid_payloads_round_trip(
    service: Service, receiver: Receiver, payload: Any
) -> None:
    ws, key = await service.workspace()
    base = f"/v1/workspaces/{ws}"
    await service.ok(
        "POST",
        f"{base}/webhooks",
        token=key,
        json={"name": "sink", "url": receiver.url, "events": ["*"]},
    )
    body = {"type": "a.b", "payload": payload}
    published = await service.ok("POST", f"{base}/events", token=key, json=body)
    stored = await service.ok("GET", f"{base}/events/{published['id']}", token=key)
    assert stored["payload"] == payload
    (arrived,) = await receiver.wait_for(1)
    assert arrived.body == json.dumps(payload).encode()


def _deep() -> dict[str, Any]:
    deep: dict[str, Any] = {}
    for _ in range(MAX_DEPTH + 1):
        deep = {"a": deep}
    return deep


@pytest.mark.parametrize("value", [_deep(), {"big": 2**64}], ids=["deep", "big-int"])
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/event-types", "example"),
        ("/event-types", "schema"),
        ("/webhooks/{hook}/test", "payload"),
    ],
)
async def test_other_free_form_json_is_checked_too(
    service: Service, receiver: Receiver, path: str, field: str, value: Any
) -> None:
    ws, key = await service.workspace()
    base = f"/v1/workspaces/{ws}"
    hook = await service.ok(
        "POST",
        f"{base}/webhooks",
        token=key,
        json={"name": "sink", "url": receiver.url, "events": ["*"]},
    )
    body = {"name": "a.b", field: value} if "event-types" in path else {field: value}
    url = base + path.format(hook=hook["id"])
    status, answer = await service.call("POST", url, token=key, json=body)
    assert (status, answer["error"]["code"]) == (422, "validation_failed"), answer
    assert answer["error"]["field"] == field


# --- headers and templates -----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"X-A": "v\r\nX-Injected: 1"},
        {"X-A": "v\nX-Injected: 1"},
        {"X-A": "v\rX-Injected: 1"},
        {"X-A": "v\u0000"},
        {"X-A\r\nX-Injected": "1"},
        {"X A": "1"},
        {"X-A:": "1"},
        {"": "1"},
    ],
)
async def test_header_injection_is_refused_at_save(
    service: Service, headers: dict[str, str]
) -> None:
    ws, key = await service.workspace()
    base = f"/v1/workspaces/{ws}/webhooks"
    hook = {"name": "h", "url": "https://example.invalid/", "events": ["*"]}
    status, answer = await service.call("POST", base, token=key, json=hook | {"headers": headers})
    assert (status, answer["error"]["code"]) == (422, "validation_failed"), answer
    assert answer["error"]["field"].startswith("headers"), answer
    created = await service.ok("POST", base, token=key, json=hook)
    status, answer = await service.call(
        "PATCH", f"{base}/{created['id']}", token=key, json={"headers": headers}
    )
    assert (status, answer["error"]["code"]) == (422, "validation_failed"), answer


async def test_crlf_in_a_url_is_refused(service: Service) -> None:
    ws, key = await service.workspace()
    for url in ("http://127.0.0.1/\r\nX-Injected: 1", "http://127.0.0.1/ x", "http://a\u0000b/"):
        hook = {"name": "h", "url": url, "events": ["*"]}
        status, answer = await service.call(
            "POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=hook
        )
        assert (status, answer["error"]["field"]) == (422, "url"), answer


ESCAPES = {
    "a": "${__class__}",
    "b": "${payload.__init__.__globals__}",
    "c": "${event.__class__.__mro__}",
    "d": "${__builtins__}",
    "e": "${payload.__class__.__base__.__subclasses__}",
    "f": "$__import__",
    "g": "${event.id.__len__}",
    "h": "${payload.items}",
    "i": "${payload.keys.__self__}",
    "j": "${payload.name.__doc__}",
    "k": "${event.type.upper}",
}


async def test_template_escapes_render_empty(service: Service, receiver: Receiver) -> None:
    ws, key = await service.workspace()
    base = f"/v1/workspaces/{ws}"
    # Literal text that other template engines would evaluate stays literal.
    literal = {"fmt": "{payload.__class__}", "jinja": "{{ 7*7 }}", "pct": "%(name)s"}
    template = json.dumps(ESCAPES | literal | {"ok": "${payload.name}"}, separators=(",", ":"))
    await service.ok(
        "POST",
        f"{base}/webhooks",
        token=key,
        json={"name": "t", "url": receiver.url, "events": ["*"], "body_template": template},
    )
    await service.ok(
        "POST", f"{base}/events", token=key, json={"type": "a.b", "payload": {"name": "x"}}
    )
    (arrived,) = await receiver.wait_for(1)
    assert json.loads(arrived.body) == dict.fromkeys(ESCAPES, "") | literal | {"ok": "x"}


# --- SSRF ----------------------------------------------------------------------------------


@pytest.fixture
async def trap() -> AsyncIterator[Receiver]:
    """A loopback server that forbidden URLs point at: it must never be reached."""
    rec, runner = await start_receiver()
    try:
        yield rec
    finally:
        await runner.cleanup()


def _forbidden_urls(trap_port: int) -> list[str]:
    return [
        f"http://2130706433:{trap_port}/",  # 127.0.0.1 as one decimal number
        f"http://0x7f000001:{trap_port}/",
        f"http://0177.0.0.1:{trap_port}/",
        f"http://127.1:{trap_port}/",
        f"http://0.0.0.0:{trap_port}/",  # reaches this machine on Linux
        f"http://[::ffff:127.0.0.1]:{trap_port}/",
        f"http://[::ffff:7f00:1]:{trap_port}/",
        f"http://[::1]:{trap_port}/",
        f"http://localhost:{trap_port}/",  # a name that resolves to loopback
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
    ]


async def _settled(service: Service, path: str, key: str, count: int) -> list[Any]:
    page = await eventually(
        lambda: service.ok("GET", f"{path}/deliveries?limit=100", token=key),
        lambda page: (
            len(page["data"]) == count and all(d["status"] != "pending" for d in page["data"])
        ),
        what=f"{count} settled deliveries",
    )
    return list(page["data"])


async def _create_hooks(
    service: Service, base: str, key: str, urls: list[str], prefix: str
) -> list[Any]:
    answers = []
    for n, url in enumerate(urls):
        hook = {"name": f"{prefix}{n}", "url": url, "events": ["*"], "max_attempts": 5}
        answers.append(await service.call("POST", f"{base}/webhooks", token=key, json=hook))
    return answers


async def test_ssrf_targets_are_refused_at_save_and_blocked_at_delivery(
    tmp_path: Any, trap: Receiver, tripwire: Tripwire
) -> None:
    database_url = f"sqlite:///{tmp_path}/hookline.db"
    urls = _forbidden_urls(int(trap.url.rsplit(":", 1)[1]))
    # Saved while every network was allowed (an operator narrows the setting later), unsent.
    loose, stop, task = await start_service(
        database_url, worker=False, allowed_networks=("0.0.0.0/0", "::/0")
    )
    try:
        ws, key = await loose.workspace()
        base = f"/v1/workspaces/{ws}"
        saved = await _create_hooks(loose, base, key, urls, "saved")
        assert [status for status, _ in saved] == [201] * len(urls), saved
    finally:
        stop.set()
        await asyncio.wait_for(task, STOP_SECONDS)
        await loose.http.close()

    service, stop, task = await start_service(database_url, allowed_networks=())
    try:
        refused = await _create_hooks(service, base, key, urls, "new")
        for url, (status, answer) in zip(urls, refused, strict=True):
            if status != 201:  # IP literals are judged at once, names when resolved
                assert (status, answer["error"]["field"]) == (422, "url"), (url, answer)
                assert "is not allowed" in answer["error"]["message"], (url, answer)
        assert sum(status == 422 for status, _ in refused) >= len(urls) - 1
        created = len(urls) + sum(status == 201 for status, _ in refused)
        await service.ok("POST", f"{base}/events", token=key, json={"type": "a.b", "payload": {}})
        settled = await _settled(service, base, key, created)
        await asyncio.sleep(1.0)  # several poll intervals: a retry would have happened
        for delivery in settled:
            detail = await service.ok("GET", f"{base}/deliveries/{delivery['id']}", token=key)
            assert (detail["status"], detail["attempt_count"]) == ("failed", 1), detail
            (attempt,) = detail["attempts"]
            assert attempt["error_class"] == "blocked", attempt
        metadata = next(answer for status, answer in saved if "169.254.169.254/" in answer["url"])
        tested = await service.ok(
            "POST", f"{base}/webhooks/{metadata['id']}/test", token=key, json={}
        )
        assert (tested["success"], tested["attempt"]["error_class"]) == (False, "blocked")
    finally:
        stop.set()
        await asyncio.wait_for(task, STOP_SECONDS)
        await service.http.close()
    assert trap.requests == []
    assert tripwire.off_loopback() == []
    assert tripwire.attempts, "the tripwire saw nothing: it is not watching"


async def test_a_redirect_to_the_metadata_address_is_not_followed(
    tmp_path: Any, receiver: Receiver, trap: Receiver, tripwire: Tripwire
) -> None:
    """Only the receiver's own address is allowed; its 3xx is a failed attempt, not a hop."""
    service, stop, task = await start_service(
        f"sqlite:///{tmp_path}/hookline.db", allowed_networks=("127.0.0.1/32",)
    )
    try:
        ws, key = await service.workspace()
        base = f"/v1/workspaces/{ws}"
        receiver.statuses = [302, 307]
        receiver.headers = {"Location": "http://169.254.169.254/latest/meta-data/iam/"}
        hook = {"name": "r", "url": receiver.url + "/hook", "events": ["*"], "max_attempts": 1}
        created = await service.ok("POST", f"{base}/webhooks", token=key, json=hook)
        await service.ok("POST", f"{base}/events", token=key, json={"type": "a.b", "payload": {}})
        (delivery,) = await _settled(service, base, key, 1)
        detail = await service.ok("GET", f"{base}/deliveries/{delivery['id']}", token=key)
        (attempt,) = detail["attempts"]
        assert (detail["status"], attempt["error_class"]) == ("failed", "http_status")
        assert attempt["response"]["status"] == 302, attempt
        # An allowed redirect target is not followed either.
        receiver.headers = {"Location": trap.url + "/stolen"}
        tested = await service.ok(
            "POST", f"{base}/webhooks/{created['id']}/test", token=key, json={}
        )
        assert tested["attempt"]["response"]["status"] == 307
    finally:
        stop.set()
        await asyncio.wait_for(task, STOP_SECONDS)
        await service.http.close()
    assert len(receiver.requests) == 2
    assert trap.requests == []
    assert tripwire.off_loopback() == []
