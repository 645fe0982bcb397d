"""Shared steps of the delivery-engine tests: a workspace, webhooks, events, waiting on state.

Every wait polls the real API (or the receiver) with a deadline instead of sleeping a fixed
time, so the tests are as fast as the engine and fail with the last state seen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from tests.conftest import Service, start_service
from tests.polling import eventually

FAST_RETRIES = [0, 0.2, 0.2]
T = TypeVar("T")


@dataclass
class Api:
    """One workspace of a running service, reached with its API key."""

    service: Service
    ws: str
    key: str

    async def ok(self, method: str, path: str, json: Any = None) -> Any:
        return await self.service.ok(
            method, f"/v1/workspaces/{self.ws}{path}", token=self.key, json=json
        )

    async def call(self, method: str, path: str, json: Any = None) -> tuple[int, Any]:
        return await self.service.call(
            method, f"/v1/workspaces/{self.ws}{path}", token=self.key, json=json
        )

    async def hook(self, url: str, **fields: Any) -> dict[str, Any]:
        """Create a webhook for the ``task.*`` events (fast retries unless told otherwise).

        Not ``*``: that would also bring Hookline's own ``hookline.*`` notices of failures.
        """
        defaults = {"name": url, "url": url, "events": ["task.*"], "retry_schedule": FAST_RETRIES}
        body = defaults | fields
        created: dict[str, Any] = await self.ok("POST", "/webhooks", json=body)
        return created

    async def publish(self, payload: Any = None, type: str = "task.completed") -> dict[str, Any]:
        body = {"type": type, "payload": {"n": 1} if payload is None else payload}
        published: dict[str, Any] = await self.ok("POST", "/events", json=body)
        return published

    async def delivery(self, delivery_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.ok("GET", f"/deliveries/{delivery_id}")
        return found

    async def settled(self, delivery_id: str, status: str, timeout: float = 10.0) -> dict[str, Any]:
        """The delivery's detail once it has ``status`` (attempts included)."""
        return await eventually(
            lambda: self.delivery(delivery_id), lambda d: d["status"] == status, timeout
        )


async def workspace(service: Service) -> Api:
    ws, key = await service.workspace()
    return Api(service, ws, key)


@asynccontextmanager
async def running_service(database_url: str, **overrides: Any) -> AsyncIterator[Service]:
    """The real service with non-default settings, stopped (and drained) on exit."""
    svc, stop, task = await start_service(database_url, **overrides)
    try:
        yield svc
    finally:
        stop.set()
        await task
        await svc.http.close()


def statuses(detail: dict[str, Any]) -> list[int | None]:
    """The HTTP status of each attempt of a delivery detail, in order."""
    return [a["response"]["status"] for a in detail["attempts"]]
