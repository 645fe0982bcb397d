"""Flask integration: a decorator that verifies a webhook and passes its event to the view.

    @app.post("/hooks")
    @verify_webhook("github", os.environ["HOOKLINE_SECRET"], deduplicator=Deduplicator())
    def hooks(event: Any) -> tuple[str, int]:
        ...

The view receives the parsed JSON event as its first argument (also in ``flask.g.webhook_event``).
A request that fails verification never reaches it: it is answered 400 (malformed) or 401 (bad
signature, stale timestamp) with ``{"error": {"code": …, "message": …}}``. A redelivery of an
event already seen is answered 200 with code ``duplicate`` so that the sender stops retrying.
If the view raises, the event id is forgotten again, so that the retry is processed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from flask import Request, Response, g, jsonify, request

from hookline.verify import (
    Deduplicator,
    VerificationError,
    check_config,
    event_id,
    verify_and_parse,
)

__all__ = ["verify_webhook"]

P = ParamSpec("P")
R = TypeVar("R")


def verify_webhook(
    scheme: str,
    secret: str | Sequence[str],
    *,
    tolerance: float | None = 300,
    deduplicator: Deduplicator | None = None,
    url: Callable[[Request], str] | None = None,
) -> Callable[[Callable[Concatenate[Any, P], R]], Callable[P, R | tuple[Response, int]]]:
    """Decorate a view so that it only runs for authentic, fresh, first-time webhooks.

    ``secret`` may be a list (rotation). ``url`` rebuilds the URL the sender signed, for
    ``timestamped`` GET/DELETE behind a proxy; by default it is ``request.url``.
    """
    secrets = check_config(scheme, secret, tolerance)  # fail at import time, not per request
    signed_url = url or (lambda req: req.url)

    def decorate(view: Callable[Concatenate[Any, P], R]) -> Callable[P, R | tuple[Response, int]]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | tuple[Response, int]:
            headers = dict(request.headers.items())  # werkzeug's Headers is no Mapping
            try:
                event = verify_and_parse(
                    scheme, request.get_data(), headers, secrets,
                    method=request.method, url=signed_url(request), tolerance=tolerance,
                )  # fmt: skip
            except VerificationError as exc:
                return _answer(exc.code, str(exc), exc.status)
            found = event_id(headers)
            if deduplicator is not None and found and deduplicator.seen(found):
                return _answer("duplicate", f"event {found} was already received", 200)
            g.webhook_event = event
            try:
                return view(event, *args, **kwargs)
            except BaseException:
                if deduplicator is not None and found:
                    deduplicator.forget(found)
                raise

        return wrapper

    return decorate


def _answer(code: str, message: str, status: int) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message}}), status
