"""The official Python SDK (svix 2.9.1) sending messages through Hookline's Svix-compatible API
to a real receiver, which checks every delivery with the SDK's own ``Webhook.verify``.

Covers what a Svix user relies on after ``message.create``: the signed request, channels,
the attempt log, secret rotation with its grace period, recover and resend, idempotent
creation, event ids, the example sender and the endpoint's statistics.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from svix.api import (
    ApplicationIn,
    EndpointHeadersIn,
    EndpointIn,
    EndpointSecretRotateIn,
    EventExampleIn,
    MessageAttemptOut,
    MessageCreateOptions,
    MessageGetOptions,
    MessageIn,
    MessageStatus,
    RecoverIn,
    SvixAsync,
)
from svix.models import MessageAttemptTriggerType
from svix.webhooks import Webhook, WebhookVerificationError

from tests.conftest import Received, Receiver, Service
from tests.polling import eventually
from tests.svix.errors import refused

PAYLOAD = {"id": "inv_1", "amount": 100, "note": "caf\u00e9"}


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def arrivals(receiver: Receiver, path: str, count: int) -> list[Received]:
    """The requests that reached ``path``, once there are at least ``count`` of them."""

    async def at_path() -> list[Received]:
        return [r for r in receiver.requests if r.path == path]

    return await eventually(at_path, lambda got: len(got) >= count, what=f"{count} at {path}")


async def attempts_until(
    sdk: SvixAsync, app: str, endpoint: str, count: int, status: MessageStatus
) -> list[MessageAttemptOut]:
    """The endpoint's attempts, once ``count`` of them have ``status``."""

    async def listed() -> list[MessageAttemptOut]:
        return (await sdk.message_attempt.list_by_endpoint(app, endpoint)).data

    def enough(found: list[MessageAttemptOut]) -> bool:
        return sum(a.status == status for a in found) >= count

    return await eventually(listed, enough, what=f"{count} attempts {status.name} on {endpoint}")


async def shared_event_type(service: Service, name: str, schemas: dict[str, Any]) -> None:
    """An entry of the shared catalog, made through Hookline's own API, so that what depends
    on event types is tested apart from ``/api/v1/event-type`` (test_python_sdk.py's)."""
    body = {"name": name, "description": name, "schemas": schemas}
    await service.ok("POST", "/v1/event-types", json=body)


async def fail_fast(service: Service, app_id: str, endpoint_url: str) -> None:
    """One attempt per message for the endpoint at ``endpoint_url``, so a failed delivery is
    final at once (the Svix API has no retry settings; Hookline's own API does). The endpoint
    is found by its URL among the workspace's webhooks: an application is a workspace."""
    status, listed = await service.call("GET", f"/v1/workspaces/{app_id}/webhooks?limit=500")
    assert status == 200, ("listing the application's webhooks", status, listed)
    [hook] = [h for h in listed["data"] if h["url"] == endpoint_url]
    changes = {"max_attempts": 1}
    patched = await service.ok(
        "PATCH", f"/v1/workspaces/{app_id}/webhooks/{hook['id']}", json=changes
    )
    assert patched["max_attempts"] == 1, patched


def svix_id(received: Received) -> str:
    return {k.lower(): v for k, v in received.headers.items()}["svix-id"]


def verify(secret: str, received: Received) -> None:
    Webhook(secret).verify(received.body, received.headers)


