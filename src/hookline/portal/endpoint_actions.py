"""The buttons of an endpoint's page in the portal: enable, disable and delete (boosted forms,
answered with a whole page), and reveal secret, rotate secret and Test (htmx partials, answered
with the fragment that replaces their area). Each calls ``services.portal_endpoints``, which
refuses them through a read-only link and writes them to the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from hookline.dashboard.forms import read_form
from hookline.errors import ValidationFailed
from hookline.portal.endpoint_pages import endpoint_page, endpoints_page
from hookline.portal.web import PortalRoute, Visit, visit
from hookline.services import portal_endpoints

router = APIRouter(route_class=PortalRoute, include_in_schema=False)
On = Annotated[Visit, Depends(visit)]


@router.post("/portal/endpoints/{endpoint_id}/enable")
async def enable(on: On, endpoint_id: str) -> Response:
    hook = await portal_endpoints.set_enabled(on.deps, on.customer, endpoint_id, True)
    return await endpoint_page(on, hook, "Enabled: messages held while it was disabled go out now.")


@router.post("/portal/endpoints/{endpoint_id}/disable")
async def disable(on: On, endpoint_id: str) -> Response:
    hook = await portal_endpoints.set_enabled(on.deps, on.customer, endpoint_id, False)
    notice = "Disabled: new messages are held until it is enabled again."
    return await endpoint_page(on, hook, notice)


@router.post("/portal/endpoints/{endpoint_id}/delete")
async def delete(on: On, endpoint_id: str) -> Response:
    hook = await portal_endpoints.endpoint(on.deps, on.customer, endpoint_id)
    await portal_endpoints.delete(on.deps, on.customer, endpoint_id)
    return await endpoints_page(on, f"Endpoint {hook.config.name} deleted.")


@router.post("/portal/endpoints/{endpoint_id}/secret")
async def reveal_secret(on: On, endpoint_id: str) -> Response:
    shown = await portal_endpoints.reveal_secret(on.deps, on.customer, endpoint_id)
    return on.fragment("_secret.html", endpoint_id=endpoint_id, shown=shown, rotated=False)


@router.post("/portal/endpoints/{endpoint_id}/rotate-secret")
async def rotate_secret(on: On, endpoint_id: str) -> Response:
    shown = await portal_endpoints.rotate_secret(on.deps, on.customer, endpoint_id)
    grace = on.deps.settings.rotation_grace_seconds
    return on.fragment(
        "_secret.html", endpoint_id=endpoint_id, shown=shown, rotated=True, grace=grace
    )


@router.post("/portal/endpoints/{endpoint_id}/test")
async def test(on: On, endpoint_id: str) -> Response:
    """One real delivery of a sample of the event type chosen (blank: one the endpoint
    receives); its outcome, or why none was sent."""
    await portal_endpoints.endpoint(on.deps, on.customer, endpoint_id)
    chosen = (await read_form(on.request)).get("event_type").strip() or None
    try:
        result = await portal_endpoints.send_test(on.deps, on.customer, endpoint_id, chosen)
    except ValidationFailed as exc:
        return on.fragment("_test_result.html", exc.status, error=exc.field_message)
    return on.fragment("_test_result.html", error=None, result=result)
