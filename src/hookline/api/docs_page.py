"""``/docs``: Swagger UI served from the installed packages, never from a CDN.

FastAPI's own docs page loads Swagger UI from a CDN and starts it with an inline script, which
the dashboard's Content-Security-Policy (``script-src 'self'``) forbids. This page is a static
shell instead: Swagger UI's files come from the ``fastapi-offline`` package (Swagger UI 5,
which renders the OpenAPI 3.1 document FastAPI emits), the start-up script from this package,
and every answer carries the dashboard's security headers (no inline script, no other origin).
"""

from __future__ import annotations

from functools import cache
from html import escape
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hookline.dashboard.web import _SECURITY_HEADERS as SECURITY_HEADERS
from hookline.errors import NotFound

router = APIRouter(include_in_schema=False)

ASSETS = "/docs/assets"
# name -> (package holding it under static/, media type)
_FILES = {
    "swagger-ui-bundle.js": ("fastapi_offline", "text/javascript; charset=utf-8"),
    "swagger-ui.css": ("fastapi_offline", "text/css; charset=utf-8"),
    "docs.js": ("hookline.api", "text/javascript; charset=utf-8"),
}
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Hookline API</title>
<link rel="icon" href="{root}/static/favicon.svg">
<link rel="stylesheet" href="{root}{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{root}{assets}/swagger-ui-bundle.js"></script>
<script src="{root}{assets}/docs.js"></script>
</body>
</html>
"""


@cache
def _read(name: str) -> bytes:
    package, _ = _FILES[name]
    return resources.files(package).joinpath("static", name).read_bytes()


def page_html(root_path: str, openapi_url: str) -> str:
    """The docs page for an app mounted at ``root_path`` (empty at the top)."""
    root = escape(root_path)
    return _PAGE.format(root=root, assets=ASSETS, openapi=root + escape(openapi_url))


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    html = page_html(request.scope.get("root_path", ""), request.app.openapi_url or "")
    return HTMLResponse(html, headers=SECURITY_HEADERS | {"Cache-Control": "no-store"})


@router.get(ASSETS + "/{name}")
async def asset(name: str) -> Response:
    """Only the files listed above. Their URLs carry no version, so caches keep them an hour."""
    if name not in _FILES:
        raise NotFound(f"no docs file {name!r}")
    headers = SECURITY_HEADERS | {"Cache-Control": "public, max-age=3600"}
    return Response(_read(name), media_type=_FILES[name][1], headers=headers)
