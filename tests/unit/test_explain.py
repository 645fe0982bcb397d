"""What a webhook would be sent for an event, or why not: one rule for the router and the
previews (``hookline.domain.explain``)."""

from __future__ import annotations

import json
from typing import Any

import orjson

from hookline.domain.explain import HELD, explain, route_for
from hookline.domain.models import (
    Delivery,
    DeliveryStatus,
    Event,
    Flow,
    FlowConfig,
    Webhook,
    WebhookConfig,
)
from hookline.domain.windows import BATCH_TYPE

NOW = 1_800_000_000.0


def _hook(**fields: Any) -> Webhook:
    config = WebhookConfig(name="h", url="https://example.com/hooks", **fields)
    return Webhook("wh_1", "ws_1", config, (), NOW, NOW)


def _flow(**fields: Any) -> Flow:
    return Flow("flow_1", "ws_1", "f", "", NOW, NOW, FlowConfig(**fields))


def _event(type: str = "order.paid", payload: Any = None) -> Event:
    body = orjson.dumps({"amount": 5} if payload is None else payload).decode()
    return Event("evt_1", "ws_1", type, body, None, NOW)


def _delivery() -> Delivery:
    return Delivery(
        "dlv_1", "ws_1", "evt_1", "wh_1", DeliveryStatus.PENDING, 0, 0, NOW, None, None, NOW, NOW
    )


def _reason(hook: Webhook, flow: Flow | None = None, event: Event | None = None) -> str | None:
    return explain(hook, flow, event or _event(), _delivery()).not_sent_because


def test_a_subscribed_event_that_passes_the_filter_is_sent_as_it_is() -> None:
    hook = _hook(events=["order.*"], filter={"amount": {"$gt": 1}})
    shown = explain(hook, None, _event(), _delivery())
    assert (shown.would_send, shown.not_sent_because, shown.aggregated) == (True, None, False)
    assert shown.sent == _event()


def test_each_reason_not_to_send_is_worded_for_its_owner() -> None:
    assert _reason(_hook(events=["user.*"])) == "the webhook does not subscribe to 'order.paid'"
    filtered = _hook(filter={"amount": {"$gt": 10}})
    assert _reason(filtered) == "the payload does not pass the webhook's filter"
    in_flow = _hook(flow="flow_1")
    assert _reason(in_flow, _flow(events=["user.*"])) == (
        "the flow trigger does not subscribe to 'order.paid'"
    )
    assert _reason(in_flow, _flow(filter={"amount": 99})) == (
        "the payload does not pass the flow trigger's filter"
    )


def test_a_disabled_webhook_holds_what_it_subscribes_to_and_refuses_the_rest() -> None:
    assert _reason(_hook(enabled=False)) == HELD
    # Not subscribing is the reason given first: such an event is not even held.
    unsubscribed = _reason(_hook(enabled=False, events=["user.*"]))
    assert unsubscribed == "the webhook does not subscribe to 'order.paid'"
    # The router makes a delivery for the held one, none for the other.
    assert route_for(_hook(enabled=False), None).accepts("order.paid", {})
    assert not route_for(_hook(enabled=False, events=["user.*"]), None).accepts("order.paid", {})


def test_an_aggregating_webhook_is_shown_the_window_of_this_event() -> None:
    shown = explain(_hook(aggregation_seconds=60), None, _event(), _delivery())
    assert shown.aggregated and shown.would_send
    window = json.loads(shown.sent.body)
    assert (shown.sent.type, shown.sent.id) == (BATCH_TYPE, "dlv_1")
    assert (window["count"], window["events"][0]["payload"]) == (1, {"amount": 5})
    assert window["window_end"] == "2027-01-15T08:01:00Z"  # the window closes 60 s later


def test_the_flows_window_applies_unless_the_webhook_has_its_own() -> None:
    flow = _flow(aggregation_seconds=300, aggregation_max_events=10)
    assert explain(_hook(flow="flow_1"), flow, _event(), _delivery()).aggregated
    route = route_for(_hook(flow="flow_1"), flow)
    assert (route.target.aggregation_seconds, route.target.aggregation_max_events) == (300, 10)
    own = route_for(_hook(flow="flow_1", aggregation_seconds=30), flow)
    assert (own.target.aggregation_seconds, own.target.aggregation_max_events) == (30, None)


def test_the_router_and_the_explanation_agree() -> None:
    """Every combination of subscription, filter and flow: the router routes the event exactly
    when the explanation gives no reason other than holding it."""
    flows = [None, _flow(events=["order.*"]), _flow(events=["user.*"]), _flow(filter={"a": 1})]
    hooks = [
        _hook(events=events, filter=spec, enabled=enabled, flow="flow_1")
        for events in (["*"], ["order.paid"], ["user.*"])
        for spec in (None, {"amount": 5}, {"amount": 6})
        for enabled in (True, False)
    ]
    for hook in hooks:
        for flow in flows:
            reason = _reason(hook, flow)
            routed = route_for(hook, flow).accepts("order.paid", {"amount": 5})
            assert routed == (reason is None or reason == HELD), (hook.config, flow)
