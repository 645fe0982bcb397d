"""The inspector's quota decisions (pure): what fits, what is refused and why, and what a bin
that drops its oldest captures must drop."""

from __future__ import annotations

from hookline.domain.bin_quotas import (
    DROP_OLDEST,
    REFUSE,
    BinQuotas,
    CaptureOutcome,
    Held,
    Room,
    capture_size,
    room_for,
)

QUOTAS = BinQuotas(bin_bytes=1_000, workspace_bytes=3_000)
STORED, FULL = CaptureOutcome.STORED, CaptureOutcome.FULL
BIN_QUOTA, WORKSPACE_QUOTA = CaptureOutcome.BIN_QUOTA, CaptureOutcome.WORKSPACE_QUOTA


def judge(size: int, requests: int, bin_bytes: int, workspace_bytes: int, when: str) -> Room:
    held = Held(requests, bin_bytes, workspace_bytes)
    return room_for(size, held, max_requests=10, when_full=when, quotas=QUOTAS)


def test_what_fits_is_stored_whatever_the_choice() -> None:
    for when in (REFUSE, DROP_OLDEST):
        assert judge(100, 9, 900, 2_900, when) == Room(STORED)  # every limit reached exactly
        assert judge(0, 0, 0, 0, when) == Room(STORED)


def test_a_refusing_bin_names_the_first_limit_exceeded() -> None:
    assert judge(100, 10, 0, 0, REFUSE) == Room(FULL)
    assert judge(101, 9, 900, 900, REFUSE) == Room(BIN_QUOTA)
    assert judge(100, 0, 0, 2_901, REFUSE) == Room(WORKSPACE_QUOTA)
    assert judge(1_001, 0, 0, 0, REFUSE) == Room(BIN_QUOTA)


def test_a_rolling_bin_drops_enough_of_its_oldest() -> None:
    assert judge(100, 10, 500, 500, DROP_OLDEST) == Room(STORED, 1, 0)
    assert judge(300, 3, 900, 900, DROP_OLDEST) == Room(STORED, 0, 200)
    assert judge(300, 3, 900, 2_950, DROP_OLDEST) == Room(STORED, 0, 250)  # for the workspace
    assert judge(100, 10, 1_000, 3_000, DROP_OLDEST) == Room(STORED, 1, 100)


def test_a_rolling_bin_is_refused_what_dropping_cannot_make_room_for() -> None:
    assert judge(1_001, 0, 0, 0, DROP_OLDEST) == Room(BIN_QUOTA)  # fits in no bin
    assert judge(300, 1, 100, 3_000, DROP_OLDEST) == Room(WORKSPACE_QUOTA)  # others' bytes
    assert judge(300, 3, 300, 3_000, DROP_OLDEST) == Room(STORED, 0, 300)  # all of its own


def test_a_capture_counts_its_method_path_query_headers_and_body() -> None:
    size = capture_size("POST", "/in/bin_1/x", "a=1", [("host", "h"), ("x-é", "ü")], b"\0" * 5)
    assert size == 4 + 11 + 3 + (4 + 1) + (3 + 1) + 5