async def test_a_message_is_delivered_signed_and_logged(sdk: SvixAsync, receiver: Receiver) -> None:
    app = await sdk.application.get_or_create(ApplicationIn(name="Acme", uid="acme"))
    endpoint = await sdk.endpoint.create(app.id, EndpointIn(url=receiver.url + "/hook"))
    team = EndpointHeadersIn(headers={"X-Team": "billing"})
    await sdk.endpoint.set_headers(app.id, endpoint.id, team)
    msg = await sdk.message.create("acme", MessageIn(event_type="invoice.paid", payload=PAYLOAD))
    assert (msg.event_type, msg.payload) == ("invoice.paid", {}), "svix 2.x: with_content=false"

    [received] = await arrivals(receiver, "/hook", 1)
    headers = {k.lower(): v for k, v in received.headers.items()}
    assert headers["svix-id"] == msg.id, "svix-id is the message id"
    assert headers["x-team"] == "billing", "the endpoint's headers are sent"
    assert json.loads(received.body) == PAYLOAD
    secret = (await sdk.endpoint.get_secret(app.id, endpoint.id)).key
    assert secret.startswith("whsec_")
    verify(secret, received)
    with pytest.raises(WebhookVerificationError):
        verify(new_secret(), received)

    [attempt] = await attempts_until(sdk, app.id, endpoint.id, 1, MessageStatus.SUCCESS)
    assert (attempt.msg_id, attempt.endpoint_id) == (msg.id, endpoint.id)
    assert (attempt.response_status_code, attempt.status_text) == (200, "success")
    assert attempt.trigger_type == MessageAttemptTriggerType.SCHEDULED
    assert attempt.url == receiver.url + "/hook"
    by_msg = await sdk.message_attempt.list_by_msg(app.id, msg.id)
    assert [a.id for a in by_msg.data] == [attempt.id]
    with_content = MessageGetOptions(with_content=True)
    assert (await sdk.message.get(app.id, msg.id, with_content)).payload == PAYLOAD
    assert [m.id for m in (await sdk.message.list(app.id)).data] == [msg.id]
    stats = await sdk.endpoint.get_stats(app.id, endpoint.id)
    assert (stats.success, stats.fail, stats.pending, stats.sending) == (1, 0, 0, 0)


async def test_a_channel_message_reaches_only_endpoints_on_that_channel(
    sdk: SvixAsync, receiver: Receiver
) -> None:
    app = await sdk.application.create(ApplicationIn(name="Acme"))
    every = await sdk.endpoint.create(app.id, EndpointIn(url=receiver.url + "/every"))
    on_a = await sdk.endpoint.create(app.id, EndpointIn(url=receiver.url + "/a", channels=["a"]))
    await sdk.endpoint.create(app.id, EndpointIn(url=receiver.url + "/b", channels=["b"]))
    for_a = await sdk.message.create(
        app.id, MessageIn(event_type="invoice.paid", payload=PAYLOAD, channels=["a"])
    )
    assert for_a.channels == ["a"]
    [at_a] = await arrivals(receiver, "/a", 1)
    assert svix_id(at_a) == for_a.id
    for_b = await sdk.message.create(
        app.id, MessageIn(event_type="invoice.paid", payload=PAYLOAD, channels=["b"])
    )
    [at_b] = await arrivals(receiver, "/b", 1)
    assert svix_id(at_b) == for_b.id, "the channel-a message reached channel b"
    at_every = await arrivals(receiver, "/every", 2)
    assert {svix_id(r) for r in at_every} == {for_a.id, for_b.id}
    await attempts_until(sdk, app.id, every.id, 2, MessageStatus.SUCCESS)
    await attempts_until(sdk, app.id, on_a.id, 1, MessageStatus.SUCCESS)
    attempted = await sdk.message_attempt.list_by_msg(app.id, for_a.id)
    assert {a.endpoint_id for a in attempted.data} == {every.id, on_a.id}


async def test_an_endpoint_with_event_types_gets_only_those(
    sdk: SvixAsync, receiver: Receiver, service: Service
) -> None:
    for name in ("invoice.paid", "invoice.void"):
        await shared_event_type(service, name, {"1": {"type": "object"}})
    app = await sdk.application.create(ApplicationIn(name="Acme"))
    paid_only = EndpointIn(url=receiver.url + "/paid", event_types=["invoice.paid"])
    assert (await sdk.endpoint.create(app.id, paid_only)).event_types == ["invoice.paid"]
    await sdk.endpoint.create(app.id, EndpointIn(url=receiver.url + "/every"))
    void = await sdk.message.create(app.id, MessageIn(event_type="invoice.void", payload={}))
    paid = await sdk.message.create(app.id, MessageIn(event_type="invoice.paid", payload={}))
    await arrivals(receiver, "/every", 2)
    [at_paid] = await arrivals(receiver, "/paid", 1)
    assert svix_id(at_paid) == paid.id, f"{void.id} (invoice.void) reached the invoice.paid one"
    unknown = EndpointIn(url=receiver.url + "/x", event_types=["no.such.type"])
    await refused(sdk.endpoint.create(app.id, unknown), 422)


