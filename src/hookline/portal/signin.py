"""Opening the portal: the shell page, and the exchange of a link's token for a session.

The link's URL is ``/portal/#hlp_…``. The shell page's script sends the token from the fragment
once, in an ``Authorization`` header, to ``POST /portal/sign-in``; the answer is the portal's
first page (the endpoints), carrying a new session (``hookline.portal.sessions``). Failed
sign-ins (unknown, expired or revoked links) are counted per client address: after
``SIGN_IN_FAILURES`` in five minutes that address is refused for a while, whatever it sends.
"""

from __future__ import annotations

import math
import time

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hookline.portal.endpoint_pages import endpoints_page
from hookline.portal.sessions import PortalSession
from hookline.portal.web import PortalRoute, Visit, portal_state
from hookline.runtime.state import get_state
from hookline.services import portal

router = APIRouter(route_class=PortalRoute, include_in_schema=False)


@router.get("/portal/")
async def shell() -> Response:
    """Never reached: ``PortalRoute`` answers every plain GET with the shell page."""
    return Response(status_code=204)


@router.post("/portal/sign-in")
async def sign_in(request: Request) -> Response:
    board = await portal_state(request)
    address = request.client.host if request.client else "unknown"
    now = time.monotonic()
    wait = board.limiter.wait(address, now)
    if wait:
        return board.render("gone.html", 429, wait=math.ceil(wait))
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    state = get_state(request)
    link = None
    if scheme.lower() == "bearer":
        link = await portal.link_by_token(state.deps, token.strip())
    customer = None
    if link is not None:
        customer = await portal.customer_of(state.deps, link.workspace_id, link.id)
    if customer is None:
        board.limiter.record(address, now)
        return board.render("gone.html", 401)
    session = PortalSession.new(customer.link.id, customer.workspace_id, time.time())
    opened = Visit(request, state, board, session, customer)
    await opened.audit("portal.opened")
    return await endpoints_page(opened)
