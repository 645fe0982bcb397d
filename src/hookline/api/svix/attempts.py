"""Attempts: every request made for a message to an endpoint, listed either way round; the
messages an endpoint was sent and the endpoints a message went to; resending."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Query, Response

from hookline.api.svix import render, shapes
from hookline.api.svix.access import App, Svc
from hookline.api.svix.filters import Attempts, Deliveries, PageOnly, WithContent
from hookline.api.svix.paging import page
from hookline.domain.models import Delivery, Webhook
from hookline.services import log, references
from hookline.store import LogAttempt, LogDelivery

router = APIRouter(prefix="/app/{app_id}", tags=["svix"])


def _attempt_out(with_msg: bool, with_content: bool) -> Any:
    def out(found: LogAttempt) -> shapes.MessageAttemptOut:
        shown = render.attempt(found, with_msg)
        if shown.msg is not None and not with_content:
            shown.msg.payload = {}
        return shown

    return out


@router.get(
    "/attempt/endpoint/{endpoint_id}",
    operation_id="v1.message-attempt.list-by-endpoint",
    summary="An endpoint's attempts, newest first",
)
async def list_by_endpoint(
    deps: Svc,
    app: App,
    endpoint_id: str,
    query: Attempts,
    with_content: WithContent = True,
    with_msg: bool = Query(False, description="Include each attempt's message"),
) -> dict[str, Any]:
    found = await log.attempts_of_webhook(deps, app.id, endpoint_id, query)
    return page(found.items, found.more, _attempt_out(with_msg, with_content), _attempt_id)


@router.get(
    "/attempt/msg/{msg_id}",
    operation_id="v1.message-attempt.list-by-msg",
    summary="A message's attempts, newest first",
)
async def list_by_msg(
    deps: Svc,
    app: App,
    msg_id: str,
    query: Attempts,
    endpoint_id: str | None = Query(None, description="Only this endpoint's (id or uid)"),
    with_content: WithContent = True,
) -> dict[str, Any]:
    if endpoint_id is not None:
        hook = await references.webhook_by_ref(deps, app.id, endpoint_id)
        query = replace(query, webhook_id=hook.id)
    found = await log.attempts_of_event(deps, app.id, msg_id, query)
    return page(found.items, found.more, _attempt_out(False, with_content), _attempt_id)


@router.get(
    "/endpoint/{endpoint_id}/msg",
    operation_id="v1.message-attempt.list-attempted-messages",
    summary="The messages sent to an endpoint, with their delivery status",
)
async def list_attempted_messages(
    deps: Svc, app: App, endpoint_id: str, query: Deliveries, with_content: WithContent = True
) -> dict[str, Any]:
    found = await log.deliveries_of_webhook(deps, app.id, endpoint_id, query)

    def out(item: LogDelivery) -> shapes.EndpointMessageOut:
        return render.endpoint_message(item.delivery, item.event, with_content)

    # The iterator is the delivery's id: a message may be sent to an endpoint more than once.
    return page(found.items, found.more, out, lambda item: item.delivery.id)


@router.get(
    "/msg/{msg_id}/endpoint",
    operation_id="v1.message-attempt.list-attempted-destinations",
    summary="The endpoints a message was sent to, with its delivery status at each",
)
async def list_attempted_destinations(
    deps: Svc, app: App, msg_id: str, query: PageOnly
) -> dict[str, Any]:
    found = await log.deliveries_of_event(deps, app.id, msg_id, query)
    hooks: dict[str, Webhook] = {}
    shown: list[tuple[Delivery, Webhook]] = []
    for d in found.items:
        if d.webhook_id not in hooks:
            hooks[d.webhook_id] = await references.webhook_by_ref(deps, app.id, d.webhook_id)
        shown.append((d, hooks[d.webhook_id]))
    return page(shown, found.more, lambda x: render.message_endpoint(*x), lambda x: x[0].id)


@router.get(
    "/msg/{msg_id}/attempt/{attempt_id}",
    operation_id="v1.message-attempt.get",
    summary="Get one attempt",
)
async def get_attempt(
    deps: Svc, app: App, msg_id: str, attempt_id: str
) -> shapes.MessageAttemptOut:
    return render.attempt(await log.get_attempt(deps, app.id, msg_id, attempt_id))


@router.delete(
    "/msg/{msg_id}/attempt/{attempt_id}/content",
    operation_id="v1.message-attempt.expunge-content",
    summary="Forget what the endpoint answered to one attempt",
    status_code=204,
)
async def expunge_attempt_content(deps: Svc, app: App, msg_id: str, attempt_id: str) -> Response:
    await log.expunge_attempt(deps, app.id, msg_id, attempt_id)
    return Response(status_code=204)


@router.post(
    "/msg/{msg_id}/endpoint/{endpoint_id}/resend",
    operation_id="v1.message-attempt.resend",
    summary="Send a message to one endpoint again now",
    status_code=202,
)
async def resend(deps: Svc, app: App, msg_id: str, endpoint_id: str) -> dict[str, Any]:
    await log.resend(deps, app.id, msg_id, endpoint_id)
    return {}  # the SDKs parse a JSON body, as the Svix server sends one


def _attempt_id(found: LogAttempt) -> str:
    return found.attempt.id