async def test_a_rotated_secret_signs_with_the_new_and_the_old_one(
    sdk: SvixAsync, receiver: Receiver
) -> None:
    app = await sdk.application.create(ApplicationIn(name="Acme"))
    endpoint = await sdk.endpoint.create(app.id, EndpointIn(url=receiver.url + "/hook"))
    old = (await sdk.endpoint.get_secret(app.id, endpoint.id)).key
    await sdk.message.create(app.id, MessageIn(event_type="invoice.paid", payload=PAYLOAD))
    first = (await arrivals(receiver, "/hook", 1))[0]
    verify(old, first)

    await sdk.endpoint.rotate_secret(app.id, endpoint.id, EndpointSecretRotateIn())
    new = (await sdk.endpoint.get_secret(app.id, endpoint.id)).key
    assert new != old and new.startswith("whsec_")
    await sdk.message.create(app.id, MessageIn(event_type="invoice.paid", payload=PAYLOAD))
    second = (await arrivals(receiver, "/hook", 2))[1]
    verify(new, second)
    verify(old, second)  # the old secret stays valid during the grace period
    with pytest.raises(WebhookVerificationError):
        verify(old, replace(second, body=b'{"forged": true}'))

    chosen = new_secret()
    await sdk.endpoint.rotate_secret(app.id, endpoint.id, EndpointSecretRotateIn(key=chosen))
    assert (await sdk.endpoint.get_secret(app.id, endpoint.id)).key == chosen
    await sdk.message.create(app.id, MessageIn(event_type="invoice.paid", payload=PAYLOAD))
    verify(chosen, (await arrivals(receiver, "/hook", 3))[2])


async def test_recover_resends_what_failed_since_a_time(
    sdk: SvixAsync, receiver: Receiver, service: Service
) -> None:
    app = await sdk.application.create(ApplicationIn(name="Acme"))
    endpoint = await sdk.endpoint.create(app.id, EndpointIn(url=receiver.url + "/flaky"))
    await fail_fast(service, app.id, receiver.url + "/flaky")
    since = datetime.now(UTC) - timedelta(seconds=2)
    fine = await sdk.message.create(app.id, MessageIn(event_type="a.b", payload={"n": 1}))
    await attempts_until(sdk, app.id, endpoint.id, 1, MessageStatus.SUCCESS)
    receiver.status = 500
    lost = await sdk.message.create(app.id, MessageIn(event_type="a.b", payload={"n": 2}))
    attempts = await attempts_until(sdk, app.id, endpoint.id, 1, MessageStatus.FAIL)
    [failed] = [a for a in attempts if a.status == MessageStatus.FAIL]
    assert (failed.msg_id, failed.response_status_code) == (lost.id, 500)
    stats = await sdk.endpoint.get_stats(app.id, endpoint.id)
    assert (stats.success, stats.fail) == (1, 1)

    receiver.status = 200
    task = await sdk.endpoint.recover(app.id, endpoint.id, RecoverIn(since=since))
    assert task.task == "endpoint.recover" and task.status in ("running", "finished")
    attempts = await attempts_until(sdk, app.id, endpoint.id, 2, MessageStatus.SUCCESS)
    assert {a.msg_id for a in attempts if a.status == MessageStatus.SUCCESS} == {fine.id, lost.id}
    ids = [svix_id(r) for r in await arrivals(receiver, "/flaky", 3)]
    assert sorted(ids) == sorted([fine.id, lost.id, lost.id]), "only the failed one is resent"
    stats = await sdk.endpoint.get_stats(app.id, endpoint.id)
    assert (stats.success, stats.fail) == (2, 0)


