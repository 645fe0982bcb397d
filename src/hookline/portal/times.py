"""Times as the portal's forms show and read them: ``datetime-local`` values, read as UTC (the
pages say so), to the minute or the second."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["local", "utc"]

_MINUTES = "%Y-%m-%dT%H:%M"
_SECONDS = "%Y-%m-%dT%H:%M:%S"


def local(ts: float) -> str:
    """A timestamp as a ``datetime-local`` value in UTC: to the minute, or to the second when
    it has seconds (so a range read back from a page's links is the range that was asked)."""
    shown = datetime.fromtimestamp(ts, UTC)
    return shown.strftime(_SECONDS if shown.second else _MINUTES)


def utc(value: str, name: str, errors: dict[str, str]) -> float | None:
    """A ``datetime-local`` value as a UTC timestamp; None (and the problem in ``errors``) when
    it is blank or not a date and time."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        errors[name] = "a date and time, as YYYY-MM-DDTHH:MM (UTC)"
        return None
    if parsed.tzinfo is not None:
        errors[name] = "a date and time without a time zone: it is read as UTC"
        return None
    return parsed.replace(tzinfo=UTC).timestamp()
