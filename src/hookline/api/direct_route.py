"""The single publish served straight from the top of the application.

``POST /v1/workspaces/{ws}/events`` is most of what a busy API answers. Before its handler ran,
every request passed through the middleware that only other routes need (capture isolation,
the body counter, the U+0000 check), FastAPI's exception and exit-stack layers, and the router,
which tries the app's routes in turn: on the 2-core benchmark host that machinery held about
a fifth of the API process's CPU under load (py-spy), more than the handler's own parsing,
checks and validation.

``DirectRoute`` sits outside that machinery and hands an ordinary request for one
:class:`~hookline.api.lean_route.LeanRoute` to the route's own handler: the same body
parsing, authentication, validation, endpoint and answer, and errors answered by the
application's own exception handlers (an unexpected one goes on to the server's error
middleware, outside this one, as from any route). What it skips cannot apply to such a
request, and anything else goes the usual way, untouched:

* a method other than POST, or a path that is not the route's exactly (a trailing slash, a
  U+0000, a query string: the router's redirect and the U+0000 check answer those);
* a body without a declared ``Content-Length``, with a ``Transfer-Encoding``, or declared over
  the body limit (the body limit answers those; a declared length is all the server reads).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hookline.api.lean_route import LeanRoute
from hookline.api.limits import framing

#: An application's exception handler, as Starlette takes them.
ExceptionHandler = Callable[[Request, Any], Response | Awaitable[Response]]


class DirectRoute:
    """ASGI middleware: ``route``'s plain requests go to its handler directly (see the module's
    text). ``handlers`` is the application's exception handlers, by exception class."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        route: LeanRoute,
        handlers: Mapping[Any, ExceptionHandler],
        max_bytes: int,
    ) -> None:
        self.app = app
        if "POST" not in (route.methods or ()):
            raise ValueError(f"{route.path}: DirectRoute serves POST routes")
        self._path = route.path_regex
        self._convertors = route.param_convertors
        self._handle = route.get_route_handler()
        # What Starlette's exception middleware would answer with: handlers by class, not the
        # catch-all for Exception, which the server's error middleware applies.
        self._handlers = handlers
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = self._params(scope)
        if params is None:
            await self.app(scope, receive, send)
            return
        scope["path_params"] = params
        request = Request(scope, receive, send)
        try:
            response = await self._handle(request)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            answer = handler(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
        await response(scope, receive, send)

    def _params(self, scope: Scope) -> dict[str, Any] | None:
        """The path's parameters if this request is the route's to answer directly, else None."""
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("query_string"):
            return None
        path: str = scope["path"]
        match = self._path.match(path)
        if match is None or "\x00" in path:
            return None
        declared, chunked = framing(scope)
        if declared is None or chunked or declared > self._max_bytes:
            return None
        return {k: self._convertors[k].convert(v) for k, v in match.groupdict().items()}

    def _handler(self, exc: Exception) -> ExceptionHandler | None:
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            if cls in self._handlers:
                return self._handlers[cls]
        return None
