"""The inspector's quotas in the store, on SQLite and PostgreSQL: running byte totals per bin
and per workspace, kept by captures, drops, deletes and purges; bins per workspace; no
overshoot when several stores (processes) capture at once; and migration 0008 counting the
captures stored before it."""

from __future__ import annotations

import asyncio
from typing import Any

from hookline.domain.bin_quotas import DROP_OLDEST, BinQuotas, CaptureOutcome
from hookline.store import Store
from hookline.store.bins import Bin, BinConfig, IncomingRequest
from hookline.store.migrate import downgrade, upgrade
from tests.contract.test_store import T0, execute_raw, opened, workspace

ROOMY = BinQuotas(bin_bytes=10**9, workspace_bytes=10**9)


def incoming(body: bytes = b"") -> IncomingRequest:
    """A capture of exactly ``len(body) + 10`` bytes (method, path, one header)."""
    return IncomingRequest("POST", "/in/", "", (("h", "v"),), body, "127.0.0.1", T0)


async def new_bin(
    store: Store, ws: str, bin_id: str, *, max_bins: int | None = None, **config: Any
) -> bool:
    created = Bin(bin_id, ws, bin_id, BinConfig(**config), 0, T0 + 3600, T0)
    return await store.inspector.create_bin(created, max_bins=max_bins)


async def usage(db_url: str, ws: str) -> list[int]:
    counts: list[int] = await execute_raw(
        db_url,
        f"SELECT bin_count FROM bin_usage WHERE workspace_id = '{ws}'",
        f"SELECT byte_count FROM bin_usage WHERE workspace_id = '{ws}'",
    )
    return counts


async def stored(store: Store, ws: str, bin_id: str) -> list[bytes]:
    page = await store.inspector.list_bin_requests(ws, bin_id, limit=100)
    return [c.request.body for c in reversed(page.items)]


async def test_byte_totals_follow_captures_drops_and_deletes(
    store: Store, ws: str, db_url: str
) -> None:
    quotas = BinQuotas(bin_bytes=300, workspace_bytes=500)
    assert await new_bin(store, ws, "bin_a")
    assert await new_bin(store, ws, "bin_b", when_full=DROP_OLDEST)
    outcomes = [
        (
            await store.inspector.capture("bin_a", incoming(b"%d" % i * 90), now=T0, quotas=quotas)
        ).outcome
        for i in range(4)
    ]
    assert outcomes == [CaptureOutcome.STORED] * 3 + [CaptureOutcome.BIN_QUOTA]
    a = await store.inspector.get_bin(ws, "bin_a")
    assert a is not None and (a.request_count, a.byte_count) == (3, 300)
    assert await usage(db_url, ws) == [2, 300]

    for i in range(4):  # b: room for two (the workspace's 500), then it drops its oldest
        captured = await store.inspector.capture(
            "bin_b", incoming(b"%d" % i * 90), now=T0, quotas=quotas
        )
        assert captured.outcome is CaptureOutcome.STORED
    assert await stored(store, ws, "bin_b") == [b"2" * 90, b"3" * 90]
    b = await store.inspector.get_bin(ws, "bin_b")
    assert b is not None and (b.request_count, b.byte_count) == (2, 200)
    assert await usage(db_url, ws) == [2, 500]
    big = await store.inspector.capture("bin_b", incoming(b"x" * 291), now=T0, quotas=quotas)
    assert big.outcome is CaptureOutcome.BIN_QUOTA  # 301 bytes fit in no bin
    two = await store.inspector.capture("bin_b", incoming(b"x" * 190), now=T0, quotas=quotas)
    assert two.outcome is CaptureOutcome.STORED  # 200 bytes: both older ones dropped
    assert await stored(store, ws, "bin_b") == [b"x" * 190]
    assert await usage(db_url, ws) == [2, 500]

    assert await store.inspector.delete_bin(ws, "bin_a")
    assert await usage(db_url, ws) == [1, 200]
    assert await store.inspector.purge_expired_bins(T0 + 3600) == 1
    assert await usage(db_url, ws) == [0, 0]


