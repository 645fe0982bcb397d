"""PostgreSQL's partitions kept ahead by every process, worker or not.

Each process makes the partitions of the coming days when it starts, and an API process with
no worker (whose maintenance would do it) again every hour, so that an event published at
midnight always has a partition to go to. Making partitions that exist already costs one
catalog query; see :mod:`hookline.store.partitions`.
"""

from __future__ import annotations

import asyncio
import logging
import time

from hookline.errors import StoreError
from hookline.settings import Settings
from hookline.store import Store

log = logging.getLogger(__name__)

#: Seconds between two checks of an API process (partitions are made days ahead).
KEEP_INTERVAL = 3600.0


async def make_ahead(store: Store, settings: Settings) -> None:
    """Make the partitions still missing up to the days ahead; a failure is logged (the next
    check, or a worker's maintenance, tries again): the database's in a line, anything else
    with its traceback, as the bug it is."""
    if store.partitions is None:
        return
    try:
        await store.partitions.ensure(time.time(), settings.partitions)
    except (StoreError, OSError) as exc:  # unavailable or busy: tried again, the process goes on
        log.warning("could not make the partitions ahead: %s", exc)
    except Exception:
        log.exception("could not make the partitions ahead")


async def keep_ahead(store: Store, settings: Settings, stop: asyncio.Event) -> None:
    """``make_ahead`` every ``KEEP_INTERVAL`` seconds until ``stop``."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), KEEP_INTERVAL)
        except TimeoutError:
            await make_ahead(store, settings)
