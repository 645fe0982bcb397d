"""Sender against real receivers on 127.0.0.1 (aiohttp.web and raw asyncio servers)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from hookline.delivery.resolver import GuardedResolver
from hookline.delivery.sender import OutgoingRequest, Sender, SendResult
from hookline.domain.address_policy import AddressPolicy, BlockedAddress
from tests.integration.certs import make_certificates

LOOPBACK = AddressPolicy(["127.0.0.0/8", "::1/128"])
HUGE_BYTES = 50 * 1024 * 1024


@dataclass
class Received:
    method: str
    path: str
    raw_headers: list[tuple[str, str]]
    body: bytes
    peer_port: int

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.raw_headers if k.lower() == name.lower()]


@dataclass
class Receiver:
    """A recording aiohttp.web server; ``base`` is its http://127.0.0.1:port."""

    base: str = ""
    port: int = 0
    received: list[Received] = field(default_factory=list)
    huge_finished: bool = False

    def paths(self) -> list[str]:
        return [r.path for r in self.received]


def _routes(receiver: Receiver) -> web.Application:
    @web.middleware
    async def record(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        receiver.received.append(
            Received(
                method=request.method,
                path=request.path,
                raw_headers=[(k.decode(), v.decode()) for k, v in request.raw_headers],
                body=await request.read(),
                peer_port=peer[1] if peer else 0,
            )
        )
        return await handler(request)

    async def huge(request: web.Request) -> web.StreamResponse:
        return await _huge(request, receiver)

    app = web.Application(middlewares=[record])
    app.router.add_route("*", "/ok", _ok)
    app.router.add_get("/status/{code}", _status)
    app.router.add_get("/redirect", _redirect)
    app.router.add_get("/target", _ok)
    app.router.add_get("/sleep", _sleep)
    app.router.add_get("/huge", huge)
    app.router.add_get("/slow", _slow)
    return app


async def _ok(request: web.Request) -> web.Response:
    headers = {"X-Reply": "yes", "X-Multi": "first"}
    response = web.Response(text="hello from receiver", headers=headers)
    response.headers.add("X-Multi", "second")
    return response


async def _status(request: web.Request) -> web.Response:
    return web.Response(
        status=int(request.match_info["code"]), text="nope", headers={"Retry-After": "120"}
    )


async def _redirect(request: web.Request) -> web.Response:
    return web.Response(status=302, headers={"Location": request.query["to"]})


async def _sleep(request: web.Request) -> web.Response:
    await asyncio.sleep(5)
    return web.Response(text="late")


async def _huge(request: web.Request, receiver: Receiver) -> web.StreamResponse:
    response = web.StreamResponse()
    response.content_length = HUGE_BYTES
    await response.prepare(request)
    chunk = b"x" * 65536
    try:
        for _ in range(HUGE_BYTES // len(chunk)):
            await response.write(chunk)
    except ConnectionResetError:
        return response  # the client stopped reading, as it should
    receiver.huge_finished = True
    return response


async def _slow(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    response.content_length = 10
    await response.prepare(request)
    for byte in b"0123456789":
        await response.write(bytes([byte]))
        await asyncio.sleep(0.02)
    return response


async def _serve(
    app: web.Application, ssl_context: ssl.SSLContext | None = None
) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context).start()
    port = runner.addresses[0][1]
    return runner, port


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recv = Receiver()
    runner, recv.port = await _serve(_routes(recv))
    recv.base = f"http://127.0.0.1:{recv.port}"
    yield recv
    await runner.cleanup()


@pytest.fixture
async def sender() -> AsyncIterator[Sender]:
    async with Sender(LOOPBACK) as s:
        yield s


def _request(url: str, method: str = "GET", **kwargs: object) -> OutgoingRequest:
    fields: dict[str, object] = {"headers": {}, "body": None, "timeout": 5.0}
    fields.update(kwargs)
    return OutgoingRequest(method=method, url=url, **fields)  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- success and what arrives ---------------------------------------------------------


async def test_success_reports_status_headers_and_body(sender: Sender, receiver: Receiver) -> None:
    result = await sender.send(_request(f"{receiver.base}/ok", "POST", body=b"{}"))
    assert result.ok
    assert result.status == 200
    assert result.error_class is None and result.error_message is None
    assert result.body_excerpt == "hello from receiver"
    assert result.headers["X-Reply"] == "yes"
    assert result.headers["X-Multi"] == "first"
    assert result.retry_after is None
    assert 0 < result.duration_ms < 2000


@pytest.mark.parametrize(
    ("method", "body"),
    [("POST", b'{"a": 1}'), ("PUT", b"\x00\xffbinary"), ("PATCH", b"x" * 100_000)],
)
async def test_method_headers_and_body_arrive_exactly(
    sender: Sender, receiver: Receiver, method: str, body: bytes
) -> None:
    headers = {"Content-Type": "application/json", "X-Mixed-Case": "Value", "webhook-id": "m1"}
    result = await sender.send(_request(f"{receiver.base}/ok", method, headers=headers, body=body))
    assert result.ok
    [got] = receiver.received
    assert (got.method, got.body) == (method, body)
    for name, value in headers.items():
        assert (name, value) in got.raw_headers
    assert got.header("User-Agent") == ["Hookline/0.1"]
    assert got.header("Content-Type") == ["application/json"]
    assert got.header("Content-Length") == [str(len(body))]


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_bodyless_methods_send_no_body(
    sender: Sender, receiver: Receiver, method: str
) -> None:
    result = await sender.send(_request(f"{receiver.base}/ok", method, headers={"X-A": "1"}))
    assert result.ok
    [got] = receiver.received
    assert (got.method, got.body) == (method, b"")
    assert got.header("X-A") == ["1"]
    assert got.header("Content-Type") == []


async def test_no_content_type_is_invented(sender: Sender, receiver: Receiver) -> None:
    await sender.send(_request(f"{receiver.base}/ok", "POST", body=b"raw"))
    [got] = receiver.received
    assert got.header("Content-Type") == []
    assert got.body == b"raw"


async def test_user_agent_is_configurable(receiver: Receiver) -> None:
    async with Sender(LOOPBACK, user_agent="Custom/9") as sender:
        await sender.send(_request(f"{receiver.base}/ok"))
    assert receiver.received[0].header("User-Agent") == ["Custom/9"]


# --- HTTP-level failures ------------------------------------------------------------


async def test_server_error_is_http_status(sender: Sender, receiver: Receiver) -> None:
    result = await sender.send(_request(f"{receiver.base}/status/500"))
    assert (result.status, result.error_class) == (500, "http_status")
    assert result.error_message == "HTTP 500"
    assert result.body_excerpt == "nope"
    assert not result.ok


async def test_retry_after_is_exposed(sender: Sender, receiver: Receiver) -> None:
    result = await sender.send(_request(f"{receiver.base}/status/503"))
    assert result.retry_after == "120"


@pytest.mark.parametrize("target", ["/target", "http://169.254.169.254/latest/meta-data/"])
async def test_redirect_is_not_followed(sender: Sender, receiver: Receiver, target: str) -> None:
    to = receiver.base + target if target.startswith("/") else target
    result = await sender.send(_request(f"{receiver.base}/redirect?to={to}"))
    assert (result.status, result.error_class) == (302, "http_status")
    assert result.headers["Location"] == to
    assert receiver.paths() == ["/redirect"]
    assert result.duration_ms < 2000


def test_result_properties_are_case_insensitive_about_retry_after() -> None:
    result = SendResult(429, {"retry-after": "7"}, "", 1.0, "http_status", "HTTP 429")
    assert result.retry_after == "7"
    assert not result.ok
    assert SendResult(204, {}, "", 1.0, None, None).ok


# --- network failures ---------------------------------------------------------------


async def test_timeout(sender: Sender, receiver: Receiver) -> None:
    result = await sender.send(_request(f"{receiver.base}/sleep", timeout=0.5))
    assert result.status is None
    assert result.error_class == "timeout"
    assert 450 <= result.duration_ms < 1500


async def test_connection_refused_is_connect(sender: Sender) -> None:
    secret = {"Authorization": "Bearer s3cr3t-token"}
    port = _free_port()
    result = await sender.send(_request(f"http://127.0.0.1:{port}/", headers=secret))
    assert result.error_class == "connect"
    assert result.error_message and str(port) in result.error_message
    assert "s3cr3t" not in result.error_message


async def test_unknown_host_is_dns(sender: Sender) -> None:
    result = await sender.send(_request("http://does-not-exist.invalid/"))
    assert (result.status, result.error_class) == (None, "dns")


@pytest.mark.parametrize("url", ["http://[::1/", "ftp://example.com/", "http:///nohost"])
async def test_invalid_url_is_invalid_request(sender: Sender, url: str) -> None:
    result = await sender.send(_request(url))
    assert result.error_class == "invalid_request"


@pytest.mark.parametrize("value", ["a\r\nInjected: yes", "a\nb"])
async def test_header_injection_is_refused(sender: Sender, receiver: Receiver, value: str) -> None:
    result = await sender.send(_request(f"{receiver.base}/ok", headers={"X-A": value}))
    assert result.error_class == "invalid_request"
    assert result.error_message and "Injected" not in result.error_message
    assert receiver.received == []


async def test_send_before_start_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError):
        await Sender(LOOPBACK).send(_request("http://127.0.0.1:1/"))


# --- the SSRF guard in the request path ---------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "2130706433",
        "0x7f000001",
        "017700000001",
        "127.1",
        "[::ffff:7f00:1]",
    ],
)
async def test_loopback_is_blocked_by_default(receiver: Receiver, host: str) -> None:
    async with Sender(AddressPolicy()) as sender:
        result = await sender.send(_request(f"http://{host}:{receiver.port}/ok"))
    assert result.error_class == "blocked"
    assert result.error_message and "loopback" in result.error_message
    assert receiver.received == []


