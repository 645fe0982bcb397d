"""The query filters Svix's message and attempt listings share, read into a ``LogQuery``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated

from fastapi import Query

from hookline.api.svix.paging import capped, cursor
from hookline.domain.models import DeliveryStatus
from hookline.errors import ValidationFailed
from hookline.store import LogQuery

Channel = Annotated[str | None, Query(max_length=128, description="Only messages on this channel")]
Tag = Annotated[str | None, Query(max_length=128, description="Only messages with this tag")]
EventTypes = Annotated[
    list[str] | None,
    Query(description="Only these event types (repeated, or separated by commas)"),
]
Before = Annotated[datetime | None, Query(description="Only those before this time")]
After = Annotated[datetime | None, Query(description="Only those after this time")]
Status = Annotated[
    int | None, Query(ge=0, le=4, description="0 success, 1 pending, 2 failed, 3 sending")
]
CodeClass = Annotated[
    int | None,
    Query(description="0 (no response), 100, 200, 300, 400 or 500: the status code's class"),
]
WithContent = Annotated[bool, Query(description="Include each message's payload")]

#: Svix's message statuses as Hookline's delivery states (sending is a pending delivery that a
#: worker is attempting; canceled has no counterpart).
_DELIVERY = {0: DeliveryStatus.SUCCEEDED, 1: DeliveryStatus.PENDING, 2: DeliveryStatus.FAILED,
             3: DeliveryStatus.PENDING}  # fmt: skip


def _names(values: list[str] | None) -> tuple[str, ...]:
    return tuple(n for v in values or () for n in v.split(",") if n)


def log_query(
    limit: int,
    iterator: str | None,
    *,
    channel: str | None = None,
    tag: str | None = None,
    event_types: list[str] | None = None,
    before: datetime | None = None,
    after: datetime | None = None,
    webhook_id: str | None = None,
) -> LogQuery:
    start, backwards = cursor(iterator)
    return LogQuery(
        limit=capped(limit), cursor=start, backwards=backwards,
        before=None if before is None else before.timestamp(),
        after=None if after is None else after.timestamp(),
        channel=channel, tag=tag, event_types=_names(event_types), webhook_id=webhook_id,
    )  # fmt: skip


def with_attempt_status(query: LogQuery, status: int | None, code_class: int | None) -> LogQuery:
    """An attempt listing's outcome filters: an attempt is a success or a failure (Hookline
    records an attempt once it is over, so none is pending or sending)."""
    if code_class is not None and code_class not in (0, 100, 200, 300, 400, 500):
        raise ValidationFailed("status_code_class: one of 0, 100, 200, 300, 400, 500",
                               field="status_code_class")  # fmt: skip
    outcome = None if status is None else status if status in (0, 2) else -1
    return _replace(query, outcome=outcome, code_class=code_class)


def with_delivery_status(query: LogQuery, status: int | None) -> LogQuery:
    return _replace(query, status=None if status is None else _DELIVERY.get(status))


def _replace(query: LogQuery, **changes: object) -> LogQuery:
    return replace(query, **changes)  # type: ignore[arg-type]
