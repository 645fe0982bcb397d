"""Inspector storage: capture bins and the requests they received (SQL, every dialect).

A captured request keeps its headers as an ordered list of ``(name, value)`` pairs (duplicates
and order preserved) and its body as the exact bytes. The replays of a request are kept with it,
as a short JSON list in ``bin_requests.replays`` (the latest ``MAX_REPLAYS``).

Quotas: each capture's ``size`` is added to running totals, the bin's (``bins.byte_count``) and
its workspace's (``bin_usage``), both locked for the capture's transaction; ``bin_usage`` also
counts the workspace's bins. A capture is judged by ``hookline.domain.bin_quotas.room_for``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field

import orjson

from hookline.domain.bin_quotas import (
    REFUSE,
    BinQuotas,
    CaptureOutcome,
    Held,
    Room,
    capture_size,
    room_for,
)
from hookline.domain.ids import new_id
from hookline.domain.models import Page
from hookline.store import rows
from hookline.store.rows import Row, dumps
from hookline.store.tx import SqlPrimitives, Tx

MAX_REPLAYS = 20
Header = tuple[str, str]


@dataclass(frozen=True, slots=True)
class BinConfig:
    """How a bin answers, and how many requests it keeps."""

    response_status: int = 200
    response_delay_seconds: float = 0.0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    max_requests: int = 500
    when_full: str = REFUSE  # or DROP_OLDEST: see hookline.domain.bin_quotas


@dataclass(frozen=True, slots=True)
class Bin:
    id: str
    workspace_id: str
    name: str
    config: BinConfig
    request_count: int
    expires_at: float
    created_at: float
    byte_count: int = 0

    def expired(self, now: float) -> bool:
        return self.expires_at <= now


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """One replay of a captured request: where it went and what came back."""

    id: str
    url: str
    at: float
    status: int | None
    headers: dict[str, str]
    body_excerpt: str
    duration_ms: float
    error_class: str | None
    error_message: str | None


@dataclass(frozen=True, slots=True)
class IncomingRequest:
    """A request as it reached a capture URL; ``path`` is the part after ``/in/{bin_id}``."""

    method: str
    path: str
    query: str
    headers: tuple[Header, ...]
    body: bytes
    source: str
    received_at: float


@dataclass(frozen=True, slots=True)
class CapturedRequest:
    id: str
    workspace_id: str
    bin_id: str
    request: IncomingRequest
    replays: tuple[ReplayResult, ...] = ()


@dataclass(frozen=True, slots=True)
class Capture:
    outcome: CaptureOutcome
    request_id: str | None = None


class BinStore(ABC):
    """Domain operations of the inspector."""

    @abstractmethod
    async def create_bin(self, bin_: Bin, *, max_bins: int | None = None) -> bool:
        """Create a bin, unless its workspace has ``max_bins`` already (then False)."""

    @abstractmethod
    async def get_bin(self, workspace_id: str, bin_id: str) -> Bin | None: ...

    @abstractmethod
    async def find_bin(self, bin_id: str) -> Bin | None:
        """The bin with this id in any workspace (for the unauthenticated capture URL)."""

    @abstractmethod
    async def list_bins(self, workspace_id: str, *, limit: int, cursor: str | None) -> Page:
        """Newest first."""

    @abstractmethod
    async def delete_bin(self, workspace_id: str, bin_id: str) -> bool:
        """Delete a bin and every request it captured."""

    @abstractmethod
    async def capture(
        self, bin_id: str, request: IncomingRequest, *, now: float, quotas: BinQuotas
    ) -> Capture:
        """Store a request and count it, in one transaction, unless the bin is gone, full or
        over a quota; a bin that drops its oldest captures drops them first to make room.

        Request ids increase in the order captures commit, so ``after`` polling misses none.
        """

    @abstractmethod
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

    @abstractmethod
    async def get_bin_request(
        self, workspace_id: str, bin_id: str, request_id: str
    ) -> CapturedRequest | None: ...

    @abstractmethod
    async def record_replay(
        self, workspace_id: str, bin_id: str, request_id: str, result: ReplayResult
    ) -> bool:
        """Append a replay to the request's latest ``MAX_REPLAYS``; False if it is gone."""

    @abstractmethod
    async def purge_expired_bins(self, now: float) -> int:
        """Delete expired bins and their requests; returns how many bins."""


_INSERT_REQUEST = (
    "INSERT INTO bin_requests (id, workspace_id, bin_id, method, path, query, headers, body,"
    " source, received_at, replays, size)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '[]', $11)"
)
_ENSURE_USAGE = (
    "INSERT INTO bin_usage (workspace_id, bin_count, byte_count) VALUES ($1, 0, 0)"
    " ON CONFLICT (workspace_id) DO NOTHING"
)
# The oldest captures of a bin to drop: up to the first whose running count and bytes reach $2
# and $3 (the id to drop up to, inclusive).
_DROP_UP_TO = (
    "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n,"
    " SUM(size) OVER (ORDER BY id) AS freed FROM bin_requests WHERE bin_id = $1) oldest"
    " WHERE n >= $2 AND freed >= $3 ORDER BY id LIMIT 1"
)


