"""The vendored static files (htmx, the stylesheet), served from the package: no CDN."""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

from hookline.errors import NotFound

router = APIRouter(include_in_schema=False)
_TYPES = {
    "htmx.min.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


@cache
def _read(name: str) -> bytes:
    return resources.files("hookline.dashboard").joinpath("static", name).read_bytes()


@router.get("/static/{name}")
async def static(name: str) -> Response:
    """Only the files listed above; the URL carries the version, so they may be cached."""
    if name not in _TYPES:
        raise NotFound(f"no static file {name!r}")
    return Response(
        _read(name),
        media_type=_TYPES[name],
        headers={
            "Cache-Control": "public, max-age=86400",
            "X-Content-Type-Options": "nosniff",
        },
    )
