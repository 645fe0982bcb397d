"""The inspector's quotas as pure decisions: whether a capture fits its bin and its workspace,
and, for a bin that drops its oldest captures when full, how much it must drop first.

A capture's size is what storing it takes: its body, path, query and headers. The store keeps
running totals (per bin, per workspace) and asks ``room_for`` under their locks.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

#: ``BinConfig.when_full``: refuse the capture (429), or drop the bin's oldest ones.
REFUSE = "refuse"
DROP_OLDEST = "drop_oldest"


class CaptureOutcome(enum.Enum):
    STORED = "stored"
    GONE = "gone"  # no such bin, or it has expired
    FULL = "full"  # the bin holds its maximum number of requests
    BIN_QUOTA = "bin_quota"  # the bin's captures would exceed max_bin_bytes
    WORKSPACE_QUOTA = "workspace_quota"  # the workspace's would exceed max_workspace_bin_bytes


@dataclass(frozen=True, slots=True)
class BinQuotas:
    """The operator's limits (``Settings.max_bin_bytes`` and ``max_workspace_bin_bytes``)."""

    bin_bytes: int
    workspace_bytes: int


@dataclass(frozen=True, slots=True)
class Held:
    """What is stored now: the bin's captures and bytes, and the bytes of the workspace's bins."""

    requests: int
    bin_bytes: int
    workspace_bytes: int


@dataclass(frozen=True, slots=True)
class Room:
    """The decision: the outcome, and (when storing) the oldest captures to drop first, as
    many as it takes to drop at least ``drop_requests`` of them and ``drop_bytes`` bytes."""

    outcome: CaptureOutcome
    drop_requests: int = 0
    drop_bytes: int = 0


def capture_size(
    method: str, path: str, query: str, headers: Iterable[tuple[str, str]], body: bytes
) -> int:
    """The bytes a capture counts for (names and values are latin-1: a character a byte)."""
    header_bytes = sum(len(name) + len(value) for name, value in headers)
    return len(method) + len(path) + len(query) + header_bytes + len(body)


def room_for(
    size: int, held: Held, *, max_requests: int, when_full: str, quotas: BinQuotas
) -> Room:
    """Whether a capture of ``size`` bytes fits, and what a rolling bin drops to make room."""
    over_count = held.requests + 1 - max_requests
    over_bin = held.bin_bytes + size - quotas.bin_bytes
    over_workspace = held.workspace_bytes + size - quotas.workspace_bytes
    if over_count <= 0 and over_bin <= 0 and over_workspace <= 0:
        return Room(CaptureOutcome.STORED)
    if size > quotas.bin_bytes:  # fits in no bin, however empty
        return Room(CaptureOutcome.BIN_QUOTA)
    if when_full != DROP_OLDEST:
        return Room(_first_exceeded(over_count, over_bin))
    if over_workspace > held.bin_bytes:  # dropping all of this bin would not be enough
        return Room(CaptureOutcome.WORKSPACE_QUOTA)
    return Room(CaptureOutcome.STORED, max(over_count, 0), max(over_bin, over_workspace, 0))


def _first_exceeded(over_count: int, over_bin: int) -> CaptureOutcome:
    if over_count > 0:
        return CaptureOutcome.FULL
    if over_bin > 0:
        return CaptureOutcome.BIN_QUOTA
    return CaptureOutcome.WORKSPACE_QUOTA
