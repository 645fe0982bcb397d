"""The ASGI application: routers, error handlers, body limit, health."""

from __future__ import annotations

from fastapi import FastAPI

from hookline import __version__, dashboard
from hookline.api import (
    bins,
    catalog,
    deliveries,
    entities,
    errors,
    events,
    flows_io,
    health,
    presets,
    preview,
    webhooks,
    workspaces,
)
from hookline.api import metrics as metrics_api
from hookline.api.limits import BodySizeLimit
from hookline.api.state import AppState

DESCRIPTION = """Hookline delivers your application's events to every subscribed endpoint:
signed, retried, rate-limited and recorded. Authenticate with `Authorization: Bearer <token>`:
the admin token, or a workspace API key (which sees only its own workspace)."""


def create_app(state: AppState) -> FastAPI:
    app = FastAPI(
        title="Hookline",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    app.state.hookline = state
    errors.install(app)
    for module in (
        health,
        metrics_api,
        workspaces,
        catalog,
        webhooks,
        events,
        deliveries,
        bins,
        presets,
        entities,
        preview,
        flows_io,
    ):
        app.include_router(module.router, responses=errors.RESPONSES)
    app.include_router(dashboard.router)
    app.add_middleware(BodySizeLimit, max_bytes=state.settings.max_body_bytes)
    return app
