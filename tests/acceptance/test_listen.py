"""``hookline listen`` in a subprocess, as a developer runs it: requests captured by a bin of the
real service reach a real local app, exactly, one printed line each; a signal ends it cleanly."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.conftest import Receiver, Service

HOOKLINE = [sys.executable, "-m", "hookline.cli"]
LINE = re.compile(r"^\d\d:\d\d:\d\d (\S+) (\S+) -> (\S+) \(\d+ ms\)$")


@asynccontextmanager
async def listening(*args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        *HOOKLINE, "listen", *args, stdout=asyncio.subprocess.PIPE
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    return (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().rstrip("\n")


async def test_listen_creates_a_bin_and_forwards_each_request(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    options = ["--api-url", service.url, "--token", key, "--workspace", ws, "--interval", "0.1"]
    async with listening(*options, "--forward", receiver.url + "/hooks") as proc:
        banner = re.search(r"Capture URL: (\S+)", await line(proc))
        assert banner, "no capture URL printed"
        capture = banner.group(1)
        assert capture.startswith(f"{service.url}/in/bin_")

        binary = bytes(range(256))
        headers = {"Content-Type": "application/octet-stream", "X-Trace": "abc"}
        async with service.http.post(capture, data=b'{"n": 1}', headers=headers) as r:
            assert r.status == 200
        assert LINE.match(await line(proc)).groups() == ("POST", "/hooks", "200")  # type: ignore[union-attr]
        async with service.http.put(f"{capture}/orders/7?x=1", data=binary) as r:
            assert r.status == 200
        assert LINE.match(await line(proc)).groups() == ("PUT", "/hooks/orders/7?x=1", "200")  # type: ignore[union-attr]

        first, second = await receiver.wait_for(2)
        assert (first.method, first.path, first.body) == ("POST", "/hooks", b'{"n": 1}')
        got = {name.lower(): value for name, value in first.headers.items()}
        assert got["x-trace"] == "abc" and got["content-type"] == "application/octet-stream"
        assert (second.method, second.path, second.body) == ("PUT", "/hooks/orders/7?x=1", binary)

        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0


async def test_listen_on_an_existing_bin_forwards_only_what_is_new(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    bins = f"/v1/workspaces/{ws}/bins"
    created = await service.ok("POST", bins, token=key, json={"name": "mine"})
    async with service.http.post(created["capture_url"], data=b"old") as r:
        assert r.status == 200
    receiver.status = 503
    options = ["--api-url", service.url, "--token", key, "--workspace", ws, "--interval", "0.1"]
    async with listening(*options, "--bin", created["id"], "--forward", receiver.url) as proc:
        assert created["capture_url"] in await line(proc)
        async with service.http.delete(created["capture_url"] + "/x", data=b"new") as r:
            assert r.status == 200
        assert LINE.match(await line(proc)).groups() == ("DELETE", "/x", "503")  # type: ignore[union-attr]
        [only] = receiver.requests
        assert only.body == b"new"
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 15) == 0


async def test_listen_reports_a_bad_token_and_exits(service: Service) -> None:
    ws, _ = await service.workspace()
    options = ["--api-url", service.url, "--token", "hla_wrong", "--workspace", ws]
    proc = await asyncio.create_subprocess_exec(
        *HOOKLINE, "listen", *options, "--forward", "http://127.0.0.1:9/",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2
    assert b"401" in err


async def test_listen_forwards_several_waiting_captures_once_each_oldest_first(
    service: Service, receiver: Receiver
) -> None:
    """The first poll that finds anything finds several requests: each is forwarded exactly
    once, in the order they were captured (the listing without ``after`` is newest first)."""
    ws, key = await service.workspace()
    bins = f"/v1/workspaces/{ws}/bins"
    created = await service.ok("POST", bins, token=key, json={"name": "empty"})
    options = ["--api-url", service.url, "--token", key, "--workspace", ws, "--interval", "1"]
    async with listening(*options, "--bin", created["id"], "--forward", receiver.url) as proc:
        assert created["capture_url"] in await line(proc)
        # The listener's first poll found the bin empty; these wait for its next one.
        for n in range(1, 5):
            async with service.http.post(f"{created['capture_url']}/{n}", data=b"%d" % n) as r:
                assert r.status == 200
        paths = [LINE.match(await line(proc)).group(2) for _ in range(4)]  # type: ignore[union-attr]
        assert paths == ["/1", "/2", "/3", "/4"]
        await asyncio.sleep(2.5)  # two more polls: nothing may be forwarded again
        assert [r.body for r in receiver.requests] == [b"1", b"2", b"3", b"4"]
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
