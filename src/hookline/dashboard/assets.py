"""The vendored static files (htmx, the dashboard's and the customer portal's stylesheets and
the portal's page script), served from the packages: no CDN."""

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
    "portal.css": "text/css; charset=utf-8",
    "portal.js": "text/javascript; charset=utf-8",
}
_PORTAL = frozenset({"portal.css", "portal.js"})


@cache
def _read(name: str) -> bytes:
    package = "hookline.portal" if name in _PORTAL else "hookline.dashboard"
    return resources.files(package).joinpath("static", name).read_bytes()


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
