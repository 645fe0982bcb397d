"""What a publish hands the store: an event, its deliveries and the windows it joins (pure data).

Kept apart from ``base`` (the ``Store`` interface) and ``windows`` (the SQL that queues them),
which both need these records.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from hookline.domain.models import Delivery, Event
from hookline.domain.records import record


@record
class WindowSpec:
    """A webhook that collects this event into a window of ``seconds``."""

    webhook_id: str
    seconds: int
    max_events: int | None = None


@record
class PublishItem:
    """One event to publish with what it queues.

    ``deliveries`` are sent as soon as they are due; for each of ``windows`` the event joins
    that webhook's open aggregation window (or opens one). ``fifo`` names the webhooks, among
    the deliveries', that deliver in FIFO order (``ordering: "fifo"``), as the routing snapshot
    the deliveries were made from saw them; None makes the store read the webhooks' configs.
    ``held`` names those of the deliveries' and windows' webhooks the routing snapshot saw
    disabled: the store checks them again in its transaction and holds what they queue until
    they are enabled. None makes the store check every one of them.
    ``config_version``: the version of the workspace's configuration that the deliveries were
    routed at, when routing used what it had cached rather than reading the version first; the
    store compares it with the workspace's in its transaction and, if it moved (or the
    workspace is gone), stores nothing of the item (``publish_current`` answers None: route
    again).
    """

    event: Event
    deliveries: Sequence[Delivery] = ()
    windows: Sequence[WindowSpec] = ()
    fifo: Collection[str] | None = None
    held: Collection[str] | None = None
    config_version: int | None = None
