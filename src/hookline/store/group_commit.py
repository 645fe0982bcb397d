"""Group commit for publishes: concurrent publishes in one process share transactions.

A publish costs one write transaction, and on SQLite (``synchronous = FULL``) or PostgreSQL
that means waiting for a disk flush; the transactions of one process also run one at a time on
SQLite. ``GroupCommit`` lets publishes that arrive while a transaction is in flight wait for it
to end and then go in the next transaction together, one ``store.publishing.publish_many`` for
all of them, so N concurrent publishes cost about one flush instead of N.

There is no timer: the first publish to find nothing in flight starts a transaction at once (a
*leader* task commits the queue); publishes arriving during it queue up (*followers*) and the
leader commits them all next, at most ``max_events`` per transaction, until the queue is empty.
An unloaded process therefore adds no latency, and a loaded one gets larger groups.

Each publish returns only once its own event is committed, and gets the outcome it would have
had alone:

- The database is unavailable (``StoreUnavailable``): every publish of the group fails with it.
- Anything else failing a group of several (an event id that exists already, a value the
  database refuses) may be one event's fault: the group's events are then committed one by one,
  each in its own transaction, and only the failing ones fail.
- An idempotency key used twice in a group: the later publish is a repeat of the first.
- A publish whose caller stopped waiting before its group was taken is not committed at all.
- A publish routed at a workspace configuration that changed since (``PublishItem``'s
  ``config_version``) is not committed: it gets None, to route again.

The leader is a task of its own, so that a request cancelled mid-flight never cancels the
transaction of the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from hookline.errors import StoreUnavailable
from hookline.store.base import PublishItem, PublishResult, Store

log = logging.getLogger(__name__)

DEFAULT_MAX_EVENTS = 500


@dataclass(frozen=True, slots=True)
class _Waiting:
    item: PublishItem
    done: asyncio.Future[PublishResult | None]


class GroupCommit:
    """Publishes of one process, committed in shared transactions (see the module's text)."""

    def __init__(self, store: Store, *, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        if max_events < 1:
            raise ValueError("max_events must be positive")
        self._store = store
        self._max = max_events
        self._queue: deque[_Waiting] = deque()
        self._leader: asyncio.Task[None] | None = None
        #: Transactions committed and events in them, for tests and metrics.
        self.groups = 0
        self.events = 0

    async def publish(self, item: PublishItem) -> PublishResult | None:
        """Publish one event; returns once it is committed (or raises what its commit raised),
        or None if its ``config_version`` is no longer current (nothing committed)."""
        waiting = _Waiting(item, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        if self._leader is None:
            self._leader = asyncio.create_task(self._lead(), name="hookline-group-commit")
        return await waiting.done

    async def _lead(self) -> None:
        group: list[_Waiting] = []
        try:
            while self._queue:
                group = self._take()
                if group:
                    await self._commit(group)
        except BaseException as exc:  # cancelled (shutting down) or a bug: nobody hangs
            for waiting in [*group, *self._queue]:
                if not waiting.done.done():
                    waiting.done.set_exception(StoreUnavailable(f"publish abandoned: {exc!r}"))
            self._queue.clear()
            raise
        finally:
            self._leader = None

    def _take(self) -> list[_Waiting]:
        """The next group: up to ``max_events`` queued publishes whose callers still wait."""
        group: list[_Waiting] = []
        while self._queue and len(group) < self._max:
            waiting = self._queue.popleft()
            if not waiting.done.done():  # its caller was cancelled: it is not published
                group.append(waiting)
        return group

    async def _commit(self, group: Sequence[_Waiting]) -> None:
        try:
            results = await self._store.publishing.publish_current([w.item for w in group])
        except StoreUnavailable as exc:
            for waiting in group:
                _fail(waiting, exc)
            return
        except Exception as exc:
            if len(group) == 1:
                _fail(group[0], exc)
                return
            log.info(
                "a group of %d publishes failed (%r): committing them one by one", len(group), exc
            )
            await self._one_by_one(group)
            return
        self.groups += 1
        self.events += len(group)
        for waiting, result in zip(group, results, strict=True):
            if not waiting.done.done():
                waiting.done.set_result(result)

    async def _one_by_one(self, group: Sequence[_Waiting]) -> None:
        for i, waiting in enumerate(group):
            if waiting.done.done():  # its caller stopped waiting meanwhile
                continue
            try:
                (result,) = await self._store.publishing.publish_current([waiting.item])
            except StoreUnavailable as exc:
                for rest in group[i:]:
                    _fail(rest, exc)
                return
            except Exception as exc:
                _fail(waiting, exc)
                continue
            self.groups += 1
            self.events += 1
            if not waiting.done.done():
                waiting.done.set_result(result)


def _fail(waiting: _Waiting, exc: BaseException) -> None:
    if not waiting.done.done():
        waiting.done.set_exception(exc)
