"""Jinja2 rendering with HTML autoescaping, and the filters the templates use (pure)."""

from __future__ import annotations

import time
from typing import Any

import jinja2
import orjson
from fastapi.responses import HTMLResponse

from hookline import __version__
from hookline.dashboard.destination_view import destination
from hookline.domain.timefmt import iso


def pretty(value: Any) -> str:
    """JSON indented for reading; a string holding JSON is parsed first, other text is kept."""
    if isinstance(value, str | bytes):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


def when(ts: float | str | None) -> str:
    """A timestamp (or an API's ISO 8601 string) as UTC to the second."""
    text = ts if isinstance(ts, str) else iso(ts)
    return "—" if text is None else text[:19].replace("T", " ") + " UTC"


def ago(ts: float | None, now: float | None = None) -> str:
    if ts is None:
        return "never"
    seconds = max(0, int((now if now is not None else time.time()) - ts))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def millis(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} ms"


class Renderer:
    """The template environment of one application."""

    def __init__(self, *packages: str) -> None:
        """Templates of ``packages`` in turn (default: the dashboard's), then the dashboard's:
        the customer portal draws its own pages with the dashboard's form macros."""
        loaders = [jinja2.PackageLoader(p, "templates") for p in (*packages, "hookline.dashboard")]
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(pretty=pretty, when=when, ago=ago, percent=percent, ms=millis)
        self.env.filters.update(destination=destination)
        self.env.globals.update(version=__version__)

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.render(template, **context), status_code=status)
