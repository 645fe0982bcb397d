"""The official Python SDK (svix 2.9.1) asking for customer-portal links:
``authentication.app_portal_access`` answers a URL that opens Hookline's portal, with Svix's
options (``expiry``, ``readOnly``, ``capabilities``, ``featureFlags``, ``application``) honoured
and checked."""

from __future__ import annotations

from datetime import datetime

from svix.api import (
    ApplicationIn,
    AppPortalAccessIn,
    AppPortalCapability,
    EventTypeIn,
    SvixAsync,
)
from svix.exceptions import HTTPValidationError

from tests.conftest import Service
from tests.integration.portal_client import sign_in, visit
from tests.svix.client import Exchanges, svix_client
from tests.svix.errors import refused

WEEK = 7 * 86400


async def _links(service: Service, ws: str) -> list[dict[str, object]]:
    listed: list[dict[str, object]] = (
        await service.ok("GET", f"/v1/workspaces/{ws}/portal-links")
    )["data"]
    return listed


async def test_the_link_opens_the_portal_of_the_application(
    sdk: SvixAsync, service: Service
) -> None:
    app = await sdk.application.create(ApplicationIn(name="Acme", uid="acme"))
    access = await sdk.authentication.app_portal_access("acme", AppPortalAccessIn(expiry=3600))
    assert access.token.startswith("hlp_")
    # The instance's root, not the Svix API's /api/v1 where the call was made.
    assert access.url == f"{service.url}/portal/#{access.token}"
    opened = await sign_in(service, access.token)
    assert opened.status == 200, opened.text[:300]
    assert "X-Portal-Session" in opened.session()
    [link] = await _links(service, app.id)
    assert (link["read_only"], link["created_by"], _seconds(link)) == (False, "admin", 3600)
    page = await service.ok("GET", f"/v1/workspaces/{app.id}/audit-log")
    assert [e["action"] for e in page["data"]] == ["portal.opened", "portal_link.created"]


async def test_expiry_defaults_to_svix_s_seven_days_and_is_bounded(
    sdk: SvixAsync, service: Service
) -> None:
    app = await sdk.application.create(ApplicationIn(name="Acme"))
    await sdk.authentication.app_portal_access(app.id, AppPortalAccessIn())
    await sdk.authentication.app_portal_access(app.id, AppPortalAccessIn(expiry=60))
    lasting = sorted(_seconds(link) for link in await _links(service, app.id))
    assert lasting == [60, WEEK]
    for expiry in (59, WEEK + 1):
        error = await refused(
            sdk.authentication.app_portal_access(app.id, AppPortalAccessIn(expiry=expiry)), 422
        )
        assert isinstance(error, HTTPValidationError)
        assert [d.loc for d in error.detail] == [["body", "expiry"]]
    assert len(await _links(service, app.id)) == 2, "a refused link must not be made"


def _seconds(link: dict[str, object]) -> int:
    """How long a listed link was made to last, in whole seconds."""
    created = datetime.fromisoformat(str(link["created_at"]))
    expires = datetime.fromisoformat(str(link["expires_at"]))
    return round((expires - created).total_seconds())


async def test_read_only_and_capabilities_short_of_acting_make_a_link_that_only_looks(
    sdk: SvixAsync, service: Service
) -> None:
    app = await sdk.application.create(ApplicationIn(name="Acme"))
    cap = AppPortalCapability
    asked = {
        "read-only": AppPortalAccessIn(read_only=True),
        "view": AppPortalAccessIn(capabilities=[cap.VIEW_BASE, cap.VIEW_ENDPOINT_SECRET]),
        "no attempts": AppPortalAccessIn(capabilities=[cap.VIEW_BASE, cap.MANAGE_ENDPOINT]),
        "acting": AppPortalAccessIn(
            capabilities=[cap.VIEW_BASE, cap.MANAGE_ENDPOINT, cap.CREATE_ATTEMPTS]
        ),
        "default": AppPortalAccessIn(feature_flags=["beta"], session_id="s-1"),
    }
    read_only = {}
    for name, body in asked.items():
        token = (await sdk.authentication.app_portal_access(app.id, body)).token
        opened = await sign_in(service, token)
        assert opened.status == 200, (name, opened.text[:300])
        read_only[name] = 'data-read-only="true"' in opened.text
    assert read_only == {
        "read-only": True,
        "view": True,
        "no attempts": True,
        "acting": False,
        "default": False,
    }


async def test_feature_flags_show_the_customer_the_flagged_event_types(
    sdk: SvixAsync, service: Service
) -> None:
    app = await sdk.application.create(ApplicationIn(name="Acme"))
    flagged = EventTypeIn(name="beta.thing", description="Beta only.", feature_flags=["beta"])
    await sdk.event_type.create(flagged)
    await sdk.event_type.create(EventTypeIn(name="order.paid", description="For all."))
    shown: dict[tuple[str, ...], bool] = {}
    for flags in ([], ["beta"]):
        access = AppPortalAccessIn(feature_flags=flags)
        token = (await sdk.authentication.app_portal_access(app.id, access)).token
        session = (await sign_in(service, token)).session()
        page = await visit(service, "GET", "/portal/event-types", session)
        assert page.status == 200 and "order.paid" in page.text, page.text[:300]
        shown[tuple(flags)] = "beta.thing" in page.text
    assert shown == {(): False, ("beta",): True}
    flags_of = [link["feature_flags"] for link in await _links(service, app.id)]
    assert len(flags_of) == 2 and ["beta"] in flags_of and [] in flags_of
    for bad, loc in (
        (["not a flag"], ["body", "featureFlags", 0]),
        (["f"] * 51, ["body", "featureFlags"]),
    ):
        error = await refused(
            sdk.authentication.app_portal_access(app.id, AppPortalAccessIn(feature_flags=bad)), 422
        )
        assert isinstance(error, HTTPValidationError)
        assert [d.loc for d in error.detail] == [loc]
    assert len(await _links(service, app.id)) == 2, "a refused link must not be made"


async def test_an_application_named_in_the_body_is_created(sdk: SvixAsync) -> None:
    made = AppPortalAccessIn(application=ApplicationIn(name="New", uid="new-app"))
    access = await sdk.authentication.app_portal_access("new-app", made)
    assert access.token.startswith("hlp_")
    assert (await sdk.application.get("new-app")).name == "New"
    await refused(sdk.authentication.app_portal_access("no-such-app", AppPortalAccessIn()), 404)
    other = AppPortalAccessIn(application=ApplicationIn(name="X", uid="another-uid"))
    error = await refused(sdk.authentication.app_portal_access("third-app", other), 422)
    assert isinstance(error, HTTPValidationError)
    assert [d.loc for d in error.detail] == [["body", "application", "uid"]]


async def test_a_workspace_key_makes_links_for_its_own_application_only(
    sdk: SvixAsync, service: Service, exchanges: Exchanges
) -> None:
    ws, key = await service.workspace("acme")
    other = await sdk.application.create(ApplicationIn(name="Other"))
    own = svix_client(service.url, key, exchanges)
    try:
        access = await own.authentication.app_portal_access(ws, AppPortalAccessIn())
        assert (await sign_in(service, access.token)).status == 200
        await refused(own.authentication.app_portal_access(other.id, AppPortalAccessIn()), 403)
    finally:
        await own._httpx_client.aclose()
    [link] = await _links(service, ws)
    assert str(link["created_by"]).startswith("workspace API key key_")
