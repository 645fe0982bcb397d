"""Inspector records: capture bins and the requests they received (the repository that stores
them is :mod:`hookline.store.inspector`).

A captured request keeps its headers as an ordered list of ``(name, value)`` pairs (duplicates
and order preserved) and its body as the exact bytes. The replays of a request are kept with it,
as a short JSON list in ``bin_requests.replays`` (the latest ``MAX_REPLAYS``).

Quotas: each capture's ``size`` is added to running totals, the bin's (``bins.byte_count``) and
its workspace's (``bin_usage``), both locked for the capture's transaction; ``bin_usage`` also
counts the workspace's bins. A capture is judged by ``hookline.domain.bin_quotas.room_for``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from hookline.domain.bin_quotas import REFUSE, CaptureOutcome
from hookline.store.rows import Row

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


def bin_of(row: Row) -> Bin:
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


def captured_of(row: Row) -> CapturedRequest:
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
