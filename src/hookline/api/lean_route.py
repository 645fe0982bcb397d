"""A lean request handler for the publish routes, the API's hottest.

FastAPI resolves a route's parameters generically on every request: it inspects each declared
parameter's annotation, parses the ``Content-Type`` with the ``email`` package, and walks the
dependency tree. Measured on ``POST …/events`` (one 1 KB event, SQLite, callgrind), that
machinery cost more than the publish itself.

``LeanRoute`` is a FastAPI route in every other respect (path, OpenAPI document, middleware,
error handlers). Only its request handler differs: for an endpoint shaped
``(ws: WorkspaceId, body: <model>, request: Request)`` it does what FastAPI's would, in the same
order and with the same outcomes:

1. the body is read; if its media type is JSON (``application/json`` or ``…+json``) it is
   parsed with :func:`json.loads` (``invalid_json`` on failure), else it stays bytes, which the
   model refuses (``unsupported_media_type`` through the error handler);
2. the token and the workspace are checked (:func:`hookline.api.auth.workspace_id`);
3. the body is validated against the model, errors located under ``body`` as FastAPI's are.

A body of ``OFF_LOOP_BYTES`` or more is parsed and validated in a thread: checking that every
value of a megabyte of JSON can be stored (``hookline.wire.payloads``) takes a few hundred
milliseconds, which on the event loop would hold every other request of every tenant.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar, get_type_hints

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from hookline.api.auth import workspace_id
from hookline.services.routing import OFF_LOOP_BYTES

Endpoint = Callable[[str, Any, Request], Awaitable[Response]]
T = TypeVar("T")


class LeanRoute(APIRoute):
    """A route whose endpoint takes ``(ws, body, request)``; see the module's text."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: Endpoint = self.endpoint
        model = get_type_hints(endpoint)["body"]
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"{endpoint.__name__}: LeanRoute needs a model as body")
        if self.dependencies:  # they would be skipped: refuse rather than ignore them
            raise TypeError(f"{endpoint.__name__}: LeanRoute takes no extra dependencies")

        async def handler(request: Request) -> Response:
            body = await request.body()  # over the limit: BodyTooLarge (an HTTPException)
            content_type = request.headers.get("content-type", "")
            off_loop = len(body) >= OFF_LOOP_BYTES
            raw = await _call(off_loop, _json_body, body, content_type)
            ws = await workspace_id(request, request.path_params["ws"])
            return await endpoint(ws, await _call(off_loop, _validated, model, raw), request)

        return handler


async def _call(off_loop: bool, func: Callable[..., T], *args: Any) -> T:
    """``func(*args)``, in a thread if ``off_loop``."""
    return await asyncio.to_thread(func, *args) if off_loop else func(*args)


def is_json(content_type: str) -> bool:
    """``application/json`` or ``application/<anything>+json``, parameters and case aside."""
    media = content_type.partition(";")[0].strip().lower()
    main, _, sub = media.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


def _json_body(body: bytes, content_type: str) -> Any:
    """The parsed JSON body; the raw bytes if it is not JSON; None if there is none."""
    if not body:
        return None
    if not is_json(content_type):
        return body
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        error = {"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error"}
        raise RequestValidationError([error | {"input": {}, "ctx": {"error": exc.msg}}]) from exc
    except (ValueError, RecursionError) as exc:  # not UTF-8, or nested too deep
        raise HTTPException(400, "There was an error parsing the body") from exc


def _validated(model: type[BaseModel], raw: Any) -> Any:
    if raw is None:
        missing = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
        raise RequestValidationError([missing])
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise RequestValidationError([e | {"loc": ("body", *e["loc"])} for e in errors]) from None