async def test_resend_makes_a_manual_attempt(sdk: SvixAsync, receiver: Receiver) -> None:
    app = await sdk.application.create(ApplicationIn(name="Acme"))
    endpoint = await sdk.endpoint.create(app.id, EndpointIn(url=receiver.url + "/hook"))
    other = await sdk.endpoint.create(app.id, EndpointIn(url=receiver.url + "/other"))
    msg = await sdk.message.create(app.id, MessageIn(event_type="a.b", payload=PAYLOAD))
    await attempts_until(sdk, app.id, endpoint.id, 1, MessageStatus.SUCCESS)
    await sdk.message_attempt.resend(app.id, msg.id, endpoint.id)
    attempts = await attempts_until(sdk, app.id, endpoint.id, 2, MessageStatus.SUCCESS)
    triggers = sorted(a.trigger_type for a in attempts)
    assert triggers == [MessageAttemptTriggerType.SCHEDULED, MessageAttemptTriggerType.MANUAL]
    resent = await arrivals(receiver, "/hook", 2)
    assert [svix_id(r) for r in resent] == [msg.id, msg.id]
    verify((await sdk.endpoint.get_secret(app.id, endpoint.id)).key, resent[1])
    assert len(await arrivals(receiver, "/other", 1)) == 1, "resent to the one endpoint only"
    assert len((await sdk.message_attempt.list_by_endpoint(app.id, other.id)).data) == 1


async def test_an_idempotent_create_is_replayed_not_repeated(
    sdk: SvixAsync, receiver: Receiver
) -> None:
    app = await sdk.application.create(ApplicationIn(name="Acme"))
    await sdk.endpoint.create(app.id, EndpointIn(url=receiver.url + "/hook"))
    once = MessageCreateOptions(idempotency_key="k1")
    first = await sdk.message.create(app.id, MessageIn(event_type="a.b", payload=PAYLOAD), once)
    again = await sdk.message.create(app.id, MessageIn(event_type="a.b", payload=PAYLOAD), once)
    assert again.id == first.id
    fence = await sdk.message.create(app.id, MessageIn(event_type="a.b", payload={"fence": 1}))
    arrived = await arrivals(receiver, "/hook", 2)
    assert sorted(svix_id(r) for r in arrived) == sorted([first.id, fence.id])
    assert len((await sdk.message.list(app.id)).data) == 2


async def test_an_event_id_is_taken_once_and_finds_its_message(sdk: SvixAsync) -> None:
    app = await sdk.application.create(ApplicationIn(name="Acme"))
    message = MessageIn(event_type="a.b", payload=PAYLOAD, event_id="order-1")
    created = await sdk.message.create(app.id, message)
    assert created.event_id == "order-1"
    await refused(sdk.message.create(app.id, message), 409)
    assert (await sdk.message.get(app.id, "order-1")).id == created.id


async def test_a_message_can_create_its_application(sdk: SvixAsync) -> None:
    app = ApplicationIn(name="Made on the fly", uid="fly")
    msg = await sdk.message.create("fly", MessageIn(event_type="a.b", payload={}, application=app))
    assert (await sdk.application.get("fly")).name == "Made on the fly"
    assert (await sdk.message.get("fly", msg.id)).event_type == "a.b"


async def test_send_example_delivers_the_event_types_example(
    sdk: SvixAsync, receiver: Receiver, service: Service
) -> None:
    """Svix's example is the first of ``examples`` in version 1 of the type's schema."""
    example = {"id": "inv_1", "amount": 100}
    schema = {"type": "object", "examples": [example]}
    await shared_event_type(service, "invoice.paid", {"1": schema})
    app = await sdk.application.create(ApplicationIn(name="Acme"))
    endpoint = await sdk.endpoint.create(app.id, EndpointIn(url=receiver.url + "/hook"))
    await sdk.endpoint.create(app.id, EndpointIn(url=receiver.url + "/bystander"))
    sent = await sdk.endpoint.send_example(
        app.id, endpoint.id, EventExampleIn(event_type="invoice.paid")
    )
    assert sent.event_type == "invoice.paid"
    [received] = await arrivals(receiver, "/hook", 1)
    assert json.loads(received.body) == example
    verify((await sdk.endpoint.get_secret(app.id, endpoint.id)).key, received)
    await attempts_until(sdk, app.id, endpoint.id, 1, MessageStatus.SUCCESS)
    listed = await sdk.message_attempt.list_by_msg(app.id, sent.id)
    assert {a.endpoint_id for a in listed.data} == {endpoint.id}, "sent to that endpoint only"