async def test_a_workspace_has_at_most_max_bins(store: Store, ws: str, db_url: str) -> None:
    other = await workspace(store, "other")
    assert [await new_bin(store, ws, f"bin_{i}", max_bins=2) for i in range(3)] == [
        True,
        True,
        False,
    ]
    assert await store.inspector.get_bin(ws, "bin_2") is None
    assert await new_bin(store, other, "bin_other", max_bins=2)
    assert await store.inspector.delete_bin(ws, "bin_0")
    assert await new_bin(store, ws, "bin_2", max_bins=2)
    assert await usage(db_url, ws) == [2, 0]


async def test_concurrent_captures_from_several_stores_keep_to_the_quotas(
    store: Store, ws: str, db_url: str
) -> None:
    quotas = BinQuotas(bin_bytes=1_000, workspace_bytes=2_500)
    ids = ["bin_r0", "bin_r1", "bin_d0"]
    for bin_id in ids[:2]:
        await new_bin(store, ws, bin_id)
    await new_bin(store, ws, "bin_d0", when_full=DROP_OLDEST)
    async with opened(db_url) as second, opened(db_url) as third:
        stores = [store, second, third]
        captures = [
            stores[i % 3].inspector.capture(
                ids[i % 3], incoming(b"%03d" % i + b"x" * 87), now=T0, quotas=quotas
            )
            for i in range(60)
        ]
        outcomes = [c.outcome for c in await asyncio.gather(*captures)]
    # Whatever the order, the workspace ends full (the refusing bins reach 1,000 bytes each, or
    # the workspace its 2,500 first) and every total matches what is stored.
    assert await usage(db_url, ws) == [3, 2_500]
    total = 0
    for bin_id in ids:
        found = await store.inspector.get_bin(ws, bin_id)
        assert found is not None and found.byte_count <= 1_000
        count = len(await stored(store, ws, bin_id))
        assert (found.request_count, found.byte_count) == (count, 100 * count)
        total += found.byte_count
    assert total == 2_500
    assert outcomes.count(CaptureOutcome.STORED) >= 25


async def test_migration_counts_the_captures_stored_before_it(db_url: str) -> None:
    await asyncio.to_thread(downgrade, db_url, "0007")
    insert_bin = (
        "INSERT INTO bins (id, workspace_id, name, config, request_count, expires_at, created_at)"
        " VALUES ('{0}', '{1}', '{0}', '{{}}', {2}, 1e10, 0)"
    )
    insert_request = (
        "INSERT INTO bin_requests (id, workspace_id, bin_id, method, path, query, headers, body,"
        " source, received_at) VALUES ('{0}', 'ws_a', 'bin_a', 'POST', '/in/bin_a', 'q=1',"
        " '[[\"h\",\"v\"]]', {1}, '', 0)"
    )
    body = "x'616263'" if db_url.startswith("sqlite") else "'\\x616263'::bytea"
    await execute_raw(
        db_url,
        insert_bin.format("bin_a", "ws_a", 2),
        insert_bin.format("bin_b", "ws_a", 0),
        insert_bin.format("bin_c", "ws_c", 0),
        insert_request.format("breq_1", body),
        insert_request.format("breq_2", body),
    )
    await asyncio.to_thread(upgrade, db_url)
    size = len("POST") + len("/in/bin_a") + len("q=1") + len('[["h","v"]]') + len("abc")
    totals = await execute_raw(
        db_url,
        "SELECT MIN(size) FROM bin_requests",
        "SELECT byte_count FROM bins WHERE id = 'bin_a'",
        "SELECT byte_count FROM bins WHERE id = 'bin_b'",
    )
    assert totals == [size, 2 * size, 0]
    assert await usage(db_url, "ws_a") == [2, 2 * size]
    assert await usage(db_url, "ws_c") == [1, 0]
