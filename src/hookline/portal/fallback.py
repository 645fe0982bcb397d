"""Every other ``/portal/…`` path: the portal's own "not found" (the shell for a plain GET, as
every portal route), never the API's JSON. Included last."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from hookline.errors import NotFound
from hookline.portal.web import PortalRoute, Visit, visit

router = APIRouter(route_class=PortalRoute, include_in_schema=False)


@router.api_route("/portal/{rest:path}", methods=["GET", "POST"])
async def not_found(rest: str, _: Annotated[Visit, Depends(visit)]) -> None:
    raise NotFound(f"there is no page /portal/{rest}")
