"""What every dashboard page shares: the per-app state, who is visiting, CSRF, rendering.

Pages are plain FastAPI routes whose route class turns the dashboard's control-flow exceptions
(sign in first, pick a workspace) into redirects and API errors into an HTML error page, and
adds the security headers to every answer.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from hookline.dashboard.forms import Form, read_form
from hookline.dashboard.render import Renderer
from hookline.dashboard.session import (
    Session,
    SessionCodec,
    anonymous,
    cookie_name,
    derive_key,
    secure_context,
)
from hookline.domain.models import Workspace
from hookline.domain.ratelimit import SlidingWindow
from hookline.errors import ApiError, StoreUnavailable
from hookline.runtime.state import AppState, get_state
from hookline.services import operators, workspaces

log = logging.getLogger(__name__)
_KEY_META = "dashboard_session_key"
SIGN_IN_ATTEMPTS = 10
SIGN_IN_WINDOW_SECONDS = 300.0
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SignInRequired(Exception):
    """The visitor has no valid session: send them to the sign-in page."""


class ChooseWorkspace(Exception):
    """An admin signed in but has not picked a workspace yet."""


class CsrfRejected(ApiError):
    status = 403
    code = "csrf_failed"


@dataclass
class Dashboard:
    """Per-application state of the dashboard, made on the first request."""

    codec: SessionCodec
    limiter: SlidingWindow
    renderer: Renderer
    warned_insecure: bool = False

    def warn_insecure_cookie(self, host: str | None) -> None:
        """Say once per process that sessions travel in a cookie without ``Secure``."""
        if not self.warned_insecure:
            self.warned_insecure = True
            log.warning(
                "dashboard served over plain HTTP to %s: its session cookie cannot be Secure;"
                " serve it over HTTPS (or on localhost) in production",
                host,
            )


async def dashboard(request: Request) -> Dashboard:
    found: Dashboard | None = getattr(request.app.state, "dashboard", None)
    if found is None:
        state = get_state(request)
        random_key = await state.store.config.meta_once(_KEY_META, secrets.token_urlsafe(32))
        key = derive_key(random_key, state.admin_token_hash, state.settings.secret_key)
        limiter = SlidingWindow(SIGN_IN_ATTEMPTS, SIGN_IN_WINDOW_SECONDS)
        found = Dashboard(SessionCodec(key), limiter, Renderer())
        request.app.state.dashboard = found
    return found


@dataclass
class Visitor:
    """A signed-in visitor acting in one workspace, and what a page needs to answer them."""

    request: Request
    state: AppState
    board: Dashboard
    session: Session
    workspace: Workspace

    @property
    def ws(self) -> str:
        return self.workspace.id

    @property
    def csrf(self) -> str:
        return self.board.codec.csrf_token(self.session)

    def page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        context |= {"visitor": self, "csrf": self.csrf, "workspace": self.workspace}
        return self.board.renderer.page(template, status, **context)


async def current_session(request: Request, board: Dashboard) -> Session | None:
    """The cookie's session, if it is valid, not signed out and (for an API key or an operator
    key) the key is not revoked. Sign-outs and keys are looked up in the database on every
    request (a lookup by primary key, then by a unique hash), so a sign-out or a revocation
    ends the session at its next request in every process."""
    cookie = request.cookies.get(cookie_name(is_secure(request)))
    session = board.codec.decode(cookie, time.time())
    if session is None or not session.signed_in:
        return session
    state = get_state(request)
    if await state.store.config.session_revoked(session.sid):
        return None
    if session.key_hash is None:  # the admin token
        return session
    if session.admin:  # an operator key
        live = await operators.key_still_valid(state.deps, session.key_hash)
    else:
        live = await workspaces.key_still_valid(state.deps, session.key_hash, session.workspace_id)
    return session if live else None


async def visitor(request: Request) -> Visitor:
    """Dependency of every page behind sign-in; POSTs must also carry the CSRF token."""
    board = await dashboard(request)
    session = await current_session(request, board)
    if session is None or not session.signed_in:
        raise SignInRequired
    if request.method == "POST":
        await check_csrf(request, board, session)
    if session.workspace_id is None:
        raise ChooseWorkspace
    state = get_state(request)
    found = await workspaces.find_workspace(state.deps, session.workspace_id)
    if found is None:
        raise ChooseWorkspace
    return Visitor(request, state, board, session, found)


async def check_csrf(request: Request, board: Dashboard, session: Session) -> Form:
    form = await read_form(request)
    sent = request.headers.get("x-csrf-token") or form.get("csrf_token")
    if not board.codec.csrf_ok(session, sent):
        raise CsrfRejected("the form is stale or did not come from this dashboard; reload it")
    return form


def session_or_new(session: Session | None) -> Session:
    return session if session is not None else anonymous(time.time())


def set_session(request: Request, response: Response, board: Dashboard, session: Session) -> None:
    secure = is_secure(request)
    if not secure:
        board.warn_insecure_cookie(request.url.hostname)
    response.set_cookie(
        cookie_name(secure),
        board.codec.encode(session),
        max_age=int(board.codec.max_age),
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def clear_session(request: Request, response: Response) -> None:
    """Delete the session cookie, with the attributes it was set with (a ``__Host-`` cookie is
    only replaced by one that is ``Secure`` with ``Path=/``)."""
    secure = is_secure(request)
    response.delete_cookie(
        cookie_name(secure), path="/", secure=secure, httponly=True, samesite="lax"
    )


def is_secure(request: Request) -> bool:
    """Whether the visitor's browser keeps a ``Secure`` cookie from this request's origin.

    The scheme is the connection's own, or ``X-Forwarded-Proto`` when the request came through
    a proxy in ``HOOKLINE_TRUSTED_PROXIES`` (uvicorn applies it); anybody else's header is
    ignored."""
    return secure_context(request.url.scheme, request.url.hostname)


def redirect(request: Request, url: str) -> Response:
    """A redirect that htmx follows as a full page load."""
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


class PageRoute(APIRoute):
    """Dashboard routes: control flow to redirects, API errors to HTML, security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await inner(request)
            except SignInRequired:
                response = redirect(request, "/login")
            except ChooseWorkspace:
                response = redirect(request, "/workspace")
            except (ApiError, StoreUnavailable) as exc:
                response = await _error_page(request, exc)
            for name, value in _SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return handler


async def _error_page(request: Request, exc: ApiError | StoreUnavailable) -> Response:
    board = await dashboard(request)
    if isinstance(exc, StoreUnavailable):
        status, message = 503, "The database is unavailable; retry shortly."
    else:
        status, message = exc.status, exc.message
    if request.headers.get("hx-request"):
        return board.renderer.page("_error.html", status, message=message, inline=True)
    return board.renderer.page("error.html", status, message=message, code=status)