class SqlBinOps(SqlPrimitives, BinStore):
    """The inspector's operations in SQL."""

    _ROW_LOCK = ""  # the dialect's clause that locks the rows a SELECT reads, if it has one

    async def create_bin(self, bin_: Bin, *, max_bins: int | None = None) -> bool:
        async with self._tx() as tx:
            await tx.execute(_ENSURE_USAGE, bin_.workspace_id)
            counted = await tx.execute(
                "UPDATE bin_usage SET bin_count = bin_count + 1"
                " WHERE workspace_id = $1 AND ($2 < 0 OR bin_count < $2)",
                bin_.workspace_id,
                -1 if max_bins is None else max_bins,
            )
            if rows.rowcount(counted) != 1:
                return False
            await tx.execute(
                "INSERT INTO bins (id, workspace_id, name, config, request_count, expires_at,"
                " created_at, byte_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                bin_.id, bin_.workspace_id, bin_.name, dumps(asdict(bin_.config)),
                bin_.request_count, bin_.expires_at, bin_.created_at, bin_.byte_count,
            )  # fmt: skip
        return True

    async def get_bin(self, workspace_id: str, bin_id: str) -> Bin | None:
        sql = "SELECT * FROM bins WHERE workspace_id = $1 AND id = $2"
        async with self._read() as conn:
            row = await conn.fetchrow(sql, workspace_id, bin_id)
        return None if row is None else _bin(row)

    async def find_bin(self, bin_id: str) -> Bin | None:
        async with self._read() as conn:
            row = await conn.fetchrow("SELECT * FROM bins WHERE id = $1", bin_id)
        return None if row is None else _bin(row)

    async def list_bins(self, workspace_id: str, *, limit: int, cursor: str | None) -> Page:
        where, args = "workspace_id = $1", [workspace_id]
        if cursor is not None:
            where, args = where + " AND id < $2", [workspace_id, cursor]
        sql = f"SELECT * FROM bins WHERE {where} ORDER BY id DESC LIMIT {int(limit) + 1}"
        async with self._read() as conn:
            found = [_bin(r) for r in await conn.fetch(sql, *args)]
        return rows.page(found, limit)

    async def delete_bin(self, workspace_id: str, bin_id: str) -> bool:
        async with self._tx() as tx:
            sql = "DELETE FROM bins WHERE workspace_id = $1 AND id = $2 RETURNING byte_count"
            deleted = await tx.fetchrow(sql, workspace_id, bin_id)
            if deleted is None:
                return False
            await tx.execute("DELETE FROM bin_requests WHERE bin_id = $1", bin_id)
            await self._give_back(tx, workspace_id, 1, int(deleted["byte_count"]))
            return True

    async def _give_back(self, tx: Tx, workspace_id: str, bins: int, byte_count: int) -> None:
        await tx.execute(
            "UPDATE bin_usage SET bin_count = bin_count - $2, byte_count = byte_count - $3"
            " WHERE workspace_id = $1",
            workspace_id, bins, byte_count,
        )  # fmt: skip

    async def capture(
        self, bin_id: str, request: IncomingRequest, *, now: float, quotas: BinQuotas
    ) -> Capture:
        r = request
        size = capture_size(r.method, r.path, r.query, r.headers, r.body)
        async with self._tx() as tx:
            # Locked until commit, the bin's row and then its workspace's: concurrent captures
            # (in any process) judge their room one after the other, and take their ids (below)
            # in that order. SQLite's write transaction holds the whole database already.
            sql = f"SELECT * FROM bins WHERE id = $1{self._ROW_LOCK}"
            row = await tx.fetchrow(sql, bin_id)
            if row is None or row["expires_at"] <= now:
                return Capture(CaptureOutcome.GONE)
            found, ws = _bin(row), row["workspace_id"]
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
                _INSERT_REQUEST,
                request_id, ws, bin_id, r.method, r.path, r.query,
                dumps([list(h) for h in r.headers]), r.body, r.source[:100], r.received_at, size,
            )  # fmt: skip
            await tx.execute(
                "UPDATE bins SET request_count = request_count + $2,"
                " byte_count = byte_count + $3 WHERE id = $1",
                bin_id, 1 - dropped, size - freed,
            )  # fmt: skip
            await self._give_back(tx, ws, 0, freed - size)
        return Capture(CaptureOutcome.STORED, request_id)

    async def _usage(self, tx: Tx, workspace_id: str) -> int:
        """The bytes the workspace's bins hold, its row locked until commit."""
        sql = f"SELECT byte_count FROM bin_usage WHERE workspace_id = $1{self._ROW_LOCK}"
        row = await tx.fetchrow(sql, workspace_id)
        if row is None:  # a bin created outside create_bin: count from here on
            await tx.execute(_ENSURE_USAGE, workspace_id)
            row = await tx.fetchrow(sql, workspace_id)
        return 0 if row is None else int(row["byte_count"])

    async def _drop_oldest(self, tx: Tx, bin_id: str, room: Room) -> tuple[int, int]:
        """Drop the bin's oldest captures as ``room`` says; how many, and their bytes."""
        if room.drop_requests <= 0 and room.drop_bytes <= 0:
            return 0, 0
        last = await tx.fetchrow(_DROP_UP_TO, bin_id, room.drop_requests, room.drop_bytes)
        if last is None:  # room_for judged from the running totals, which cover every capture
            return 0, 0
        sql = "DELETE FROM bin_requests WHERE bin_id = $1 AND id <= $2 RETURNING size"
        dropped = await tx.fetch(sql, bin_id, last["id"])
        return len(dropped), sum(int(d["size"]) for d in dropped)

    async def _next_request_id(self, tx: Tx, bin_id: str) -> str:
        """A new id above the bin's last one, even if another process's clock is ahead."""
        sql = "SELECT MAX(id) AS last FROM bin_requests WHERE bin_id = $1"
        row = await tx.fetchrow(sql, bin_id)
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
        where, args = "workspace_id = $1 AND bin_id = $2", [workspace_id, bin_id]
        order = "DESC"
        if after is not None:
            where, order = where + " AND id > $3", "ASC"
            args.append(after)
        elif cursor is not None:
            where += " AND id < $3"
            args.append(cursor)
        sql = f"SELECT * FROM bin_requests WHERE {where} ORDER BY id {order} LIMIT {int(limit) + 1}"
        async with self._read() as conn:
            found = [_captured(r) for r in await conn.fetch(sql, *args)]
        return rows.page(found, limit)

    async def get_bin_request(
        self, workspace_id: str, bin_id: str, request_id: str
    ) -> CapturedRequest | None:
        sql = "SELECT * FROM bin_requests WHERE workspace_id = $1 AND bin_id = $2 AND id = $3"
        async with self._read() as conn:
            row = await conn.fetchrow(sql, workspace_id, bin_id, request_id)
        return None if row is None else _captured(row)

    async def record_replay(
        self, workspace_id: str, bin_id: str, request_id: str, result: ReplayResult
    ) -> bool:
        where = "WHERE workspace_id = $1 AND bin_id = $2 AND id = $3"
        args = (workspace_id, bin_id, request_id)
        async with self._tx() as tx:
            # Writing the row first takes its lock, so two replays recorded at once both stay.
            touch = f"UPDATE bin_requests SET replays = replays {where}"
            if rows.rowcount(await tx.execute(touch, *args)) != 1:
                return False
            row = await tx.fetchrow(f"SELECT replays FROM bin_requests {where}", *args)
            assert row is not None
            replays = [*orjson.loads(row["replays"]), asdict(result)][-MAX_REPLAYS:]
            await tx.execute(f"UPDATE bin_requests SET replays = $4 {where}", *args, dumps(replays))
        return True

    async def purge_expired_bins(self, now: float) -> int:
        async with self._tx() as tx:
            sql = "DELETE FROM bins WHERE expires_at <= $1 RETURNING id, workspace_id, byte_count"
            gone = await tx.fetch(sql, now)
            if not gone:
                return 0
            ids = self._list([g["id"] for g in gone])
            await tx.execute(f"DELETE FROM bin_requests WHERE bin_id {self._in(1)}", ids)
            released: dict[str, tuple[int, int]] = {}
            for g in gone:
                bins, byte_count = released.get(g["workspace_id"], (0, 0))
                released[g["workspace_id"]] = (bins + 1, byte_count + int(g["byte_count"]))
            for workspace_id, (bins, byte_count) in sorted(released.items()):
                await self._give_back(tx, workspace_id, bins, byte_count)
            return len(gone)


_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def successor(request_id: str) -> str:
    """The id right after ``request_id`` (its base32 body plus one, same length)."""
    prefix, _, body = request_id.rpartition("_")
    value = 0
    for char in body:
        value = value * 32 + _ALPHABET.index(char)
    value += 1
    chars = []
    for _ in body:
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"


def _bin(row: Row) -> Bin:
    return Bin(
        id=row["id"],
        workspace_id=row["workspace_id"],
        name=row["name"],
        config=BinConfig(**orjson.loads(row["config"])),
        request_count=int(row["request_count"]),
        expires_at=float(row["expires_at"]),
        created_at=float(row["created_at"]),
        byte_count=int(row["byte_count"]),
    )


def _captured(row: Row) -> CapturedRequest:
    request = IncomingRequest(
        method=row["method"],
        path=row["path"],
        query=row["query"],
        headers=tuple((str(n), str(v)) for n, v in orjson.loads(row["headers"])),
        body=bytes(row["body"]),
        source=row["source"],
        received_at=float(row["received_at"]),
    )
    replays = tuple(ReplayResult(**r) for r in orjson.loads(row["replays"]))
    return CapturedRequest(row["id"], row["workspace_id"], row["bin_id"], request, replays)
