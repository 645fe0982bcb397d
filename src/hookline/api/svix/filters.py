"""The query filters Svix's message and attempt listings share, read into a ``LogQuery``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query

from hookline.api.svix.paging import Iterator, Limit, cursor
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


async def _listed(
    limit: Limit = 50,
    iterator: Iterator = None,
    channel: Channel = None,
    tag: Tag = None,
    event_types: EventTypes = None,
    before: Before = None,
    after: After = None,
) -> LogQuery:
    """The page and the message filters every message and attempt listing takes."""
    start, backwards = cursor(iterator)
    return LogQuery(
        limit=limit, cursor=start, backwards=backwards,
        before=None if before is None else before.timestamp(),
        after=None if after is None else after.timestamp(),
        channel=channel, tag=tag, event_types=_names(event_types),
    )  # fmt: skip


async def _attempts(
    listed: Annotated[LogQuery, Depends(_listed)],
    status: Status = None,
    status_code_class: CodeClass = None,
) -> LogQuery:
    """An attempt listing's outcome filters: an attempt is a success or a failure (Hookline
    records an attempt once it is over, so none is pending or sending)."""
    if status_code_class is not None and status_code_class not in (0, 100, 200, 300, 400, 500):
        raise ValidationFailed("status_code_class: one of 0, 100, 200, 300, 400, 500",
                               field="status_code_class")  # fmt: skip
    outcome = None if status is None else status if status in (0, 2) else -1
    return replace(listed, outcome=outcome, code_class=status_code_class)


async def _deliveries(
    listed: Annotated[LogQuery, Depends(_listed)], status: Status = None
) -> LogQuery:
    """A listing of deliveries by their status."""
    return replace(listed, status=None if status is None else _DELIVERY.get(status))


async def _page_only(limit: Limit = 50, iterator: Iterator = None) -> LogQuery:
    start, backwards = cursor(iterator)
    return LogQuery(limit=limit, cursor=start, backwards=backwards)


#: A listing of messages (events).
Messages = Annotated[LogQuery, Depends(_listed)]
#: A listing of attempts, by outcome and status-code class too.
Attempts = Annotated[LogQuery, Depends(_attempts)]
#: A listing of deliveries with their messages, by delivery status too.
Deliveries = Annotated[LogQuery, Depends(_deliveries)]
#: A page and nothing else.
PageOnly = Annotated[LogQuery, Depends(_page_only)]
