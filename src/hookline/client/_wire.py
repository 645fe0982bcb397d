"""What AsyncClient sends and receives: query strings, paths, idempotency keys, answers."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from hookline.client._errors import HooklineAPIError
from hookline.client._types import NewEvent, Page

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    retry_after: str | None
    body: bytes


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()  # a naive datetime is local time, as in Python


def _query(**values: object) -> dict[str, str]:
    """Query parameters: None is left out, booleans are lower case, datetimes ISO 8601."""
    text = {True: "true", False: "false"}
    return {
        name: _iso(v) if isinstance(v, datetime) else text[v] if isinstance(v, bool) else str(v)
        for name, v in values.items()
        if v is not None
    }


def _api_error(answer: _Answer) -> HooklineAPIError:
    try:
        error = json.loads(answer.body)["error"]
        return HooklineAPIError(answer.status, error["code"], error["message"], error["field"])
    except (ValueError, KeyError, TypeError):  # not our API answering: a proxy, say
        text = answer.body.decode("utf-8", "replace").strip()[:200]
        return HooklineAPIError(answer.status, "http_error", text or f"HTTP {answer.status}")


def _keyed(event: NewEvent) -> dict[str, Any]:
    key = event.get("idempotency_key")
    return {**event, "idempotency_key": str(uuid.uuid4()) if key is None else key}


def _decode(body: bytes) -> Any:
    return json.loads(body) if body else None


def _path(*parts: str) -> str:
    return "".join("/" + quote(part, safe="") for part in parts)


def _page(data: Any, parse: Callable[[Any], T]) -> Page[T]:
    return Page(tuple(parse(item) for item in data["data"]), data["next_cursor"])


async def _every(fetch: Callable[[str | None], Awaitable[Page[T]]]) -> AsyncIterator[T]:
    """Every item of a listing, page after page."""
    page = await fetch(None)
    while True:
        for item in page.data:
            yield item
        if page.next_cursor is None:
            return
        page = await fetch(page.next_cursor)
