"""What a webhook would be sent for an event, or why not (pure).

One rule answers it for the router that makes deliveries, the REST preview and the dashboard's
live preview alike, so they cannot disagree:

* the webhook must subscribe to the event type and the payload must pass its filter; a webhook
  in a flow must also pass the flow's trigger (its event patterns and filter);
* a disabled webhook still gets the delivery, held until the webhook is enabled again;
* a webhook in an aggregation window (its own, else its flow's) is sent the window as one
  ``hookline.batch`` event (``hookline.domain.windows``); otherwise the event itself.

Filters are compiled once per webhook (:func:`route_for`): the router keeps the compiled routes
of a workspace and asks :meth:`Route.accepts` of every published event; a preview asks
:meth:`Route.refusal` for the reason in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson

from hookline.domain.filters import Filter, compile_filter
from hookline.domain.models import Delivery, Event, Flow, Webhook, event_matches
from hookline.domain.records import record
from hookline.domain.windows import window_event

__all__ = ["HELD", "Explanation", "Route", "Rule", "Target", "explain", "route_for"]

#: The reason a disabled webhook's delivery is not sent now.
HELD = "the webhook is disabled: its delivery would be held until it is enabled again"


@record
class Target:
    """A subscribed webhook, its effective aggregation window (0 = deliver each event) and
    whether it delivers in FIFO order (``ordering: "fifo"``), as of the routing snapshot.
    ``webhook.config.enabled`` false: its deliveries are held until it is enabled."""

    webhook: Webhook
    aggregation_seconds: int = 0
    aggregation_max_events: int | None = None
    fifo: bool = False


@record
class Rule:
    """One owner's selection: the webhook's, or its flow's trigger (``owner`` names it)."""

    owner: str
    events: list[str]
    filter: Filter | None

    def accepts(self, event_type: str, payload: Any) -> bool:
        if not event_matches(self.events, event_type):
            return False
        return self.filter is None or self.filter.matches(payload)

    def refusal(self, event_type: str, payload: Any) -> str | None:
        """Why this rule does not select the event, in words; None when it does."""
        if not event_matches(self.events, event_type):
            return f"the {self.owner} does not subscribe to {event_type!r}"
        if self.filter is not None and not self.filter.matches(payload):
            return f"the payload does not pass the {self.owner}'s filter"
        return None


@record
class Route:
    """A webhook with its flow, compiled: the rules an event must pass and where it goes.

    ``channels``: the webhook takes only events published with one of these (None: any event,
    with channels or without)."""

    target: Target
    rules: tuple[Rule, ...]
    channels: frozenset[str] | None = None

    def accepts(self, event_type: str, payload: Any, channels: Sequence[str] = ()) -> bool:
        """Whether the event gets a delivery to this webhook (held, if it is disabled)."""
        if self.channels is not None and self.channels.isdisjoint(channels):
            return False
        return all(rule.accepts(event_type, payload) for rule in self.rules)

    def refusal(self, event_type: str, payload: Any, channels: Sequence[str] = ()) -> str | None:
        """Why the event would not be sent now (not selected, or held); None if it would."""
        if self.channels is not None and self.channels.isdisjoint(channels):
            return "the webhook takes only events published on its channels"
        for rule in self.rules:
            reason = rule.refusal(event_type, payload)
            if reason is not None:
                return reason
        return None if self.target.webhook.config.enabled else HELD


def route_for(webhook: Webhook, flow: Flow | None) -> Route:
    """The webhook's route: its own rule, its flow's trigger, and its effective window (its
    own, else its flow's). ``flow`` is the webhook's flow, None when it has none."""
    config = webhook.config
    rules = [Rule("webhook", config.events, _compile(config.filter))]
    seconds, max_events = config.aggregation_seconds, config.aggregation_max_events
    if flow is not None:
        rules.append(Rule("flow trigger", flow.config.events, _compile(flow.config.filter)))
        if not seconds:
            seconds = flow.config.aggregation_seconds
            max_events = flow.config.aggregation_max_events
    fifo = config.ordering == "fifo"
    channels = None if config.channels is None else frozenset(config.channels)
    return Route(Target(webhook, seconds, max_events, fifo), tuple(rules), channels)


def _compile(spec: dict[str, Any] | None) -> Filter | None:
    return None if spec is None else compile_filter(spec)


@record
class Explanation:
    """What the webhook would be sent for one event: ``sent`` is the event as shaped for it (a
    window of this one event when it aggregates), ``not_sent_because`` why it would not go out
    now (None: it would)."""

    sent: Event
    aggregated: bool
    not_sent_because: str | None

    @property
    def would_send(self) -> bool:
        return self.not_sent_because is None


def explain(webhook: Webhook, flow: Flow | None, event: Event, delivery: Delivery) -> Explanation:
    """What ``webhook`` (in ``flow``, None if none) would be sent for ``event``, through
    ``delivery``; the request itself is built from ``sent`` as for any attempt. An aggregating
    webhook is shown the window its delivery would close (this event alone in it)."""
    route = route_for(webhook, flow)
    reason = route.refusal(event.type, orjson.loads(event.body), event.channels)
    seconds = route.target.aggregation_seconds
    if not seconds:
        return Explanation(event, False, reason)
    closing = replace(delivery, next_attempt_at=delivery.created_at + seconds)
    return Explanation(window_event(closing, [event]), True, reason)
