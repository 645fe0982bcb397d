"""Which requests ``hookline.api.direct_route`` answers itself (a plain single publish) and which
it leaves to the application untouched (everything the skipped middleware and router answer)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from hookline.api.direct_route import DirectRoute
from hookline.api.events import single_publish_route

LIMIT = 1000


class Recorded:
    """The application behind: records the scopes it is given."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)


def scope(
    method: str = "POST",
    path: str = "/v1/workspaces/ws_1/events",
    query: bytes = b"",
    headers: tuple[tuple[bytes, bytes], ...] = ((b"content-length", b"20"),),
) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": list(headers),
    }


def direct() -> DirectRoute:
    return DirectRoute(Recorded(), route=single_publish_route(), handlers={}, max_bytes=LIMIT)


def test_a_plain_publish_is_answered_directly_with_its_path_parameters() -> None:
    assert direct()._params(scope()) == {"ws": "ws_1"}
    declared = scope(headers=((b"content-length", str(LIMIT).encode()),))
    assert direct()._params(declared) == {"ws": "ws_1"}


@pytest.mark.parametrize(
    "other",
    [
        scope(method="GET"),
        scope(method="PUT"),
        scope(path="/v1/workspaces/ws_1/events/"),  # the router redirects it
        scope(path="/v1/workspaces/ws_1/events/batch"),
        scope(path="/v1/workspaces/ws_1/events/evt_1"),
        scope(path="/v1/workspaces/ws\x001/events"),  # the U+0000 check refuses it
        scope(query=b"a=%00"),
        scope(query=b"x=1"),
        scope(headers=()),  # no declared length: the body limit counts it
        scope(headers=((b"content-length", b"20"), (b"transfer-encoding", b"chunked"))),
        scope(headers=((b"content-length", str(LIMIT + 1).encode()),)),  # 413 from the limit
        scope(headers=((b"content-length", b"x"),)),
        {"type": "websocket", "path": "/v1/workspaces/ws_1/events"},
        {"type": "lifespan"},
    ],
)
def test_anything_else_goes_to_the_application_untouched(other: dict[str, Any]) -> None:
    assert direct()._params(other) is None


async def test_the_application_gets_what_is_not_the_route_s() -> None:
    inner = Recorded()
    route = DirectRoute(inner, route=single_publish_route(), handlers={}, max_bytes=LIMIT)
    other = scope(path="/v1/workspaces/ws_1/events/batch")

    async def receive() -> Message:
        raise AssertionError("the body is the application's to read")

    async def send(message: Message) -> None:
        raise AssertionError("the application answers")

    await route(other, receive, send)
    assert inner.scopes == [other] and "path_params" not in other
