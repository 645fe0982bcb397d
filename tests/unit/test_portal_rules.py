"""The customer portal's pure rules: which event types a link lets its customer see and
subscribe to (``domain.portal_access.Customer``; its feature flags and the catalog's), an endpoint's
status, the type its Test sends, and
the endpoint form's custom headers and event-type choices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from hookline.domain import portal_themes
from hookline.domain.models import EventType, PortalLink, Webhook, WebhookConfig
from hookline.domain.portal_access import Customer, ReadOnlyLink
from hookline.domain.samples import FALLBACK_TYPE
from hookline.errors import ValidationFailed
from hookline.portal.endpoint_form import choices, draft_of, parse_header_lines
from hookline.services.portal_endpoints import (
    CatalogEntry,
    sample_type,
    status_of,
    subscribable_patterns,
    visible,
)
from hookline.services.webhooks import DISABLED_BY_USER


def customer(
    event_types: Sequence[str] | None = None,
    *,
    read_only: bool = False,
    flags: Sequence[str] = (),
) -> Customer:
    types = None if event_types is None else tuple(event_types)
    link = PortalLink(
        "pl_1", "ws_1", "hash", 0.0, 3600.0, "admin", read_only, types, feature_flags=tuple(flags)
    )
    return Customer(link, portal_themes.effective())


def event_type(
    name: str, example: Any = None, *, flags: Sequence[str] = (), archived: bool = False
) -> EventType:
    return EventType(
        "et_" + name, "ws_1", name, "", None, example, 0.0, 0.0,
        archived=archived, feature_flags=tuple(flags),
    )  # fmt: skip


def hook(*, enabled: bool = True, reason: str | None = None, **config: Any) -> Webhook:
    settings = {"name": "n", "url": "https://example.com", "enabled": enabled} | config
    return Webhook("wh_1", "ws_1", WebhookConfig(**settings), (), 0.0, 0.0, reason)


CATALOG = [
    event_type("invoice.created"),
    event_type("invoice.paid", {"invoice": 1}),
    event_type("order.created", {"order": 1}),
]


def test_an_unlimited_link_sees_and_subscribes_to_everything() -> None:
    everyone = customer()
    assert everyone.may_see("order.created") and everyone.may_see("invoice.paid")
    for pattern in ("*", "order.*", "order.created"):
        assert everyone.may_subscribe(pattern)
    assert subscribable_patterns(everyone) == ["*"]


def test_a_limited_link_sees_only_what_it_names() -> None:
    limited = customer(["invoice.*", "order.created"])
    assert limited.may_see("invoice.paid") and limited.may_see("order.created")
    assert not limited.may_see("order.cancelled")
    assert not limited.may_see("hookline.webhook.disabled")
    # Its own patterns and the types they allow; no wider (or other) wildcard.
    for pattern in ("invoice.*", "invoice.paid", "order.created"):
        assert limited.may_subscribe(pattern), pattern
    for pattern in ("*", "order.*", "order.cancelled", "invoice.paid.*"):
        assert not limited.may_subscribe(pattern), pattern
    assert subscribable_patterns(limited) == ["invoice.*"]


def test_a_flagged_entry_is_seen_only_through_a_link_with_one_of_its_flags() -> None:
    plain, beta = event_type("order.created"), event_type("beta.thing", flags=["beta", "eu"])
    # Without flags on the entry, only the link's event types count.
    assert customer().may_see_entry(plain)
    assert customer(flags=["other"]).may_see_entry(plain)
    assert not customer(["invoice.*"]).may_see_entry(plain)
    # A flagged entry: one of its flags on the link, any one.
    assert not customer().may_see_entry(beta)
    assert not customer(flags=["other", "BETA"]).may_see_entry(beta)
    assert customer(flags=["beta"]).may_see_entry(beta)
    assert customer(flags=["other", "eu"]).may_see_entry(beta)
    # The flag does not widen what the link's event types allow.
    assert not customer(["order.*"], flags=["beta"]).may_see_entry(beta)
    assert customer(["beta.*"], flags=["beta"]).may_see_entry(beta)


def test_a_read_only_link_may_do_nothing() -> None:
    customer().check_write()
    with pytest.raises(ReadOnlyLink) as refused:
        customer(read_only=True).check_write()
    assert (refused.value.status, refused.value.code) == (403, "read_only")


def test_an_endpoints_status_says_who_disabled_it() -> None:
    assert status_of(hook()) == "enabled"
    assert status_of(hook(enabled=False)) == "disabled"
    assert status_of(hook(enabled=False, reason=DISABLED_BY_USER)) == "disabled"
    assert status_of(hook(enabled=False, reason="endpoint answered 410 Gone")) == "auto-disabled"
    # A reason left from before it was enabled again does not count.
    assert status_of(hook(reason="endpoint answered 410 Gone")) == "enabled"


def test_only_http_webhooks_outside_flows_are_endpoints() -> None:
    assert visible(hook())
    assert not visible(hook(flow="fl_1"))
    email = {"to": ["ops@example.com"], "subject": "s"}
    assert not visible(hook(kind="email", url=None, email=email))


def test_a_test_sends_a_type_the_customer_may_see() -> None:
    # The sample's own choice among the visible types: the first with a catalog example.
    assert sample_type(customer(["invoice.*"]), ["*"], CATALOG) == "invoice.paid"
    assert sample_type(customer(["order.*"]), ["*"], CATALOG) == "order.created"
    assert sample_type(customer(), ["order.created", "invoice.*"], CATALOG) == "order.created"
    # Nothing matches: the test's fallback sample when the link limits nothing, else a 422.
    assert sample_type(customer(), ["user.*"], CATALOG) == FALLBACK_TYPE
    with pytest.raises(ValidationFailed) as refused:
        sample_type(customer(["invoice.*"]), ["order.*"], CATALOG)
    assert refused.value.field == "events"


def test_a_test_never_sends_a_type_the_links_flags_hide() -> None:
    flagged = [
        event_type("beta.thing", {"beta": 1}, flags=["beta"]),
        event_type("beta.old", {"old": 1}, flags=["beta"], archived=True),
        *CATALOG,
    ]
    assert sample_type(customer(), ["*"], flagged) == "invoice.paid"
    assert sample_type(customer(flags=["beta"]), ["*"], flagged) == "beta.thing"
    # Named exactly (by the operator): a hidden type is passed over, archived or not.
    assert sample_type(customer(), ["beta.thing", "order.*"], flagged) == "order.created"
    assert sample_type(customer(), ["beta.old"], flagged) == FALLBACK_TYPE
    assert sample_type(customer(flags=["beta"]), ["beta.old"], flagged) == "beta.old"
    # Only hidden types match: the fallback sample, or a 422 for a link limited to some types.
    assert sample_type(customer(), ["beta.*"], flagged) == FALLBACK_TYPE
    with pytest.raises(ValidationFailed):
        sample_type(customer(["beta.*"]), ["beta.*"], flagged)


def test_custom_headers_are_typed_one_per_line() -> None:
    text = "X-Customer: 42\n\n  Authorization:  Bearer a:b  \n"
    assert parse_header_lines(text) == ({"X-Customer": "42", "Authorization": "Bearer a:b"}, None)
    assert parse_header_lines("") == ({}, None)
    assert parse_header_lines("X-A: 1\nno colon")[1] == "line 2: write each header as Name: value"
    assert parse_header_lines(": value")[1] == "line 1: write each header as Name: value"
    assert parse_header_lines("X-A: 1\nx-a: 2")[1] == "line 2: header 'x-a' is given twice"


def test_a_draft_from_the_form() -> None:
    values = {
        "name": " Billing ",
        "url": " https://example.com/h ",
        "description": "",
        "events": ["invoice.paid", "invoice.paid", "order.created"],
        "headers": "X-A: 1",
        "enabled": False,
        "rate_limit_per_second": " 2.5 ",
    }
    draft, errors = draft_of(values)
    assert errors == {}
    assert draft.body() == {
        "name": "Billing",
        "description": "",
        "url": "https://example.com/h",
        "events": ["invoice.paid", "order.created"],
        "headers": {"X-A": "1"},
        "enabled": False,
        "rate_limit_per_second": 2.5,
        "kind": "webhook",
    }
    assert draft_of(values | {"rate_limit_per_second": ""})[0].rate_limit_per_second is None
    assert set(draft_of(values | {"rate_limit_per_second": "fast"})[1]) == {"rate_limit_per_second"}
    assert draft_of(values | {"headers": "oops"})[1] == {
        "headers": "line 1: write each header as Name: value"
    }


def test_the_pickers_choices() -> None:
    entries = [CatalogEntry("invoice.paid", "Paid.", None, {"invoice": 1})]
    picked = choices(entries, ["invoice.*"], ["invoice.paid", "*", "legacy.thing"])
    assert [(c.value, c.label) for c in picked] == [
        ("invoice.*", "All invoice.* events"),
        ("invoice.paid", "invoice.paid"),
        ("*", "All events"),
        ("legacy.thing", "legacy.thing"),
    ]
    assert picked[1].entry == entries[0]
