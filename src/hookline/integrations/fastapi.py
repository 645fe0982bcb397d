"""FastAPI (and Starlette) integration: a dependency that verifies a webhook and returns its event.

    receive_webhook = VerifiedWebhook("standard", os.environ["HOOKLINE_SECRET"],
                                      deduplicator=Deduplicator())

    @app.post("/hooks")
    async def hooks(event: Annotated[Any, Depends(receive_webhook)]) -> dict[str, str]:
        ...

A request that fails verification never reaches the endpoint: it is answered 400 (malformed)
or 401 (bad signature, stale timestamp) with ``{"detail": {"code": …, "message": …}}``. A
redelivery of an event already seen is answered 200 ``{"detail": {"code": "duplicate", …}}``
so that the sender stops retrying; register a handler for `DuplicateWebhook` to change that.
"""

# No `from __future__ import annotations`: FastAPI resolves the string annotations of a
# callable *instance* against no globals, and `request: Request` would become a query parameter.

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import HTTPException, Request

from hookline.verify import (
    Deduplicator,
    VerificationError,
    check_config,
    event_id,
    verify_and_parse,
)

__all__ = ["DuplicateWebhook", "VerifiedWebhook"]


class DuplicateWebhook(HTTPException):
    """A redelivery of an event already received; answered 200 by FastAPI's default handler."""

    def __init__(self, event: str) -> None:
        message = f"event {event} was already received"
        super().__init__(200, detail={"code": "duplicate", "message": message})
        self.event_id = event


class VerifiedWebhook:
    """A dependency: verify the request's signature and return its parsed JSON event.

    ``secret`` may be a list (rotation). ``url`` rebuilds the URL the sender signed, for
    ``timestamped`` GET/DELETE behind a proxy; by default it is ``str(request.url)``. The event
    id is recorded with the ``deduplicator`` before the endpoint runs; if the endpoint fails and
    the redelivery must be processed, call ``deduplicator.forget(event_id(request.headers))``.
    """

    def __init__(
        self,
        scheme: str,
        secret: str | Sequence[str],
        *,
        tolerance: float | None = 300,
        deduplicator: Deduplicator | None = None,
        url: Callable[[Request], str] | None = None,
    ) -> None:
        self.secrets = check_config(scheme, secret, tolerance)  # fail at start-up, not per request
        self.scheme = scheme
        self.tolerance = tolerance
        self.deduplicator = deduplicator
        self._url = url or (lambda request: str(request.url))

    async def __call__(self, request: Request) -> Any:
        body = await request.body()
        try:
            event = verify_and_parse(
                self.scheme, body, request.headers, self.secrets,
                method=request.method, url=self._url(request), tolerance=self.tolerance,
            )  # fmt: skip
        except VerificationError as exc:
            detail = {"code": exc.code, "message": str(exc)}
            raise HTTPException(exc.status, detail=detail) from exc
        found = event_id(request.headers)
        if self.deduplicator is not None and found and self.deduplicator.seen(found):
            raise DuplicateWebhook(found)
        return event
