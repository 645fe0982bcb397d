"""The inspector's quotas through the real API, on SQLite and PostgreSQL: bytes a bin keeps,
bytes all of a workspace's bins keep, and bins a workspace has; a bin that drops its oldest
captures makes room instead of refusing."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import Service, started

# A capture of BODY bytes is stored as 3,100-3,300 bytes with its path and headers: a bin holds
# three (under 10,000), a workspace seven (under 23,500).
BODY = 2_900
QUOTAS = {"max_bin_bytes": 10_000, "max_workspace_bin_bytes": 23_500, "max_bins_per_workspace": 4}


class Bins:
    def __init__(self, service: Service, ws: str, key: str) -> None:
        self.service, self.key, self.path = service, key, f"/v1/workspaces/{ws}/bins"

    async def new(self, **config: Any) -> dict[str, Any]:
        created: dict[str, Any] = await self.service.ok(
            "POST", self.path, token=self.key, json=config
        )
        return created

    async def get(self, bin_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.service.ok(
            "GET", f"{self.path}/{bin_id}", token=self.key
        )
        return found

    async def bodies(self, bin_id: str) -> list[bytes]:
        page = await self.service.ok("GET", f"{self.path}/{bin_id}/requests", token=self.key)
        return [r["body_text"].encode() for r in reversed(page["data"])]

    async def send(self, bin_: dict[str, Any], tag: int = 0) -> tuple[int, Any]:
        body = b"%04d" % tag + b"x" * (BODY - 4)
        async with self.service.http.post(bin_["capture_url"], data=body) as r:
            return r.status, await r.json()


async def _bins(service: Service, name: str = "acme") -> Bins:
    return Bins(service, *await service.workspace(name))


def _code(answer: tuple[int, Any]) -> tuple[int, str]:
    status, body = answer
    return status, body["error"]["code"] if status >= 400 else "stored"


async def test_byte_and_bin_quotas_answer_429(database_url: str) -> None:
    async for service in started(database_url, **QUOTAS):
        bins = await _bins(service)
        a, b = await bins.new(name="a"), await bins.new(name="b")
        sent = [await bins.send(a, i) for i in range(4)]
        assert [_code(x) for x in sent] == [(200, "stored")] * 3 + [(429, "bin_quota_exceeded")]
        assert "10000 bytes" in sent[3][1]["error"]["message"]
        held = await bins.get(a["id"])
        assert held["request_count"] == 3 and 9_000 < held["byte_count"] <= 10_000

        assert [_code(await bins.send(b, i)) for i in range(3)] == [(200, "stored")] * 3
        c = await bins.new(name="c")
        assert _code(await bins.send(c)) == (200, "stored")
        refused = await bins.send(c)  # the workspace's bins hold 7 captures: 23,500 is reached
        assert _code(refused) == (429, "workspace_quota_exceeded")
        assert "23500 bytes" in refused[1]["error"]["message"]

        await bins.new(name="d")
        status, body = await service.call("POST", bins.path, token=bins.key, json={"name": "e"})
        assert (status, body["error"]["code"]) == (429, "too_many_bins")
        assert "4 bins" in body["error"]["message"]
        other = await _bins(service, "other")  # quotas are per workspace
        assert _code(await other.send(await other.new())) == (200, "stored")

        await service.ok("DELETE", f"{bins.path}/{a['id']}", token=bins.key)
        assert _code(await bins.send(c)) == (200, "stored")  # a's bytes are free again
        assert (await bins.new(name="e"))["byte_count"] == 0  # and so is a's place


async def test_a_rolling_bin_drops_its_oldest_captures_to_make_room(database_url: str) -> None:
    async for service in started(database_url, **QUOTAS):
        bins = await _bins(service)
        rolling = await bins.new(when_full="drop_oldest")
        assert rolling["when_full"] == "drop_oldest"
        assert [_code(await bins.send(rolling, i)) for i in range(6)] == [(200, "stored")] * 6
        assert [body[:4] for body in await bins.bodies(rolling["id"])] == [
            b"0003",
            b"0004",
            b"0005",
        ]
        held = await bins.get(rolling["id"])
        assert held["request_count"] == 3 and held["byte_count"] <= 10_000

        few = await bins.new(when_full="drop_oldest", max_requests=2)
        assert [_code(await bins.send(few, i)) for i in range(3)] == [(200, "stored")] * 3
        assert [body[:4] for body in await bins.bodies(few["id"])] == [b"0001", b"0002"]

        # Seven captures fill the workspace. A rolling bin drops only its own captures: one
        # with none is refused; one with some drops as many as the workspace needs.
        filler = await bins.new()
        assert [_code(await bins.send(filler, i)) for i in range(2)] == [(200, "stored")] * 2
        latest = await bins.new(when_full="drop_oldest")
        assert _code(await bins.send(latest)) == (429, "workspace_quota_exceeded")
        await bins.service.ok("DELETE", f"{bins.path}/{filler['id']}", token=bins.key)
        assert [_code(await bins.send(latest, i)) for i in range(3)] == [(200, "stored")] * 3
        assert [body[:4] for body in await bins.bodies(latest["id"])] == [b"0001", b"0002"]
        assert _code(await bins.send(await bins.new())) == (429, "workspace_quota_exceeded")


async def test_concurrent_captures_keep_to_the_quota(database_url: str) -> None:
    async for service in started(database_url, **QUOTAS):
        bins = await _bins(service)
        one, two = await bins.new(), await bins.new(when_full="drop_oldest")
        sent = await asyncio.gather(*(bins.send(one if i % 2 else two, i) for i in range(24)))
        assert [_code(x) for x in sent].count((200, "stored")) == 12 + 3
        held = [await bins.get(one["id"]), await bins.get(two["id"])]
        assert [b["request_count"] for b in held] == [
            len(await bins.bodies(one["id"])),
            len(await bins.bodies(two["id"])),
        ]
        assert all(b["byte_count"] <= 10_000 for b in held)
        assert held[0]["request_count"] == 3
        assert sum(b["byte_count"] for b in held) <= 23_500
