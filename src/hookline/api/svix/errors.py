"""Svix's error shapes: ``{"code", "detail"}`` for every error, and on a 422
``{"detail": [{"loc", "msg", "type"}]}``, one entry per invalid field. Every error has a JSON
body: the SDKs parse it. Unexpected errors are logged and answered with an opaque 500."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from hookline.errors import ApiError, StoreUnavailable, ValidationFailed

log = logging.getLogger(__name__)

#: Hookline's codes where Svix's differ.
_CODES = {"unauthorized": "authentication_failed", "wrong_workspace": "forbidden"}
_HTTP_CODES = {400: "bad_request", 401: "authentication_failed", 404: "not_found",
               405: "method_not_allowed", 413: "payload_too_large"}  # fmt: skip

#: Svix's error body, as its OpenAPI document declares it.
HTTP_ERROR_SCHEMA: dict[str, Any] = {
    "title": "HttpErrorOut",
    "type": "object",
    "required": ["code", "detail"],
    "properties": {"code": {"type": "string"}, "detail": {"type": "string"}},
}

#: Declared on every operation in the OpenAPI document.
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/HttpErrorOut"}}}}
    for status, text in ((400, "The body is not JSON (`bad_request`)"),
                         (401, "Missing or unknown token (`authentication_failed`)"),
                         (403, "The key belongs to another application (`forbidden`)"),
                         (404, "No such object (`not_found`)"),
                         (409, "Conflicts with an existing object (`conflict`)"))
}  # fmt: skip


#: Where the Svix API is mounted.
PREFIX = "/api/v1"


def svix_body(exc: ApiError) -> dict[str, Any]:
    """An error as Svix words it: ``{code, detail}``, or a 422's ``{detail: [...]}``."""
    if isinstance(exc, ValidationFailed) or exc.status == 422:
        problems = exc.problems if isinstance(exc, ValidationFailed) else (exc,)
        return {"detail": [
            {"loc": _field_loc(p.field), "msg": p.field_message, "type": p.entry_code}
            for p in problems
        ]}  # fmt: skip
    return {"code": _CODES.get(exc.code, exc.code), "detail": exc.message}


def renamed(problem: ApiError, names: Mapping[str, str]) -> ApiError:
    """The problem with its field's first part named as ``names`` says (as the Svix API names
    a field Hookline's services call otherwise); unchanged when ``names`` has no such name."""
    head, dot, rest = (problem.field or "").partition(".")
    new = names.get(head)
    if new is None:
        return problem
    return ValidationFailed(problem.field_message, field=new + dot + rest, code=problem.code)


@contextmanager
def fields_named(names: Mapping[str, str]) -> Iterator[None]:
    """Within it, a 422 from a service names its fields as ``names`` says (see ``renamed``)."""
    try:
        yield
    except ValidationFailed as exc:
        raise ValidationFailed(problems=[renamed(p, names) for p in exc.problems]) from None


def error(status: int, code: str, detail: str, **headers: str) -> JSONResponse:
    return JSONResponse({"code": code, "detail": detail}, status, headers=headers or None)


def _field_loc(field: str | None) -> list[str | int]:
    if not field:
        return ["body"]
    return ["body", *(int(p) if p.isdigit() else p for p in field.split("."))]


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(svix_body(exc), exc.status, headers=exc.headers() or None)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    found = exc.errors()
    if found and found[0].get("type") == "json_invalid":
        return error(400, "bad_request", "the request body is not valid JSON")
    detail = [
        {"loc": [str(p) if not isinstance(p, int) else p for p in e.get("loc", ())],
         "msg": str(e.get("msg", "invalid")), "type": str(e.get("type", "value_error"))}
        for e in found
    ]  # fmt: skip
    return JSONResponse({"detail": detail}, 422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error(exc.status_code, code, str(exc.detail), **dict(exc.headers or {}))


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc)
    return error(503, "unavailable", "the database is unavailable; retry shortly", **{
        "Retry-After": "5"})  # fmt: skip


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error during %s %s", request.method, request.url.path)
    return error(500, "server_error", "an unexpected error occurred")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(StoreUnavailable, _unavailable)
    app.add_exception_handler(Exception, _unexpected)
