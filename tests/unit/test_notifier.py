"""The coalescing notifier of the PostgreSQL store, with a fake send (no database)."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from hookline.store.postgres import Notifier
from tests.polling import until


class FakeSend:
    """Counts sends; each one waits for ``gate`` (open unless closed by the test)."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail: Exception | None = None

    async def __call__(self) -> None:
        self.calls += 1
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail


async def settle(rounds: int = 5) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0.02)


async def test_the_first_mark_is_sent_at_once_and_a_burst_becomes_one_more() -> None:
    send = FakeSend()
    notifier = Notifier(send, interval=0.3)
    notifier.mark()
    await asyncio.sleep(0)
    assert send.calls == 1  # no waiting for a quiet spell's first wake-up
    for _ in range(100):  # during the interval after it: merged
        notifier.mark()
    await asyncio.sleep(0.01)
    assert send.calls == 1
    await until(lambda: send.calls == 2)
    await asyncio.sleep(0.4)
    assert send.calls == 2  # nothing marked since: nothing sent
    assert notifier.sent == 2
    await notifier.close()


async def test_marks_during_a_slow_send_are_merged_into_one_more() -> None:
    send = FakeSend()
    send.gate.clear()
    notifier = Notifier(send, interval=0.001)
    notifier.mark()
    await asyncio.sleep(0.01)
    for _ in range(50):
        notifier.mark()
    await asyncio.sleep(0.05)
    assert send.calls == 1  # still in the first send
    send.gate.set()
    await until(lambda: send.calls == 2)
    await settle()
    assert send.calls == 2
    await notifier.close()


async def test_close_sends_what_is_pending_then_stops() -> None:
    send = FakeSend()
    notifier = Notifier(send, interval=10)
    notifier.mark()
    await asyncio.sleep(0.01)
    notifier.mark()  # waits for the 10 s interval
    started = time.monotonic()
    await notifier.close()
    assert time.monotonic() - started < 1
    assert send.calls == 2, "the wake-up marked before closing was dropped"
    notifier.mark()  # after close: ignored, no new task
    await settle(2)
    assert send.calls == 2


async def test_close_gives_up_on_a_send_that_hangs() -> None:
    send = FakeSend()
    send.gate.clear()  # never answers, like a blackholed database
    notifier = Notifier(send, interval=0.001)
    notifier.mark()
    await asyncio.sleep(0.01)
    started = time.monotonic()
    await notifier.close(timeout=0.2)
    assert time.monotonic() - started < 1


async def test_close_without_any_mark_is_immediate() -> None:
    notifier = Notifier(FakeSend(), interval=0.001)
    await asyncio.wait_for(notifier.close(), 1)


async def test_failures_are_logged_rate_limited_and_never_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    send = FakeSend()
    send.fail = OSError("connection refused")
    notifier = Notifier(send, interval=0.001)
    with caplog.at_level(logging.WARNING, logger="hookline.store.postgres"):
        for _ in range(20):
            notifier.mark()
            await asyncio.sleep(0.005)
        await settle()
    assert send.calls >= 5  # it keeps trying: the task survived every failure
    warnings = [r for r in caplog.records if "cannot NOTIFY" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "connection refused" in warnings[0].getMessage()
    send.fail = None
    notifier.mark()
    await until(lambda: notifier.sent >= 1)
    await notifier.close()
