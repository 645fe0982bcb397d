"""The portal's endpoint pages: the list, an endpoint's page, the create and edit forms, and the
event-type catalog. Each asks ``services.portal_endpoints``, which holds every rule of what a
customer sees and may do; a submission's problems are shown beside their fields (422), every
one at once. The buttons of an endpoint's page are answered in ``endpoint_actions``.

An endpoint is HTTP, or publishes to a broker of a kind the link allows; a broker endpoint is
shown as ``destinations.describe`` gives it (its URL without the password, and its target), and
its form offers the kinds the link allows with each one's settings.

A boosted form answers a whole page (no redirect: the session travels in headers, which a
redirect would not carry), with ``path`` set to where a reload of it returns.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from hookline.dashboard.forms import read_form
from hookline.domain import secret_headers
from hookline.domain.destinations import BROKER_KINDS, describe
from hookline.domain.models import Webhook
from hookline.domain.portal_access import Customer
from hookline.errors import ApiError
from hookline.portal.endpoint_form import (
    KIND_LABELS,
    LABELS,
    blank_values,
    choices,
    draft_of,
    form_errors,
    other_errors,
    values_from_form,
    values_of,
)
from hookline.portal.web import PortalRoute, Visit, visit
from hookline.services import portal_endpoints
from hookline.services.portal_endpoints import status_of, subscribable_patterns, testable_types

router = APIRouter(route_class=PortalRoute, include_in_schema=False)
On = Annotated[Visit, Depends(visit)]
LIST_PATH = "/portal/endpoints"


def destination(hook: Webhook) -> str:
    """Where an endpoint's messages go, as the customer reads it: an HTTP endpoint's URL, a
    broker endpoint's ``describe`` (its URL without the password, and its target)."""
    action = hook.config.broker
    return (hook.config.url or "") if action is None else describe(hook.config.kind, action)


def broker_kinds(customer: Customer) -> list[str]:
    """The broker kinds the customer's link lets them use, in the forms' order."""
    return [kind for kind in BROKER_KINDS if customer.may_use_kind(kind)]


async def endpoints_page(on: Visit, notice: str | None = None) -> Response:
    """The list of the customer's endpoints (``notice``: what was just done)."""
    hooks = await portal_endpoints.endpoints(on.deps, on.customer)
    states = {hook.id: status_of(hook) for hook in hooks}
    return on.page(
        "endpoints.html",
        path=LIST_PATH,
        hooks=hooks,
        states=states,
        destinations={hook.id: destination(hook) for hook in hooks},
        kind_labels=KIND_LABELS,
        notice=notice,
        nav="endpoints",
    )


async def endpoint_page(on: Visit, hook: Webhook, notice: str | None = None) -> Response:
    """An endpoint's page; credential header values masked; the event types Test offers."""
    config = hook.config
    offered = [] if on.customer.read_only else await testable_types(on.deps, on.customer, hook)
    return on.page(
        "endpoint.html",
        path=f"{LIST_PATH}/{hook.id}",
        hook=hook,
        state=status_of(hook),
        headers=secret_headers.mask(config.headers, config.secret_headers),
        destination=destination(hook),
        kind_labels=KIND_LABELS,
        notice=notice,
        test_types=offered,
        nav="endpoints",
    )


async def _form(
    on: Visit,
    hook: Webhook | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    entries = await portal_endpoints.event_types(on.deps, on.customer)
    picks = choices(entries, subscribable_patterns(on.customer), values["events"])
    path = f"{LIST_PATH}/{hook.id}/edit" if hook else f"{LIST_PATH}/new"
    kinds = broker_kinds(on.customer)
    return on.page(
        "endpoint_form.html",
        status,
        path=path,
        hook=hook,
        values=values,
        errors=errors,
        other=other_errors(errors, kinds),
        labels=LABELS,
        kinds=kinds,
        kind_labels=KIND_LABELS,
        choices=picks,
        nav="endpoints",
    )


def _of_the_form(exc: ApiError) -> bool:
    """A problem shown on the form (a 422, or a name taken: 409 on ``name``) rather than in
    the page's error box."""
    return exc.status == 422 or exc.field is not None


@router.get("/portal/endpoints")
async def list_page(on: On) -> Response:
    return await endpoints_page(on)


@router.get("/portal/endpoints/new")
async def new_page(on: On) -> Response:
    on.customer.check_write()
    return await _form(on, None, blank_values(), {})


@router.post("/portal/endpoints")
async def create(on: On) -> Response:
    values = values_from_form(await read_form(on.request))
    draft, errors = draft_of(values)
    if errors:
        problems = await portal_endpoints.draft_problems(on.deps, on.customer, draft)
        return await _form(on, None, values, form_errors(problems) | errors, 422)
    try:
        hook = await portal_endpoints.create(on.deps, on.customer, draft)
    except ApiError as exc:
        if not _of_the_form(exc):
            raise
        return await _form(on, None, values, form_errors([exc]), exc.status)
    return await endpoint_page(on, hook, "Endpoint created. Reveal its signing secret below.")


@router.get("/portal/endpoints/{endpoint_id}")
async def detail_page(on: On, endpoint_id: str) -> Response:
    hook = await portal_endpoints.endpoint(on.deps, on.customer, endpoint_id)
    return await endpoint_page(on, hook)


@router.get("/portal/endpoints/{endpoint_id}/edit")
async def edit_page(on: On, endpoint_id: str) -> Response:
    hook = await portal_endpoints.endpoint(on.deps, on.customer, endpoint_id)
    on.customer.check_write()
    return await _form(on, hook, values_of(hook), {})


@router.post("/portal/endpoints/{endpoint_id}")
async def save(on: On, endpoint_id: str) -> Response:
    hook = await portal_endpoints.endpoint(on.deps, on.customer, endpoint_id)
    values = values_from_form(await read_form(on.request))
    draft, errors = draft_of(values)
    if errors:
        problems = await portal_endpoints.draft_problems(on.deps, on.customer, draft, hook)
        return await _form(on, hook, values, form_errors(problems) | errors, 422)
    try:
        saved = await portal_endpoints.update(on.deps, on.customer, endpoint_id, draft)
    except ApiError as exc:
        if not _of_the_form(exc):
            raise
        return await _form(on, hook, values, form_errors([exc]), exc.status)
    return await endpoint_page(on, saved, "Saved.")


@router.get("/portal/event-types")
async def event_types_page(on: On) -> Response:
    entries = await portal_endpoints.event_types(on.deps, on.customer)
    return on.page(
        "event_types.html", path="/portal/event-types", entries=entries, nav="event-types"
    )
