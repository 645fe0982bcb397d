"""The inspector's repository: capture bins, the requests they receive, their replays, and the
quotas' running totals (see :mod:`hookline.store.bins` for the records and the quotas)."""

from __future__ import annotations

from dataclasses import asdict

import orjson

from hookline.domain.bin_quotas import BinQuotas, CaptureOutcome, Held, Room, capture_size, room_for
from hookline.domain.ids import new_id
from hookline.domain.models import Page
from hookline.store import rows
from hookline.store.bins import (
    MAX_REPLAYS,
    Bin,
    Capture,
    CapturedRequest,
    IncomingRequest,
    ReplayResult,
    bin_of,
    captured_of,
    successor,
)
from hookline.store.dialect import Dialect
from hookline.store.rows import dumps
from hookline.store.statements.inspector import (
    BINS,
    NEWER_REQUESTS,
    OLDER_REQUESTS,
    InspectorSql,
)
from hookline.store.statements.listing import RenderedListing
from hookline.store.tx import Tx


class InspectorRepository:
    """Bins and their captured requests."""

    def __init__(self, dialect: Dialect) -> None:
        self._d = dialect
        self._sql = dialect.prepare(InspectorSql())
        self._bins = RenderedListing(BINS, dialect)
        self._older = RenderedListing(OLDER_REQUESTS, dialect)
        self._newer = RenderedListing(NEWER_REQUESTS, dialect)

    async def create_bin(self, bin_: Bin, *, max_bins: int | None = None) -> bool:
        """Create a bin, unless its workspace has ``max_bins`` already (then False)."""
        sql, b = self._sql, bin_
        async with self._d.tx() as tx:
            await tx.execute(sql.ensure_usage, b.workspace_id)
            limit = -1 if max_bins is None else max_bins
            if rows.rowcount(await tx.execute(sql.count_bin, b.workspace_id, limit)) != 1:
                return False
            await tx.execute(
                sql.create_bin,
                b.id, b.workspace_id, b.name, dumps(asdict(b.config)), b.request_count,
                b.expires_at, b.created_at, b.byte_count,
            )  # fmt: skip
        return True

    async def get_bin(self, workspace_id: str, bin_id: str) -> Bin | None:
        row = await self._d.fetchrow(self._sql.bin, workspace_id, bin_id)
        return None if row is None else bin_of(row)

    async def find_bin(self, bin_id: str) -> Bin | None:
        """The bin with this id in any workspace (for the unauthenticated capture URL)."""
        row = await self._d.fetchrow(self._sql.any_bin, bin_id)
        return None if row is None else bin_of(row)

    async def list_bins(self, workspace_id: str, *, limit: int, cursor: str | None) -> Page:
        """Newest first."""
        sql, args = self._bins.query((workspace_id,), (cursor,), limit)
        return rows.page([bin_of(r) for r in await self._d.fetch(sql, *args)], limit)

    async def delete_bin(self, workspace_id: str, bin_id: str) -> bool:
        """Delete a bin and every request it captured."""
        async with self._d.tx() as tx:
            deleted = await tx.fetchrow(self._sql.delete_bin, workspace_id, bin_id)
            if deleted is None:
                return False
            await tx.execute(self._sql.delete_requests, bin_id)
            await self._give_back(tx, workspace_id, 1, int(deleted["byte_count"]))
            return True

    async def _give_back(self, tx: Tx, workspace_id: str, bins: int, byte_count: int) -> None:
        await tx.execute(self._sql.give_back, workspace_id, bins, byte_count)

    async def capture(
        self, bin_id: str, request: IncomingRequest, *, now: float, quotas: BinQuotas
    ) -> Capture:
        """Store a request and count it, in one transaction, unless the bin is gone, full or
        over a quota; a bin that drops its oldest captures drops them first to make room.

        Request ids increase in the order captures commit, so ``after`` polling misses none.
        """
        r, sql = request, self._sql
        size = capture_size(r.method, r.path, r.query, r.headers, r.body)
        async with self._d.tx() as tx:
            # Locked until commit, the bin's row and then its workspace's: concurrent captures
            # (in any process) judge their room one after the other, and take their ids (below)
            # in that order. SQLite's write transaction holds the whole database already.
            row = await tx.fetchrow(sql.locked_bin, bin_id)
            if row is None or row["expires_at"] <= now:
                return Capture(CaptureOutcome.GONE)
            found, ws = bin_of(row), row["workspace_id"]
            held = Held(found.request_count, found.byte_count, await self._usage(tx, ws))
            room = room_for(
                size, held, max_requests=found.config.max_requests,
                when_full=found.config.when_full, quotas=quotas,
            )  # fmt: skip
            if room.outcome is not CaptureOutcome.STORED:
                return Capture(room.outcome)
            request_id = await self._next_request_id(tx, bin_id)
            dropped, freed = await self._drop_oldest(tx, bin_id, room)
            await tx.execute(
                sql.insert_request,
                request_id, ws, bin_id, r.method, r.path, r.query,
                dumps([list(h) for h in r.headers]), r.body, r.source[:100], r.received_at, size,
            )  # fmt: skip
            await tx.execute(sql.count_capture, bin_id, 1 - dropped, size - freed)
            await self._give_back(tx, ws, 0, freed - size)
        return Capture(CaptureOutcome.STORED, request_id)

    async def _usage(self, tx: Tx, workspace_id: str) -> int:
        """The bytes the workspace's bins hold, its row locked until commit."""
        row = await tx.fetchrow(self._sql.usage, workspace_id)
        if row is None:  # a bin created outside create_bin: count from here on
            await tx.execute(self._sql.ensure_usage, workspace_id)
            row = await tx.fetchrow(self._sql.usage, workspace_id)
        return 0 if row is None else int(row["byte_count"])

    async def _drop_oldest(self, tx: Tx, bin_id: str, room: Room) -> tuple[int, int]:
        """Drop the bin's oldest captures as ``room`` says; how many, and their bytes."""
        if room.drop_requests <= 0 and room.drop_bytes <= 0:
            return 0, 0
        sql = self._sql
        last = await tx.fetchrow(sql.drop_up_to, bin_id, room.drop_requests, room.drop_bytes)
        if last is None:  # room_for judged from the running totals, which cover every capture
            return 0, 0
        dropped = await tx.fetch(sql.drop, bin_id, last["id"])
        return len(dropped), sum(int(d["size"]) for d in dropped)

    async def _next_request_id(self, tx: Tx, bin_id: str) -> str:
        """A new id above the bin's last one, even if another process's clock is ahead."""
        row = await tx.fetchrow(self._sql.last_request, bin_id)
        last = None if row is None else row["last"]
        fresh = new_id("breq")
        return fresh if last is None or fresh > last else successor(str(last))

    async def list_bin_requests(
        self,
        workspace_id: str,
        bin_id: str,
        *,
        limit: int,
        cursor: str | None = None,
        after: str | None = None,
    ) -> Page:
        """Newest first, paged by ``cursor``; or, given ``after``, the newer ones oldest first
        (``next_cursor`` then is the ``after`` of the next page, when there is one)."""
        head = (workspace_id, bin_id)
        if after is not None:
            sql, args = self._newer.query(head, (after,), limit)
        else:
            sql, args = self._older.query(head, (cursor,), limit)
        return rows.page([captured_of(r) for r in await self._d.fetch(sql, *args)], limit)

    async def get_bin_request(
        self, workspace_id: str, bin_id: str, request_id: str
    ) -> CapturedRequest | None:
        row = await self._d.fetchrow(self._sql.request, workspace_id, bin_id, request_id)
        return None if row is None else captured_of(row)

    async def record_replay(
        self, workspace_id: str, bin_id: str, request_id: str, result: ReplayResult
    ) -> bool:
        """Append a replay to the request's latest ``MAX_REPLAYS``; False if it is gone."""
        sql, args = self._sql, (workspace_id, bin_id, request_id)
        async with self._d.tx() as tx:
            # Writing the row first takes its lock, so two replays recorded at once both stay.
            if rows.rowcount(await tx.execute(sql.touch_request, *args)) != 1:
                return False
            row = await tx.fetchrow(sql.replays, *args)
            assert row is not None
            replays = [*orjson.loads(row["replays"]), asdict(result)][-MAX_REPLAYS:]
            await tx.execute(sql.set_replays, *args, dumps(replays))
        return True

    async def purge_expired_bins(self, now: float) -> int:
        """Delete expired bins and their requests; returns how many bins."""
        async with self._d.tx() as tx:
            gone = await tx.fetch(self._sql.expired_bins, now)
            if not gone:
                return 0
            ids = self._d.list_param([g["id"] for g in gone])
            await tx.execute(self._sql.delete_bins_requests, ids)
            released: dict[str, tuple[int, int]] = {}
            for g in gone:
                bins, byte_count = released.get(g["workspace_id"], (0, 0))
                released[g["workspace_id"]] = (bins + 1, byte_count + int(g["byte_count"]))
            for workspace_id, (bins, byte_count) in sorted(released.items()):
                await self._give_back(tx, workspace_id, bins, byte_count)
            return len(gone)
