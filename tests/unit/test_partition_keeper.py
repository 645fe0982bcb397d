"""``partition_keeper.make_ahead``: a failure never stops the process, and what it logs tells
a database that was unavailable (one line) from a bug (with its traceback)."""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest

from hookline.errors import StoreUnavailable
from hookline.runtime import partition_keeper
from hookline.settings import Settings
from hookline.store import Store


class FailingPartitions:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    async def ensure(self, now: float, interval: Any) -> None:
        self.calls += 1
        raise self.error


class StoreWith:
    def __init__(self, partitions: FailingPartitions) -> None:
        self.partitions = partitions


@pytest.mark.parametrize(
    ("error", "traceback"),
    [
        (StoreUnavailable("PostgreSQL is unavailable: connection refused"), False),
        (OSError("connection reset"), False),
        (RuntimeError("a bug"), True),
    ],
)
async def test_a_failure_is_logged_and_the_process_goes_on(
    caplog: pytest.LogCaptureFixture, error: Exception, traceback: bool
) -> None:
    partitions = FailingPartitions(error)
    store = cast(Store, StoreWith(partitions))
    with caplog.at_level(logging.WARNING, logger=partition_keeper.__name__):
        await partition_keeper.make_ahead(store, Settings(database_url="postgresql://x/y"))
    assert partitions.calls == 1
    (record,) = caplog.records
    assert "could not make the partitions ahead" in record.getMessage()
    assert (record.exc_info is not None) is traceback
    assert record.levelno == (logging.ERROR if traceback else logging.WARNING)
