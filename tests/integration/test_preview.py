"""Webhook preview: the exact request, signatures included, built but never sent."""

from __future__ import annotations

from typing import Any

from hookline.verify import verify
from tests.conftest import Receiver, Service

TEMPLATE = '{"text":"Order $orderId paid: $amount","by":"${customer.name}"}'
EXAMPLE = {"orderId": "o-1", "amount": 12.5, "customer": {"name": "Ada"}}
SCHEMES = ["standard", "github"]


async def _setup(service: Service, receiver: Receiver, **fields: Any) -> tuple[str, str, Any]:
    ws, key = await service.workspace()
    await service.ok(
        "POST", f"/v1/workspaces/{ws}/event-types", token=key,
        json={"name": "order.paid", "example": EXAMPLE},
    )  # fmt: skip
    body = {
        "name": "orders",
        "url": receiver.url + "/orders?src=hookline",
        "events": ["order.paid"],
        "secret": "generate",
        "signature_schemes": SCHEMES,
        "headers": {"Authorization": "Bearer downstream", "X-Team": "billing"},
        "body_template": TEMPLATE,
        **fields,
    }
    hook = await service.ok("POST", f"/v1/workspaces/{ws}/webhooks", token=key, json=body)
    return ws, key, hook


async def test_preview_is_the_request_hookline_sends(service: Service, receiver: Receiver) -> None:
    ws, key, hook = await _setup(service, receiver)
    base = f"/v1/workspaces/{ws}/webhooks/{hook['id']}"
    shown = await service.ok("POST", f"{base}/preview", token=key, json={})

    assert shown["type"] == "order.paid"  # the webhook's event type, with its catalog example
    assert (shown["method"], shown["url"]) == ("POST", receiver.url + "/orders?src=hookline")
    assert shown["body"] == '{"text":"Order o-1 paid: 12.5","by":"Ada"}'
    assert (shown["would_send"], shown["not_sent_because"], shown["aggregated"]) == (
        True,
        None,
        False,
    )
    headers = shown["headers"]
    assert headers["Authorization"] == "[redacted]" and headers["X-Team"] == "billing"
    assert headers["X-Hookline-Event-Type"] == "order.paid"
    for scheme in SCHEMES:  # the signatures are real
        verify(scheme, shown["body"], headers, hook["secret"])

    # Nothing was sent or stored.
    events = await service.ok("GET", f"/v1/workspaces/{ws}/events", token=key)
    deliveries = await service.ok("GET", f"/v1/workspaces/{ws}/deliveries", token=key)
    assert events["data"] == [] and deliveries["data"] == [] and receiver.requests == []

    # The Test button sends the same request for real.
    await service.ok("POST", f"{base}/test", token=key, json={"payload": EXAMPLE})
    [sent] = await receiver.wait_for(1)
    assert sent.body.decode() == shown["body"]
    assert set(sent.headers) >= set(headers)
    assert {k: sent.headers[k] for k in ("X-Team", "Content-Type")} == {
        k: headers[k] for k in ("X-Team", "Content-Type")
    }
    assert sent.headers["Authorization"] == "Bearer downstream"  # shown masked, sent as set


async def test_preview_with_a_payload_and_reasons_not_to_send(
    service: Service, receiver: Receiver
) -> None:
    ws, key, hook = await _setup(service, receiver, filter={"amount": {"$gt": 100}})
    await service.ok(
        "POST", f"/v1/workspaces/{ws}/event-types", token=key, json={"name": "order.refunded"}
    )
    path = f"/v1/workspaces/{ws}/webhooks/{hook['id']}/preview"
    big = {"orderId": "o-2", "amount": 500, "customer": {"name": "Bo"}}
    shown = await service.ok("POST", path, token=key, json={"payload": big})
    assert shown["body"] == '{"text":"Order o-2 paid: 500","by":"Bo"}' and shown["would_send"]

    small = await service.ok("POST", path, token=key, json={})
    assert small["would_send"] is False
    assert small["not_sent_because"] == "the payload does not pass the webhook's filter"

    other = await service.ok(
        "POST", path, token=key, json={"type": "order.refunded", "payload": big}
    )
    assert other["not_sent_because"] == "the webhook does not subscribe to 'order.refunded'"
    assert other["headers"]["X-Hookline-Event-Type"] == "order.refunded"

    status, answer = await service.call("POST", path, token=key, json={"type": "order.refunded"})
    assert status == 422 and answer["error"]["field"] == "payload"
    assert "no example for 'order.refunded'" in answer["error"]["message"]

    # Disabled: an event it subscribes to is held, not sent (and not dropped); one it does not
    # subscribe to is still refused for that reason.
    hook_path = f"/v1/workspaces/{ws}/webhooks/{hook['id']}"
    await service.ok("PATCH", hook_path, token=key, json={"enabled": False})
    held = await service.ok("POST", path, token=key, json={"payload": big})
    assert held["would_send"] is False
    assert held["not_sent_because"] == (
        "the webhook is disabled: its delivery would be held until it is enabled again"
    )
    other = await service.ok(
        "POST", path, token=key, json={"type": "order.refunded", "payload": big}
    )
    assert other["not_sent_because"] == "the webhook does not subscribe to 'order.refunded'"


async def test_preview_picks_a_matching_example_for_patterns(
    service: Service, receiver: Receiver
) -> None:
    ws, key = await service.workspace()
    hooks = f"/v1/workspaces/{ws}/webhooks"
    body = {"name": "jobs", "url": receiver.url, "events": ["job.*"], "method": "get"}
    hook = await service.ok("POST", hooks, token=key, json=body)
    status, answer = await service.call("POST", f"{hooks}/{hook['id']}/preview", token=key, json={})
    assert status == 422 and answer["error"]["field"] == "type"

    await service.ok("POST", f"/v1/workspaces/{ws}/event-types/presets/jobs", token=key)
    shown = await service.ok("POST", f"{hooks}/{hook['id']}/preview", token=key, json={})
    assert shown["type"] == "job.failed"  # the catalog's first job.* type
    assert (shown["method"], shown["body"]) == ("GET", None)
    assert "Content-Type" not in shown["headers"]

    status, _ = await service.call("POST", f"{hooks}/wh_missing/preview", token=key, json={})
    assert status == 404


async def test_preview_of_an_aggregating_webhook_shows_a_window(
    service: Service, receiver: Receiver
) -> None:
    ws, key, hook = await _setup(
        service, receiver, body_template=None, aggregation_seconds=60, secret=None,
        signature_schemes=[],
    )  # fmt: skip
    path = f"/v1/workspaces/{ws}/webhooks/{hook['id']}/preview"
    shown = await service.ok("POST", path, token=key, json={})
    assert shown["aggregated"] is True
    assert shown["headers"]["X-Hookline-Event-Type"] == "hookline.batch"
    assert '"count": 1' in shown["body"] and '"orderId": "o-1"' in shown["body"]
