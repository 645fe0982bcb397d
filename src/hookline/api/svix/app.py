"""The Svix-compatible API: Svix's operations under ``/api/v1``, a second front door onto the
same services as Hookline's own API (an application is a workspace, an endpoint a webhook, a
message an event). ``docs/svix.md`` is its guide.

It is its own ASGI application mounted at ``/api/v1``, with Svix's error shapes and idempotent
POSTs; its operations appear in Hookline's OpenAPI document under the tag ``svix``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from hookline import __version__
from hookline.api.svix import (
    applications,
    attempts,
    endpoint_tools,
    endpoints,
    errors,
    event_types,
    messages,
    misc,
)
from hookline.api.svix.errors import PREFIX
from hookline.api.svix.idempotency import IdempotentPosts
from hookline.runtime.state import AppState

__all__ = ["PREFIX", "create_svix_app", "merge_openapi"]


def create_svix_app(state: AppState) -> FastAPI:
    app = FastAPI(
        title="Hookline: Svix-compatible API",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.hookline = state
    errors.install(app)
    for module in (applications, endpoint_tools, endpoints, messages, attempts, event_types, misc):
        app.include_router(module.router, responses=errors.RESPONSES)
    app.include_router(misc.fallback)
    app.add_middleware(IdempotentPosts, store=lambda: state.store)
    return app


def merge_openapi(document: dict[str, Any], svix: FastAPI) -> dict[str, Any]:
    """Hookline's OpenAPI document with the Svix API's operations under ``PREFIX``."""
    own = get_openapi(title=svix.title, version=svix.version, routes=svix.routes)
    paths = document.setdefault("paths", {})
    for path, operations in own.get("paths", {}).items():
        paths[PREFIX + path] = operations
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in own.get("components", {}).get("schemas", {}).items():
        schemas.setdefault(name, schema)
    schemas.setdefault("HttpErrorOut", errors.HTTP_ERROR_SCHEMA)
    tags = document.setdefault("tags", [])
    tags.append({"name": "svix", "description": "The Svix-compatible API (docs/svix.md)"})
    return document
