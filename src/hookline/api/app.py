"""The ASGI application: routers, error handlers, body limit, health."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI

from hookline import __version__, dashboard, portal
from hookline.api import (
    bins,
    capture,
    catalog,
    deliveries,
    docs_page,
    entities,
    errors,
    events,
    flows_io,
    health,
    operator_keys,
    portal_links,
    presets,
    preview,
    shared_catalog,
    webhooks,
    workspaces,
)
from hookline.api import metrics as metrics_api
from hookline.api.capture_isolation import CaptureIsolation
from hookline.api.direct_route import DirectRoute
from hookline.api.limits import BATCH_PUBLISH, BodySizeLimit, NulRefusal
from hookline.api.state import AppState
from hookline.api.svix.app import PREFIX as SVIX_PREFIX
from hookline.api.svix.app import create_svix_app, merge_openapi

DESCRIPTION = """Hookline delivers your application's events to every subscribed endpoint:
signed, retried, rate-limited and recorded. Authenticate with `Authorization: Bearer <token>`:
the admin token, an operator key (the admin's rights), or a workspace API key (which sees only
its own workspace)."""


#: The sections of the API documentation, in order.
TAGS = (
    "health",
    "workspaces",
    "operator keys",
    "catalog",
    "webhooks",
    "events",
    "deliveries",
    "inspector",
    "entities",
)


def _no_native_telemetry() -> dict[str, Any]:
    """FastAPI's own OpenTelemetry hooks off, where this FastAPI has them (0.16x): with no
    provider configured they only look one up in the environment on every request, a visible
    share of a publish. OpenTelemetry's FastAPI instrumentation, if installed, is unaffected."""
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def create_app(state: AppState) -> FastAPI:
    app = FastAPI(
        title="Hookline",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,  # hookline.api.docs_page serves /docs from the package, under a CSP
        openapi_url="/openapi.json",
        redoc_url=None,
        # The documentation's order; the routers' order below is the order requests try them.
        openapi_tags=[{"name": tag} for tag in TAGS],
        **_no_native_telemetry(),
    )
    app.state.hookline = state
    errors.install(app)
    # First, as routes are matched in order: each router tried before costs a publish tens of
    # microseconds (FastAPI matches every route of an included router in turn). The single
    # publish mostly skips the router (DirectRoute, below); the batch publish does not.
    app.include_router(events.publishing_router, responses=errors.RESPONSES)
    for module in (
        events,
        health,
        workspaces,
        operator_keys,
        catalog,
        shared_catalog,
        webhooks,
        deliveries,
        capture,
        bins,
        presets,
        entities,
        preview,
        flows_io,
        portal_links,
    ):
        app.include_router(module.router, responses=errors.RESPONSES)
    if state.settings.metrics_port is None:  # else only the metrics port serves /metrics
        app.include_router(metrics_api.router, responses=errors.RESPONSES)
    app.include_router(docs_page.router)
    svix = create_svix_app(state)
    app.mount(SVIX_PREFIX, svix)
    app.include_router(dashboard.router)
    app.include_router(portal.router)
    settings = state.settings
    app.add_middleware(NulRefusal)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger=[(BATCH_PUBLISH, settings.max_batch_body_bytes)],
    )
    app.add_middleware(CaptureIsolation)  # the last added runs first: it sees every answer
    # Runs before the others, which cannot apply to what it answers (publishes, no capture).
    app.add_middleware(
        DirectRoute,
        route=events.single_publish_route(),
        handlers=app.exception_handlers,
        max_bytes=settings.max_body_bytes,
    )
    _declare_bearer(app, svix)
    return app


#: Operations that answer without a token.
_PUBLIC = frozenset({"/healthz", "/readyz", "/api/v1/health"})


def _declare_bearer(app: FastAPI, svix: FastAPI) -> None:
    """Declare the bearer token in the OpenAPI document, so that clients generated from it
    send one and the API docs' Authorize button takes it (the routes check it themselves)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = merge_openapi(build(), svix)
            schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes["bearer"] = {
                "type": "http",
                "scheme": "bearer",
                "description": "The admin token, an operator key, or a workspace API key.",
            }
            schema["security"] = [{"bearer": []}]
            for path in _PUBLIC & schema.get("paths", {}).keys():
                for operation in schema["paths"][path].values():
                    operation["security"] = []
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]
