"""Health, the portal link and sign-out, and the 501 of every path this API does not have.

Everything under ``/api/v1`` that the open-source Svix server does not answer (Svix Cloud's
features: transformations, streaming, connectors, statistics, …) answers 501
``not_implemented``, so a client learns at once that the call cannot work here.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import Match

from hookline.api.errors import leaves
from hookline.api.svix import shapes
from hookline.api.svix.access import App, Svc, Who
from hookline.api.svix.errors import error
from hookline.errors import ApiError

router = APIRouter(tags=["svix"])
fallback = APIRouter()


class NotImplementedHere(ApiError):
    status = 501
    code = "not_implemented"


@router.get("/health", operation_id="v1.health.get", summary="Health", status_code=204)
async def health(deps: Svc) -> Response:
    await deps.store.ping()
    return Response(status_code=204)


@router.get("/health/ping", include_in_schema=False, status_code=204)
async def ping() -> Response:
    return Response(status_code=204)


@router.post(
    "/auth/app-portal-access/{app_id}",
    operation_id="v1.authentication.app-portal-access",
    summary="A link to the customer portal of one application",
    responses={501: {"description": "The customer portal is not part of this Hookline"}},
)
async def app_portal_access(app: App) -> shapes.AppPortalAccessOut:
    raise NotImplementedHere(
        "the customer portal is not available in this version of Hookline;"
        " the dashboard signs in with a workspace API key"
    )


@router.post(
    "/auth/logout",
    operation_id="logout_api_v1_auth_logout__post",
    summary="Sign out (a token is revoked where it was made: the CLI or the API)",
    status_code=204,
)
async def logout(who: Who) -> Response:
    return Response(status_code=204)


@fallback.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"],
    include_in_schema=False,
)
async def not_implemented(request: Request, path: str) -> Response:
    """405 with ``Allow`` for a path this API has, asked with another method; else 501."""
    allowed = _allowed(request)
    if allowed:
        detail = f"{request.method} is not allowed here; use {', '.join(allowed)}"
        return error(405, "method_not_allowed", detail, Allow=", ".join(allowed))
    return error(
        501,
        "not_implemented",
        f"{request.method} /api/v1/{path} is a Svix Cloud feature that Hookline does not have;"
        " see docs/svix.md for what it answers",
    )


def _allowed(request: Request) -> list[str]:
    """The methods the routes of this API (not this fallback) take at the request's path."""
    found: list[str] = []
    for route in leaves(request.app.router.routes):
        if not isinstance(route, APIRoute) or route.endpoint is not_implemented:
            continue
        for method in sorted(route.methods or ()):
            scope = {**request.scope, "method": method}
            if route.matches(scope)[0] is Match.FULL and method not in found:
                found.append(method)
    return [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m in found]
