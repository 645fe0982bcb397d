"""Signing in and out, and choosing the workspace (the admin may act in any of them)."""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError

from hookline.dashboard import session as sessions
from hookline.dashboard.forms import read_form
from hookline.dashboard.web import (
    CsrfRejected,
    Dashboard,
    PageRoute,
    SignInRequired,
    check_csrf,
    clear_session,
    current_session,
    dashboard,
    redirect,
    session_or_new,
    set_session,
)
from hookline.dashboard.webhook_form import api_error, validation_errors
from hookline.errors import ApiError
from hookline.runtime.state import get_state
from hookline.services import workspaces
from hookline.wire.schemas import WorkspaceIn

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Board = Annotated[Dashboard, Depends(dashboard)]


@router.get("/")
async def home(request: Request, board: Board) -> Response:
    found = await current_session(request, board)
    return redirect(request, "/webhooks" if found and found.signed_in else "/login")


@router.get("/login")
async def login_page(request: Request, board: Board) -> Response:
    found = await current_session(request, board)
    if found is not None and found.signed_in:
        return redirect(request, "/webhooks")
    return _login(request, board, session_or_new(found), error=None, status=200)


def _login(
    request: Request, board: Dashboard, session: sessions.Session, error: str | None, status: int
) -> Response:
    csrf = board.codec.csrf_token(session)
    response = board.renderer.page("login.html", status, csrf=csrf, error=error)
    set_session(request, response, board, session)
    return response


@router.post("/login")
async def login(request: Request, board: Board) -> Response:
    found = await current_session(request, board)
    if found is None:
        raise CsrfRejected("your sign-in form expired; reload the page and try again")
    form = await check_csrf(request, board, found)
    address = request.client.host if request.client else "unknown"
    wait = board.limiter.attempt(address, time.monotonic())
    if wait:
        message = f"Too many sign-in attempts; try again in {math.ceil(wait)} s."
        return _login(request, board, found, message, 429)
    signed = await _authenticate(request, form.get("token").strip())
    if signed is None:
        return _login(request, board, found, "Unknown or revoked token.", 401)
    response = redirect(request, "/webhooks" if signed.workspace_id else "/workspace")
    set_session(request, response, board, signed)
    return response


async def _authenticate(request: Request, token: str) -> sessions.Session | None:
    state = get_state(request)
    who = await workspaces.sign_in(state.deps, state.admin_token_hash, token)
    if who is None:
        return None
    return sessions.signed_in(
        time.time(), admin=who.admin, key_hash=who.key_hash, workspace_id=who.workspace_id
    )


@router.post("/logout")
async def logout(request: Request, board: Board) -> Response:
    found = await current_session(request, board)
    if found is not None:
        await check_csrf(request, board, found)
        if found.signed_in:  # refused from now on, by every process, until it would expire
            expires_at = found.issued_at + board.codec.max_age
            await get_state(request).store.config.revoke_session(found.sid, expires_at)
    response = redirect(request, "/login")
    clear_session(request, response)
    return response


async def _signed_in(request: Request, board: Dashboard) -> sessions.Session:
    found = await current_session(request, board)
    if found is None or not found.signed_in:
        raise SignInRequired
    return found


@router.get("/workspace")
async def workspace_page(request: Request, board: Board) -> Response:
    found = await _signed_in(request, board)
    if not found.admin:
        return redirect(request, "/webhooks")
    return await _workspaces(request, board, found, {}, None, 200)


async def _workspaces(
    request: Request,
    board: Dashboard,
    found: sessions.Session,
    errors: dict[str, str],
    created: tuple[str, str] | None,
    status: int,
) -> Response:
    listed = await workspaces.list_workspaces(get_state(request).deps)
    return board.renderer.page(
        "workspaces.html",
        status,
        csrf=board.codec.csrf_token(found),
        workspaces=listed,
        current=found.workspace_id,
        errors=errors,
        created=created,
    )


@router.post("/workspace")
async def choose_workspace(request: Request, board: Board) -> Response:
    found = await _signed_in(request, board)
    form = await check_csrf(request, board, found)
    chosen = form.get("workspace_id")
    deps = get_state(request).deps
    if not found.admin or await workspaces.find_workspace(deps, chosen) is None:
        return redirect(request, "/workspace")
    response = redirect(request, "/webhooks")
    set_session(request, response, board, found.choose(chosen))
    return response


@router.post("/workspace/new")
async def create_workspace(request: Request, board: Board) -> Response:
    found = await _signed_in(request, board)
    form = await read_form(request)
    await check_csrf(request, board, found)
    if not found.admin:
        return redirect(request, "/webhooks")
    try:
        body = WorkspaceIn(name=form.get("name"))
        created, token = await workspaces.create_workspace(get_state(request).store, body.name)
    except ValidationError as exc:
        return await _workspaces(request, board, found, validation_errors(exc), None, 422)
    except ApiError as exc:
        return await _workspaces(request, board, found, api_error(exc), None, exc.status)
    response = await _workspaces(request, board, found, {}, (created.name, token), 201)
    set_session(request, response, board, found.choose(created.id))
    return response
