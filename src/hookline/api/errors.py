"""One error shape everywhere: ``{"error": {"code", "message", "field"}}``, and on a 422
``errors``, every invalid field (``{"field", "code", "message"}``).

Client errors carry a stable code; anything unexpected is logged with the request's context and
answered with an opaque 500 (no internals leak).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match

from hookline.api.svix import errors as svix_errors
from hookline.errors import ApiError, StoreUnavailable
from hookline.wire.validation import describe, every_field

log = logging.getLogger(__name__)
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class FieldError(BaseModel):
    field: str | None = Field(description="The request field at fault.")
    code: str = Field(
        description="`required` (missing), `invalid`, or a more specific code such as "
        "`limit_exceeded` or `template_too_large`."
    )
    message: str = Field(description="What is wrong with it, for a person.")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `not_found`.")
    message: str = Field(description="What went wrong, for a person.")
    field: str | None = Field(default=None, description="The request field at fault, if any.")
    errors: list[FieldError] | None = Field(
        default=None,
        description="On every 422: every invalid field, one entry each, the first being the "
        "one `field` and `message` describe.",
    )


class ErrorOut(BaseModel):
    """Every error the API answers has this shape."""

    error: ErrorDetail


def _documented(description: str, **extra: Any) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description, **extra}


#: The error answers any operation may give, declared in the OpenAPI document (FastAPI's own
#: 422 ``HTTPValidationError`` is not what clients receive, so it is replaced).
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("Malformed request (`invalid_json`, `bad_request`)"),
    401: _documented("Missing or unknown token (`unauthorized`)"),
    403: _documented(
        "The operation needs the admin token (`forbidden`), or the API key belongs to another"
        " workspace (`wrong_workspace`)"
    ),
    404: _documented("No such resource in this workspace (`not_found`)"),
    409: _documented("Conflicts with an existing resource (`conflict`)"),
    413: _documented("The request body is too large (`payload_too_large`)"),
    415: _documented("The body is not JSON (`unsupported_media_type`)"),
    422: _documented("A field is invalid (`validation_failed`, `limit_exceeded`)"),
    429: _documented(
        "Too many failed authentications from this address (`too_many_failed_authentications`);"
        " retry after the delay given",
        headers={"Retry-After": {"description": "Seconds", "schema": {"type": "integer"}}},
    ),
    503: _documented(
        "The database is unavailable (`unavailable`); retry after the delay given",
        headers={"Retry-After": {"description": "Seconds", "schema": {"type": "integer"}}},
    ),
}


def error_response(
    status: int, code: str, message: str, field: str | None = None, **headers: str
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, headers=headers or None)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    """The error's own shape (``ApiError.to_dict``): a 422 lists every problem in ``errors``."""
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.to_dict(), exc.status, headers=exc.headers() or None)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        return error_response(400, "invalid_json", "the request body is not valid JSON")
    content_type = request.headers.get("content-type", "")
    if tuple(first.get("loc", ())) == ("body",) and "json" not in content_type:
        return error_response(
            415, "unsupported_media_type", "send a JSON body with Content-Type: application/json"
        )
    field, message = describe(first)
    text = f"{field}: {message}" if field else message
    body = {"code": "validation_failed", "message": text, "field": field}
    return JSONResponse({"error": body | {"errors": every_field(exc.errors())}}, 422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
        # FastAPI's answer to a body its JSON parser gave up on (not UTF-8, nested too deep).
        message = "the request body is not valid JSON: it must be UTF-8, and not nested too deep"
        return error_response(400, "invalid_json", message)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    if request.url.path.startswith(svix_errors.PREFIX):  # a path the mounted API never saw
        return svix_errors.error(exc.status_code, code, str(exc.detail))
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return error_response(exc.status_code, code, str(exc.detail), **headers)


def _allowed_methods(request: Request) -> str:
    """A 405's ``Allow`` (RFC 9110 §15.5.6): every method the resource at this path takes. (The
    router's own header names only the first route it tried, and FastAPI makes a route per
    method.) Where a literal path (``/events/batch``) also fits a template with a parameter
    (``/events/{event_id}``), the literal one names the resource."""
    fits = [
        r
        for r in leaves(request.app.router.routes)
        if r.matches(request.scope)[0] is not Match.NONE
    ]
    fewest = min((_parameters(r) for r in fits), default=0)
    routes = [r for r in fits if _parameters(r) == fewest]
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return ", ".join(allowed)


def leaves(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, inside included routers too (FastAPI 0.16x keeps an included router whole,
    under ``original_router``; earlier versions copy its routes into the app's)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from leaves(inner.routes) if inner is not None else (route,)


def _parameters(route: BaseRoute) -> int:
    return len(getattr(route, "param_convertors", ()))


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc)
    return error_response(
        503,
        "unavailable",
        "the database is unavailable; retry shortly",
        None,
        **{"Retry-After": "5"},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error during %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "an unexpected error occurred")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(StoreUnavailable, _unavailable)
    app.add_exception_handler(Exception, _unexpected)
