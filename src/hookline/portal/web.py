"""What every customer-portal request shares: the session from the page, the customer it acts
for, the CSRF and read-only checks, rendering and the security headers.

Portal routes are plain FastAPI routes under ``/portal/``. Their route class (``PortalRoute``)
sends the portal's own headers: ``frame-ancestors`` from ``HOOKLINE_PORTAL_FRAME_ANCESTORS``
(the vendor's origins; ``'none'`` when unset) instead of the dashboard's ``'none'``,
``Referrer-Policy: no-referrer`` and ``Cache-Control: no-store``. It turns a missing, expired or
revoked session into the "link expired" page, and API errors into the portal's error box.

A GET that is not an htmx request (a reload, a link opened in a new tab) is answered with the
shell page: it reads the session or the link's token from the URL fragment and loads the page
through htmx, with the credential in a header.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute

from hookline.dashboard.render import Renderer
from hookline.domain.portal_access import Customer
from hookline.domain.ratelimit import SlidingWindow
from hookline.errors import ApiError, StoreUnavailable, ValidationFailed
from hookline.portal.sessions import PortalSession, PortalSessionCodec, derive_portal_key
from hookline.runtime.state import AppState, get_state
from hookline.services import portal
from hookline.services.deps import Deps

__all__ = ["Portal", "PortalRoute", "Visit", "visit"]

SESSION_HEADER = "x-portal-session"
CSRF_HEADER = "x-csrf-token"
_KEY_META = "portal_session_key"
#: Failed sign-ins (unknown, expired or revoked links) one client address may make.
SIGN_IN_FAILURES = 20
SIGN_IN_WINDOW_SECONDS = 300.0
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:;"
    " connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none';"
    " frame-ancestors {ancestors}"
)


# Where htmx puts an answer whatever the element that asked expected: the expired page
# replaces the whole portal; an error goes into the page's message area.
_WHOLE_PORTAL = {"HX-Retarget": "#portal", "HX-Reswap": "outerHTML", "HX-Reselect": "#portal"}
_FLASH = {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML", "HX-Reselect": "#error-box"}


class SessionGone(Exception):
    """No live session: the link expired, was revoked, or the page carries none."""


class CsrfFailed(ApiError):
    status = 403
    code = "csrf_failed"


@dataclass
class Portal:
    """Per-application state of the portal, made on the first request."""

    codec: PortalSessionCodec
    limiter: SlidingWindow
    renderer: Renderer

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return self.renderer.page(template, status, **context)


async def portal_state(request: Request) -> Portal:
    found: Portal | None = getattr(request.app.state, "portal", None)
    if found is None:
        state = get_state(request)
        random_key = await state.store.config.meta_once(_KEY_META, secrets.token_urlsafe(32))
        key = derive_portal_key(random_key, state.admin_token_hash, state.settings.secret_key)
        limiter = SlidingWindow(SIGN_IN_FAILURES, SIGN_IN_WINDOW_SECONDS)
        found = Portal(PortalSessionCodec(key), limiter, Renderer("hookline.portal"))
        request.app.state.portal = found
    return found


@dataclass
class Visit:
    """A customer's request: who they are, their session, and how to answer them."""

    request: Request
    state: AppState
    portal: Portal
    session: PortalSession
    customer: Customer

    @property
    def deps(self) -> Deps:
        return self.state.deps

    @property
    def ws(self) -> str:
        return self.customer.workspace_id

    def headers_json(self) -> dict[str, str]:
        """What htmx sends with every request from the page (``hx-headers``)."""
        return {
            "X-Portal-Session": self.portal.codec.encode(self.session),
            "X-CSRF-Token": self.portal.codec.csrf_token(self.session),
        }

    def page(self, template: str, status: int = 200, *, path: str, **context: Any) -> Response:
        """A whole portal page (the ``#portal`` element); ``path``: where a reload returns."""
        return self.fragment(template, status, hx_headers=self.headers_json(), path=path, **context)

    def fragment(self, template: str, status: int = 200, **context: Any) -> Response:
        """A part of a page, swapped into it by htmx."""
        context |= {"visit": self, "customer": self.customer, "theme": self.customer.theme}
        return self.portal.render(template, status, **context)

    async def audit(
        self, action: str, target: str | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        await portal.audit(self.deps, self.customer, action, target, detail)


async def visit(request: Request) -> Visit:
    """Dependency of every portal route behind a session. A state change must also carry the
    CSRF token, and is refused through a read-only link."""
    board = await portal_state(request)
    session = board.codec.decode(request.headers.get(SESSION_HEADER), time.time())
    if session is None:
        raise SessionGone
    state = get_state(request)
    customer = await portal.customer_of(state.deps, session.workspace_id, session.link_id)
    if customer is None:
        raise SessionGone
    if request.method not in ("GET", "HEAD"):
        if not board.codec.csrf_ok(session, request.headers.get(CSRF_HEADER)):
            raise CsrfFailed("the page is stale or did not come from the portal; reload it")
        customer.check_write()
    return Visit(request, state, board, session, customer)


def security_headers(request: Request, response: Response) -> None:
    ancestors = get_state(request).settings.portal_frame_ancestors.strip() or "'none'"
    response.headers["Content-Security-Policy"] = _CSP.format(ancestors=ancestors)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Cache-Control", "no-store")


class PortalRoute(APIRoute):
    """Portal routes: the shell for plain GETs, the expired page for lost sessions, API errors
    as the portal's error box, and the portal's security headers on every answer."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            board = await portal_state(request)
            if request.method == "GET" and not request.headers.get("hx-request"):
                response: Response = board.render("shell.html")
            else:
                try:
                    response = await inner(request)
                except SessionGone:
                    response = board.render("gone.html", 401)
                    response.headers.update(_WHOLE_PORTAL)
                except (ApiError, StoreUnavailable) as exc:
                    response = _error(board, exc)
                except RequestValidationError as exc:  # a crafted query: no form sends one
                    response = _error(board, ValidationFailed(_first_problem(exc)))
            security_headers(request, response)
            return response

        return handler


def _first_problem(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "the request is malformed"
    where = ".".join(str(p) for p in errors[0].get("loc", ()) if p not in ("query", "path"))
    return f"{where}: {errors[0].get('msg', 'invalid')}" if where else "the request is malformed"


def _error(board: Portal, exc: ApiError | StoreUnavailable) -> Response:
    if isinstance(exc, StoreUnavailable):
        status, code = 503, "store_unavailable"
        message = "The service is unavailable right now; retry shortly."
    else:
        status, code, message = exc.status, exc.code, exc.message
    response = board.render("_error.html", status, message=message, code=code)
    response.headers.update(_FLASH)
    return response
