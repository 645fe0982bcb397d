"""Health, the portal link and sign-out, and the 501 of every path this API does not have.

Everything under ``/api/v1`` that the open-source Svix server does not answer (Svix Cloud's
features: transformations, streaming, connectors, statistics, …) answers 501
``not_implemented``, so a client learns at once that the call cannot work here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import Match

from hookline.api.errors import leaves
from hookline.api.svix import shapes
from hookline.api.svix.access import Svc, Who, resolve_or_create
from hookline.api.svix.errors import error, fields_named
from hookline.domain.portal_access import LinkDraft
from hookline.services import portal

router = APIRouter(tags=["svix"])
fallback = APIRouter()


#: How long a link lasts when Svix's ``expiry`` is absent: Svix's own default, 7 days.
SVIX_DEFAULT_EXPIRY = 7 * 86400
#: Svix's capabilities that a link must carry to act (to change endpoints, rotate secrets,
#: test, retry and recover); a link given fewer only looks.
ACTING = frozenset({"ManageEndpoint", "CreateAttempts"})


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
    summary="A link that opens the customer portal of one application",
)
async def app_portal_access(
    request: Request,
    deps: Svc,
    who: Who,
    app_id: Annotated[str, Path(description="The application's id or uid")],
    body: shapes.AppPortalAccessIn | None = None,
) -> shapes.AppPortalAccessOut:
    """The same link as ``POST /v1/workspaces/{ws}/portal-links``: ``url`` opens the portal
    (``/portal/#hlp_…``), ``token`` is the link's credential. ``expiry``: seconds, 60 to 604800
    (Svix's default, 7 days, when absent); ``readOnly``, or ``capabilities`` short of
    ``ManageEndpoint`` and ``CreateAttempts``, make a link that only looks; ``featureFlags``
    show the customer the catalog's event types that carry one of them. An application the
    path names that does not exist is created from ``application``, as Svix does."""
    given = body or shapes.AppPortalAccessIn()
    app = await resolve_or_create(deps, who, app_id, given.application)
    expiry = SVIX_DEFAULT_EXPIRY if given.expiry is None else given.expiry
    flags = given.feature_flags or ()
    draft = LinkDraft(expires_in=expiry, read_only=_read_only(given), feature_flags=flags)
    actor = await portal.actor_of(deps, who)
    with fields_named({"expires_in": "expiry", "feature_flags": "featureFlags"}):
        _, token = await portal.create_link(deps.store, app.id, draft, actor)
    base = portal.portal_base(deps.settings.public_url, str(request.base_url))
    url = portal.portal_url(base, token)
    return shapes.AppPortalAccessOut(url=url, token=token)


def _read_only(body: shapes.AppPortalAccessIn) -> bool:
    """A portal link either acts or only looks: it acts when neither ``readOnly`` nor a list
    of capabilities without every one of ``ACTING`` says otherwise."""
    if body.read_only:
        return True
    return body.capabilities is not None and not ACTING <= set(body.capabilities)


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
