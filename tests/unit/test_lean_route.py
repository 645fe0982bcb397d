"""The publish routes' lean handler: what it accepts as JSON, and the routes it refuses to
serve (where it would silently skip what FastAPI would do)."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, Request, Response

from hookline.api.auth import WorkspaceId
from hookline.api.lean_route import LeanRoute, is_json
from hookline.wire.schemas import EventIn


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("Application/JSON", True),
        ("application/cloudevents+json", True),
        (" application/json ;x=1", True),
        ("application/jsonx", False),
        ("text/json", False),
        ("text/plain", False),
        ("json", False),
        ("", False),
    ],
)
def test_json_media_types(content_type: str, expected: bool) -> None:
    assert is_json(content_type) is expected


async def _ok() -> None:
    return None


def test_a_route_with_dependencies_it_would_skip_is_refused() -> None:
    router = APIRouter(route_class=LeanRoute, dependencies=[Depends(_ok)])

    async def publish(ws: WorkspaceId, body: EventIn, request: Request) -> Response:
        return Response()

    with pytest.raises(TypeError, match="dependencies"):
        router.post("/{ws}/events")(publish)


def test_a_body_that_is_no_model_is_refused() -> None:
    router = APIRouter(route_class=LeanRoute)

    async def publish(ws: WorkspaceId, body: dict[str, int], request: Request) -> Response:
        return Response()

    with pytest.raises(TypeError, match="model"):
        router.post("/{ws}/events")(publish)
