"""The customer portal: the pages a vendor embeds in its own product so that each of its
customers (one workspace each) manages their endpoints, sees every message and attempt,
retries, recovers and watches their endpoints' health, inside an iframe, with the vendor's look.

It is an adapter over the services, as the dashboard is: ``services.portal`` holds the links,
sessions and the rules of what a customer may see and do; the pages only draw and ask.
``router`` is included by ``hookline.api.app.create_app``.
"""

from __future__ import annotations

from fastapi import APIRouter

from hookline.portal import (
    endpoint_actions,
    endpoint_pages,
    fallback,
    health_pages,
    message_pages,
    signin,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
for _module in (signin, endpoint_pages, endpoint_actions, message_pages, health_pages):
    router.include_router(_module.router)
router.include_router(fallback.router)  # last: it answers every other /portal/ path
