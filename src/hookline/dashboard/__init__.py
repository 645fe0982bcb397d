"""The web dashboard: server-rendered pages (Jinja2) with htmx for the live parts.

Every page acts through the API's own handlers and store operations, so the rules, limits and
messages are the API's. ``router`` is included by ``hookline.api.app.create_app``.
"""

from __future__ import annotations

from fastapi import APIRouter

from hookline.dashboard import (
    assets,
    catalog_pages,
    delivery_pages,
    event_pages,
    flow_pages,
    inspector_pages,
    portal_pages,
    signin,
    webhook_actions,
    webhook_pages,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
for _module in (
    assets,
    signin,
    webhook_actions,
    webhook_pages,
    delivery_pages,
    event_pages,
    flow_pages,
    inspector_pages,
    catalog_pages,
    portal_pages,
):
    router.include_router(_module.router)
