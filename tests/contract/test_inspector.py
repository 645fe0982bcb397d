"""The inspector's repository on SQLite and PostgreSQL: bins found by workspace or by id alone,
listed newest first and paged, captured requests read back exactly, replays kept (the latest
``MAX_REPLAYS``), and bins that expire purged with their requests."""

from __future__ import annotations

from hookline.domain.bin_quotas import BinQuotas, CaptureOutcome
from hookline.store import Store
from hookline.store.bins import MAX_REPLAYS, Bin, BinConfig, IncomingRequest, ReplayResult
from tests.contract.test_store import T0, workspace

ROOMY = BinQuotas(bin_bytes=10**9, workspace_bytes=10**9)


async def new_bin(store: Store, ws: str, bin_id: str, *, expires_at: float = T0 + 3600) -> Bin:
    created = Bin(bin_id, ws, f"name {bin_id}", BinConfig(response_status=202), 0, expires_at, T0)
    assert await store.inspector.create_bin(created)
    return created


def request(body: bytes, *, at: float = T0) -> IncomingRequest:
    headers = (("X-Dup", "1"), ("x-dup", "2"), ("Content-Type", "text/plain"))
    return IncomingRequest("PUT", "/in/a/b", "q=1", headers, body, "10.0.0.1", at)


async def capture(store: Store, bin_id: str, body: bytes) -> str:
    stored = await store.inspector.capture(bin_id, request(body), now=T0, quotas=ROOMY)
    assert stored.outcome is CaptureOutcome.STORED and stored.request_id is not None
    return stored.request_id


def replay(n: int) -> ReplayResult:
    return ReplayResult(
        f"rep_{n}", "https://example.com/x", T0 + n, 200, {"a": "b"}, "ok", 1.5, None, None
    )


async def test_bins_are_found_by_workspace_and_by_id(store: Store, ws: str) -> None:
    made = await new_bin(store, ws, "bin_1")
    other = await workspace(store, "other")
    assert await store.inspector.get_bin(ws, "bin_1") == made
    assert await store.inspector.get_bin(other, "bin_1") is None  # not another workspace's
    assert await store.inspector.find_bin("bin_1") == made  # the capture URL knows no workspace
    assert await store.inspector.find_bin("bin_missing") is None
    assert made.config.response_status == 202


async def test_bins_are_listed_newest_first_in_pages(store: Store, ws: str) -> None:
    for n in range(5):
        await new_bin(store, ws, f"bin_{n}")
    first = await store.inspector.list_bins(ws, limit=2, cursor=None)
    assert [b.id for b in first.items] == ["bin_4", "bin_3"]
    rest = await store.inspector.list_bins(ws, limit=10, cursor=first.next_cursor)
    assert [b.id for b in rest.items] == ["bin_2", "bin_1", "bin_0"]
    assert rest.next_cursor is None
    other = await workspace(store, "other")
    assert (await store.inspector.list_bins(other, limit=10, cursor=None)).items == []


async def test_a_captured_request_reads_back_exactly(store: Store, ws: str) -> None:
    await new_bin(store, ws, "bin_1")
    rid = await capture(store, "bin_1", b"\x00\xffraw")
    found = await store.inspector.get_bin_request(ws, "bin_1", rid)
    assert found is not None and found.request == request(b"\x00\xffraw")
    assert (found.id, found.bin_id, found.replays) == (rid, "bin_1", ())
    assert await store.inspector.get_bin_request(ws, "bin_other", rid) is None


async def test_requests_page_back_and_poll_forward(store: Store, ws: str) -> None:
    await new_bin(store, ws, "bin_1")
    ids = [await capture(store, "bin_1", b"%d" % n) for n in range(4)]
    newest = await store.inspector.list_bin_requests(ws, "bin_1", limit=3)
    assert [r.id for r in newest.items] == ids[:0:-1]
    older = await store.inspector.list_bin_requests(ws, "bin_1", limit=3, cursor=newest.next_cursor)
    assert [r.id for r in older.items] == ids[:1]
    newer = await store.inspector.list_bin_requests(ws, "bin_1", limit=2, after=ids[0])
    assert [r.id for r in newer.items] == ids[1:3]  # oldest first, for polling


async def test_replays_are_kept_latest_first_out(store: Store, ws: str) -> None:
    await new_bin(store, ws, "bin_1")
    rid = await capture(store, "bin_1", b"x")
    for n in range(MAX_REPLAYS + 2):
        assert await store.inspector.record_replay(ws, "bin_1", rid, replay(n))
    found = await store.inspector.get_bin_request(ws, "bin_1", rid)
    assert found is not None
    assert [r.id for r in found.replays] == [f"rep_{n}" for n in range(2, MAX_REPLAYS + 2)]
    assert not await store.inspector.record_replay(ws, "bin_1", "breq_missing", replay(0))


async def test_expired_bins_are_purged_with_their_requests(store: Store, ws: str) -> None:
    await new_bin(store, ws, "bin_old", expires_at=T0 + 10)
    await new_bin(store, ws, "bin_new", expires_at=T0 + 1000)
    rid = await capture(store, "bin_old", b"x")
    assert await store.inspector.purge_expired_bins(T0 + 10) == 1
    assert await store.inspector.get_bin(ws, "bin_old") is None
    assert await store.inspector.get_bin_request(ws, "bin_old", rid) is None
    assert await store.inspector.get_bin(ws, "bin_new") is not None
    assert await store.inspector.purge_expired_bins(T0 + 10) == 0
    gone = await store.inspector.capture("bin_old", request(b"y"), now=T0, quotas=ROOMY)
    assert gone.outcome is CaptureOutcome.GONE