async def test_metadata_address_is_blocked(sender: Sender) -> None:
    result = await sender.send(_request("http://169.254.169.254/latest/meta-data/"))
    assert result.error_class == "blocked"
    assert result.error_message and "cloud metadata" in result.error_message


async def test_resolver_judges_numeric_names_by_their_answer() -> None:
    resolver = GuardedResolver(AddressPolicy())
    with pytest.raises(BlockedAddress, match="loopback"):
        await resolver.resolve("0x7f000001", 80)
    allowing = GuardedResolver(LOOPBACK)
    [answer] = await allowing.resolve("0x7f000001", 80)
    assert answer["host"] == "127.0.0.1"
    await resolver.close()
    await allowing.close()


class StaticResolver(AbstractResolver):
    """Stands in for a DNS server that answers every name with fixed addresses."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=socket.AF_INET, proto=0, flags=0)
            for a in self.addresses
        ]

    async def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [(["10.0.0.1", "127.0.0.1"], "ok"), (["10.0.0.1", "169.254.169.254"], "blocked")],
)
async def test_connector_dials_only_what_the_guard_kept(
    receiver: Receiver, answer: list[str], outcome: str
) -> None:
    # A rebinding-style answer mixes a private address in: the connector must
    # never dial it, because it only sees the resolver's filtered list.
    resolver = GuardedResolver(LOOPBACK, StaticResolver(answer))
    connector = aiohttp.TCPConnector(resolver=resolver, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        url = f"http://hooks.example:{receiver.port}/ok"
        try:
            async with session.get(url) as response:
                got = "ok" if response.status == 200 else str(response.status)
        except aiohttp.ClientConnectorDNSError as exc:
            assert isinstance(exc.os_error, BlockedAddress)
            got = "blocked"
    assert got == outcome
    assert len(receiver.received) == (1 if outcome == "ok" else 0)


# --- bodies ---------------------------------------------------------------------------


async def test_huge_body_is_capped_and_returns_promptly(sender: Sender, receiver: Receiver) -> None:
    result = await sender.send(_request(f"{receiver.base}/huge"))
    assert result.ok
    assert result.body_excerpt == "x" * 4096
    assert result.duration_ms < 2000
    await asyncio.sleep(0.1)
    assert not receiver.huge_finished  # the client hung up long before 50 MB
    # The half-read connection was closed, not pooled: the next send works.
    after = await sender.send(_request(f"{receiver.base}/ok"))
    assert after.ok and after.body_excerpt == "hello from receiver"
    assert receiver.received[0].peer_port != receiver.received[1].peer_port


async def test_excerpt_size_is_configurable(receiver: Receiver) -> None:
    async with Sender(LOOPBACK, excerpt_bytes=5) as sender:
        result = await sender.send(_request(f"{receiver.base}/ok"))
    assert result.body_excerpt == "hello"


async def test_slow_body_within_timeout_is_read_whole(sender: Sender, receiver: Receiver) -> None:
    result = await sender.send(_request(f"{receiver.base}/slow", timeout=3.0))
    assert result.ok
    assert result.body_excerpt == "0123456789"


async def test_invalid_utf8_is_replaced(sender: Sender) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=b"ok \xff\xfe end")

    app = web.Application()
    app.router.add_get("/", handler)
    runner, port = await _serve(app)
    try:
        result = await sender.send(_request(f"http://127.0.0.1:{port}/"))
    finally:
        await runner.cleanup()
    assert result.body_excerpt == "ok \ufffd\ufffd end"


def _rst_close(writer: asyncio.StreamWriter) -> None:
    """Close with SO_LINGER 0 so the peer sees a TCP reset, not a clean FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@pytest.mark.parametrize(
    "reply",
    [b"", b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial body"],
    ids=["before-response", "mid-body"],
)
async def test_connection_reset_is_protocol(sender: Sender, reply: bytes) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply)
        await writer.drain()
        await asyncio.sleep(0.05)
        _rst_close(writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await sender.send(_request(f"http://127.0.0.1:{port}/"))
    assert result.error_class == "protocol"
    assert result.status is None


# --- connections and TLS ------------------------------------------------------------


async def test_sequential_sends_reuse_one_connection(sender: Sender, receiver: Receiver) -> None:
    for _ in range(5):
        assert (await sender.send(_request(f"{receiver.base}/ok", "POST", body=b"1"))).ok
    assert len({r.peer_port for r in receiver.received}) == 1


@pytest.fixture
async def tls_receiver(tmp_path: Path) -> AsyncIterator[Receiver]:
    recv = Receiver()
    runner, recv.port = await _serve(_routes(recv), make_certificates(tmp_path).server_context())
    recv.base = f"https://127.0.0.1:{recv.port}"
    yield recv
    await runner.cleanup()


async def test_untrusted_certificate_fails_verification(
    sender: Sender, tls_receiver: Receiver
) -> None:
    result: SendResult = await sender.send(_request(f"{tls_receiver.base}/ok"))
    assert result.error_class == "tls"
    assert result.error_message and "certificate" in result.error_message.lower()
    assert tls_receiver.received == []


async def test_verification_can_be_disabled(sender: Sender, tls_receiver: Receiver) -> None:
    result = await sender.send(_request(f"{tls_receiver.base}/ok", verify_tls=False))
    assert result.ok
    assert result.body_excerpt == "hello from receiver"
