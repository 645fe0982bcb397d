"""The customer portal's endpoint pages over real HTTP, as htmx sends them (the session and CSRF
headers of the page): create (and its 422s), edit, disable and enable, Test reaching a real
receiver, reveal and rotate the secret, delete; a link limited to some event types; a catalog
entry with feature flags and the link's; a read-only link; the CSRF check; another workspace's
ids; and every action in the audit log."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hookline import verify
from tests.conftest import Receiver, Service, started
from tests.polling import eventually

FormData = Sequence[tuple[str, str]]
USER = "alice@example.com"


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    async for svc in started(f"sqlite:///{tmp_path}/hookline.db"):
        yield svc


@dataclass
class Page:
    status: int
    text: str

    def error_code(self) -> str | None:
        found = re.search(r'id="error-box"[^>]*data-code="([^"]*)"', self.text)
        return found.group(1) if found else None


@dataclass
class Portal:
    """One customer's browser: every request carries the page's session and CSRF headers."""

    svc: Service
    headers: dict[str, str]

    async def get(self, path: str) -> Page:
        async with self.svc.http.get(self.svc.url + path, headers=self.headers) as r:
            return Page(r.status, await r.text())

    async def post(
        self, path: str, form: FormData = (), *, headers: dict[str, str] | None = None
    ) -> Page:
        sent = self.headers if headers is None else headers
        async with self.svc.http.post(self.svc.url + path, data=list(form), headers=sent) as r:
            return Page(r.status, await r.text())


async def open_portal(svc: Service, ws: str, **options: Any) -> Portal:
    link = await svc.ok("POST", f"/v1/workspaces/{ws}/portal-links", json=options)
    headers = {"Authorization": f"Bearer {link['token']}", "HX-Request": "true"}
    async with svc.http.post(svc.url + "/portal/sign-in", headers=headers) as r:
        assert r.status == 200, await r.text()
        page = await r.text()
    found = re.search(r"hx-headers='([^']*)'", page)
    assert found is not None, page[:500]
    return Portal(svc, json.loads(found.group(1)) | {"HX-Request": "true"})


async def catalog(svc: Service, ws: str) -> None:
    for name, description, example in (
        ("invoice.paid", "An invoice was paid in full.", {"invoice": "in_1", "amount": 1200}),
        ("order.created", "A customer placed an order.", {"order": "or_1"}),
    ):
        schema = {"type": "object", "properties": {"amount": {"type": "integer"}}}
        body = {"name": name, "description": description, "schema": schema, "example": example}
        await svc.ok("POST", f"/v1/workspaces/{ws}/event-types", json=body)


def endpoint_form(url: str, *events: str, name: str = "Billing", headers: str = "") -> FormData:
    fields = [("name", name), ("url", url), ("description", "Our billing server")]
    return [*fields, *(("events", e) for e in events), ("headers", headers), ("enabled", "on")]


async def webhooks_of(svc: Service, ws: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = (await svc.ok("GET", f"/v1/workspaces/{ws}/webhooks"))["data"]
    return listed


async def audit(svc: Service, ws: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = (
        await svc.ok("GET", f"/v1/workspaces/{ws}/audit-log?limit=500")
    )["data"]
    return entries[::-1]  # oldest first


def secret_in(page: Page) -> str:
    found = re.search(r'<code class="secret">(whsec_[^<]+)</code>', page.text)
    assert found is not None, page.text
    return found.group(1)


async def test_an_endpoints_life(service: Service, receiver: Receiver) -> None:
    svc = service
    ws, _ = await svc.workspace()
    await catalog(svc, ws)
    portal = await open_portal(svc, ws, user=USER)

    listed = await portal.get("/portal/endpoints")
    assert listed.status == 200
    assert "New endpoint" in listed.text and "No endpoints yet" in listed.text
    new = await portal.get("/portal/endpoints/new")
    assert new.status == 200
    for label in ('for="f-name">Name<', 'for="f-url">Endpoint URL<', "Custom headers"):
        assert label in new.text
    assert "All events" in new.text and "An invoice was paid in full." in new.text
    assert "&#34;amount&#34;: 1200" in new.text  # the example, in a details element

    bad = await portal.post("/portal/endpoints", endpoint_form("not a url", "invoice.paid"))
    assert bad.status == 422, bad.text
    assert 'id="err-url"' in bad.text and 'aria-invalid="true"' in bad.text
    assert 'value="not a url"' in bad.text  # the form keeps what was typed
    headers_bad = await portal.post(
        "/portal/endpoints", endpoint_form(receiver.url, "invoice.paid", headers="no colon")
    )
    assert headers_bad.status == 422 and 'id="err-headers"' in headers_bad.text
    assert await webhooks_of(svc, ws) == []

    headers = "X-Customer: 42\nAuthorization: Bearer s3cret"
    form = endpoint_form(receiver.url + "/hooks", "invoice.paid", headers=headers)
    created = await portal.post("/portal/endpoints", form)
    assert created.status == 200, created.text
    assert "Endpoint created" in created.text and "[redacted]" in created.text
    assert "s3cret" not in created.text
    (hook,) = await webhooks_of(svc, ws)
    hook_id = hook["id"]
    assert hook["events"] == ["invoice.paid"] and hook["enabled"] is True
    assert f'href="/portal/endpoints/{hook_id}/health"' in created.text
    assert f'href="/portal/endpoints/{hook_id}/recover"' in created.text
    assert f'href="/portal/messages?endpoint={hook_id}"' in created.text

    taken = await portal.post("/portal/endpoints", endpoint_form(receiver.url, "invoice.paid"))
    assert taken.status == 409 and 'id="err-name"' in taken.text, taken.text
    assert len(await webhooks_of(svc, ws)) == 1

    edit = await portal.get(f"/portal/endpoints/{hook_id}/edit")
    assert edit.status == 200 and "Authorization: [redacted]" in edit.text
    assert "s3cret" not in edit.text
    masked = "X-Customer: 42\nAuthorization: [redacted]"
    changes = endpoint_form(
        receiver.url + "/hooks", "invoice.paid", "order.created", name="Billing v2", headers=masked
    )
    saved = await portal.post(f"/portal/endpoints/{hook_id}", changes)
    assert saved.status == 200 and "Saved." in saved.text and "Billing v2" in saved.text
    hook = await svc.ok("GET", f"/v1/workspaces/{ws}/webhooks/{hook_id}")
    assert hook["name"] == "Billing v2"
    assert hook["events"] == ["invoice.paid", "order.created"]

    disabled = await portal.post(f"/portal/endpoints/{hook_id}/disable")
    assert disabled.status == 200 and ">Enable</button>" in disabled.text
    assert (await svc.ok("GET", f"/v1/workspaces/{ws}/webhooks/{hook_id}"))["enabled"] is False
    assert ">disabled<" in (await portal.get("/portal/endpoints")).text
    enabled = await portal.post(f"/portal/endpoints/{hook_id}/enable")
    assert enabled.status == 200 and ">Disable</button>" in enabled.text
    assert (await svc.ok("GET", f"/v1/workspaces/{ws}/webhooks/{hook_id}"))["enabled"] is True

    revealed = await portal.post(f"/portal/endpoints/{hook_id}/secret")
    assert revealed.status == 200 and revealed.text.lstrip().startswith('<div id="secret"')
    secret = secret_in(revealed)

    tested = await portal.post(f"/portal/endpoints/{hook_id}/test")
    assert tested.status == 200, tested.text
    assert tested.text.lstrip().startswith('<div id="test-result"')
    assert "Delivered" in tested.text and '<strong class="test-status">200</strong>' in tested.text
    assert re.search(r'href="/portal/messages/evt_\w+"', tested.text), tested.text
    (arrived,) = await receiver.wait_for(1)
    assert arrived.path == "/hooks"
    assert arrived.headers["Authorization"] == "Bearer s3cret"
    assert arrived.headers["X-Customer"] == "42"
    assert json.loads(arrived.body) == {"invoice": "in_1", "amount": 1200}
    verify.verify("standard", arrived.body, arrived.headers, secret)

    rotated = await portal.post(f"/portal/endpoints/{hook_id}/rotate-secret")
    assert rotated.status == 200 and "shown this once" in rotated.text
    assert secret_in(rotated) != secret

    deleted = await portal.post(f"/portal/endpoints/{hook_id}/delete")
    assert deleted.status == 200 and "Endpoint Billing v2 deleted." in deleted.text
    assert await webhooks_of(svc, ws) == []
    assert (await portal.get(f"/portal/endpoints/{hook_id}")).status == 404

    entries = await audit(svc, ws)
    done = [(e["action"], e["target"]) for e in entries if e["action"].startswith("endpoint.")]
    assert done == [
        (action, hook_id)
        for action in (
            "endpoint.created", "endpoint.updated", "endpoint.disabled", "endpoint.enabled",
            "endpoint.secret_revealed", "endpoint.tested", "endpoint.secret_rotated",
            "endpoint.deleted",
        )
    ]  # fmt: skip
    assert {e["actor"] for e in entries if e["action"].startswith("endpoint.")} == {USER}
    updated = next(e for e in entries if e["action"] == "endpoint.updated")
    assert updated["detail"] == {"changed": ["name", "events"]}
    written = json.dumps(entries)
    assert "s3cret" not in written and secret not in written and "whsec_" not in written


async def test_a_link_limited_to_some_event_types(service: Service, receiver: Receiver) -> None:
    svc = service
    ws, _ = await svc.workspace()
    await catalog(svc, ws)
    portal = await open_portal(svc, ws, event_types=["invoice.*"])

    types = await portal.get("/portal/event-types")
    assert types.status == 200
    assert "invoice.paid" in types.text and "An invoice was paid in full." in types.text
    assert "<summary>Schema</summary>" in types.text
    assert "order.created" not in types.text
    new = await portal.get("/portal/endpoints/new")
    assert "All events<" not in new.text and "order.created" not in new.text
    assert "All invoice.* events" in new.text and "invoice.paid" in new.text
    # The picker shows each type's description, schema and example where it is chosen.
    assert "An invoice was paid in full." in new.text
    assert "<summary>Schema</summary>" in new.text and "<summary>Example</summary>" in new.text

    for refused in ("order.created", "*"):
        page = await portal.post("/portal/endpoints", endpoint_form(receiver.url, refused))
        assert page.status == 422, page.text
        assert 'id="err-events"' in page.text
        assert "not an event type you may subscribe to" in page.text
    assert await webhooks_of(svc, ws) == []

    created = await portal.post("/portal/endpoints", endpoint_form(receiver.url, "invoice.*"))
    assert created.status == 200, created.text
    (hook,) = await webhooks_of(svc, ws)
    tested = await portal.post(f"/portal/endpoints/{hook['id']}/test")
    assert "<code>invoice.paid</code>" in tested.text
    (arrived,) = await receiver.wait_for(1)
    assert json.loads(arrived.body)["invoice"] == "in_1"


async def test_a_flagged_type_is_only_for_a_link_with_its_flag(
    service: Service, receiver: Receiver
) -> None:
    svc = service
    ws, _ = await svc.workspace()
    await catalog(svc, ws)
    beta = {
        "name": "beta.thing",
        "description": "Something only the beta sees.",
        "example": {"beta": True},
        "feature_flags": ["beta"],
    }
    await svc.ok("POST", f"/v1/workspaces/{ws}/event-types", json=beta)

    without = await open_portal(svc, ws, feature_flags=["other"])
    types = await without.get("/portal/event-types")
    assert types.status == 200 and "invoice.paid" in types.text
    assert "beta.thing" not in types.text and "only the beta" not in types.text
    assert "beta.thing" not in (await without.get("/portal/endpoints/new")).text
    refused = await without.post("/portal/endpoints", endpoint_form(receiver.url, "beta.thing"))
    assert refused.status == 422, refused.text
    assert 'id="err-events"' in refused.text
    assert "&#39;beta.thing&#39; is not an event type you may subscribe to" in refused.text
    assert await webhooks_of(svc, ws) == []
    # A wildcard is not a name: it stays the customer's to choose (flags hide the catalog only).
    everything = await without.post("/portal/endpoints", endpoint_form(receiver.url, "*"))
    assert everything.status == 200, everything.text
    (hook,) = await webhooks_of(svc, ws)
    tested = await without.post(f"/portal/endpoints/{hook['id']}/test")
    assert tested.status == 200 and "<code>invoice.paid</code>" in tested.text, tested.text

    flagged = await open_portal(svc, ws, feature_flags=["beta"])
    types = await flagged.get("/portal/event-types")
    assert "beta.thing" in types.text and "Something only the beta sees." in types.text
    assert "invoice.paid" in types.text
    form = endpoint_form(receiver.url, "beta.thing", name="Beta")
    created = await flagged.post("/portal/endpoints", form)
    assert created.status == 200, created.text
    beta_hook = next(h for h in await webhooks_of(svc, ws) if h["name"] == "Beta")
    assert beta_hook["events"] == ["beta.thing"]
    tested = await flagged.post(f"/portal/endpoints/{beta_hook['id']}/test")
    assert "<code>beta.thing</code>" in tested.text, tested.text


async def test_a_read_only_link_has_no_actions(service: Service, receiver: Receiver) -> None:
    svc = service
    ws, _ = await svc.workspace()
    await catalog(svc, ws)
    hook = await svc.ok(
        "POST", f"/v1/workspaces/{ws}/webhooks", json={"name": "Orders", "url": receiver.url}
    )
    base = f"/portal/endpoints/{hook['id']}"
    portal = await open_portal(svc, ws, read_only=True, user=USER)

    for path in ("/portal/endpoints", base, "/portal/event-types"):
        page = await portal.get(path)
        assert page.status == 200, (path, page.text)
        assert "<button" not in page.text and "<form" not in page.text, path
        assert "hx-post" not in page.text, path
    listed = (await portal.get("/portal/endpoints")).text
    assert "Orders" in listed and "New endpoint" not in listed
    assert "/edit" not in (await portal.get(base)).text
    for path in ("/portal/endpoints/new", f"{base}/edit"):
        page = await portal.get(path)
        assert (page.status, page.error_code()) == (403, "read_only"), path

    form = endpoint_form(receiver.url, "invoice.paid", name="Changed")
    for path, sent in (
        ("/portal/endpoints", form), (base, form), (f"{base}/disable", ()),
        (f"{base}/enable", ()), (f"{base}/delete", ()), (f"{base}/secret", ()),
        (f"{base}/rotate-secret", ()), (f"{base}/test", ()),
    ):  # fmt: skip
        page = await portal.post(path, sent)
        assert (page.status, page.error_code()) == (403, "read_only"), (path, page.text)
    (kept,) = await webhooks_of(svc, ws)
    assert kept["name"] == "Orders" and kept["enabled"] is True
    assert receiver.requests == []
    actions = [e["action"] for e in await audit(svc, ws)]
    assert not any(a.startswith("endpoint.") for a in actions)


async def test_a_change_needs_the_csrf_token(service: Service, receiver: Receiver) -> None:
    svc = service
    ws, _ = await svc.workspace()
    hook = await svc.ok(
        "POST", f"/v1/workspaces/{ws}/webhooks", json={"name": "Orders", "url": receiver.url}
    )
    portal = await open_portal(svc, ws)
    without = {k: v for k, v in portal.headers.items() if k != "X-CSRF-Token"}
    wrong = portal.headers | {"X-CSRF-Token": "forged"}
    for headers in (without, wrong):
        page = await portal.post(f"/portal/endpoints/{hook['id']}/disable", headers=headers)
        assert (page.status, page.error_code()) == (403, "csrf_failed")
        create = endpoint_form(receiver.url, "*")
        page = await portal.post("/portal/endpoints", create, headers=headers)
        assert (page.status, page.error_code()) == (403, "csrf_failed")
    (kept,) = await webhooks_of(svc, ws)
    assert kept["enabled"] is True


async def test_only_the_workspaces_own_http_endpoints(service: Service, receiver: Receiver) -> None:
    """Another workspace's webhook, and the operator's flow members, are not the customer's:
    not listed, not found, not changed."""
    svc = service
    ws_a, _ = await svc.workspace("a")
    ws_b, _ = await svc.workspace("b")
    theirs = await svc.ok(
        "POST", f"/v1/workspaces/{ws_b}/webhooks", json={"name": "b-only", "url": receiver.url}
    )
    flow = await svc.ok("POST", f"/v1/workspaces/{ws_a}/flows", json={"name": "ops"})
    member = await svc.ok(
        "POST",
        f"/v1/workspaces/{ws_a}/webhooks",
        json={"name": "flow-member", "url": receiver.url, "flow": flow["id"]},
    )
    portal = await open_portal(svc, ws_a)
    listed = await portal.get("/portal/endpoints")
    assert "b-only" not in listed.text and "flow-member" not in listed.text
    for other in (theirs["id"], member["id"]):
        base = f"/portal/endpoints/{other}"
        for path in (base, f"{base}/edit"):
            page = await portal.get(path)
            assert page.status == 404, (path, page.text)
        for action in ("", "/enable", "/disable", "/delete", "/secret", "/rotate-secret", "/test"):
            form = endpoint_form(receiver.url, "*", name="taken") if action == "" else ()
            page = await portal.post(base + action, form)
            assert (page.status, page.error_code()) == (404, "not_found"), (action, page.text)
            assert "b-only" not in page.text and "flow-member" not in page.text
    kept = await svc.ok("GET", f"/v1/workspaces/{ws_b}/webhooks/{theirs['id']}")
    assert kept["name"] == "b-only" and kept["enabled"] is True
    assert receiver.requests == []
    assert await audit(svc, ws_b) == []


async def test_an_endpoint_hookline_disabled_says_so(service: Service, receiver: Receiver) -> None:
    svc = service
    ws, _ = await svc.workspace()
    hook = await svc.ok(
        "POST", f"/v1/workspaces/{ws}/webhooks", json={"name": "Gone", "url": receiver.url}
    )
    receiver.status = 410
    await svc.ok("POST", f"/v1/workspaces/{ws}/events", json={"type": "a.b", "payload": {}})
    await eventually(
        lambda: svc.ok("GET", f"/v1/workspaces/{ws}/webhooks/{hook['id']}"),
        lambda found: found["enabled"] is False,
        what="the webhook disabled after a 410",
    )
    portal = await open_portal(svc, ws)
    assert ">auto-disabled<" in (await portal.get("/portal/endpoints")).text
    page = await portal.get(f"/portal/endpoints/{hook['id']}")
    assert "Disabled automatically: endpoint answered 410 Gone" in page.text
    assert ">Enable</button>" in page.text


async def test_a_customer_sets_an_endpoints_rate_limit(
    service: Service, receiver: Receiver
) -> None:
    svc = service
    ws, _ = await svc.workspace()
    await catalog(svc, ws)
    portal = await open_portal(svc, ws, user=USER)
    form = [*endpoint_form(receiver.url, "invoice.paid"), ("rate_limit_per_second", "12.5")]
    created = await portal.post("/portal/endpoints", form)
    assert created.status == 200, created.text
    assert "12.5 messages per second" in created.text
    (hook,) = await webhooks_of(svc, ws)
    assert hook["rate_limit_per_second"] == 12.5
    edit = await portal.get(f"/portal/endpoints/{hook['id']}/edit")
    assert 'value="12.5"' in edit.text

    base = endpoint_form(receiver.url, "invoice.paid")
    for wrong in ("fast", "0", "1e9"):
        refused = await portal.post(
            f"/portal/endpoints/{hook['id']}", [*base, ("rate_limit_per_second", wrong)]
        )
        assert refused.status == 422, (wrong, refused.text[:300])
        assert 'id="err-rate_limit_per_second"' in refused.text, wrong
    cleared = await portal.post(
        f"/portal/endpoints/{hook['id']}", [*base, ("rate_limit_per_second", "")]
    )
    assert cleared.status == 200 and "none" in cleared.text
    stored = await svc.ok("GET", f"/v1/workspaces/{ws}/webhooks/{hook['id']}")
    assert stored["rate_limit_per_second"] is None
    updated = [e for e in await audit(svc, ws) if e["action"] == "endpoint.updated"]
    assert [e["detail"] for e in updated] == [{"changed": ["rate_limit_per_second"]}]


async def test_test_sends_the_event_type_the_customer_chooses(
    service: Service, receiver: Receiver
) -> None:
    svc = service
    ws, _ = await svc.workspace()
    await catalog(svc, ws)
    portal = await open_portal(svc, ws, user=USER)
    created = await portal.post(
        "/portal/endpoints", endpoint_form(receiver.url, "invoice.paid", "order.created")
    )
    assert created.status == 200, created.text
    (hook,) = await webhooks_of(svc, ws)
    assert '<select id="test-type" name="event_type">' in created.text
    assert '<option value="order.created">' in created.text

    tested = await portal.post(
        f"/portal/endpoints/{hook['id']}/test", [("event_type", "order.created")]
    )
    assert tested.status == 200 and '<strong class="test-status">200</strong>' in tested.text
    (arrived,) = await receiver.wait_for(1)
    assert arrived.headers["X-Hookline-Event-Type"] == "order.created"
    assert json.loads(arrived.body) == {"order": "or_1"}

    # A type the endpoint does not receive (or the link hides) is refused, and nothing is sent.
    refused = await portal.post(
        f"/portal/endpoints/{hook['id']}/test", [("event_type", "hookline.secret")]
    )
    assert refused.status == 422 and "not a type this endpoint receives" in refused.text
    assert len(receiver.requests) == 1
    limited = await open_portal(svc, ws, event_types=["invoice.*"])
    hidden = await limited.post(
        f"/portal/endpoints/{hook['id']}/test", [("event_type", "order.created")]
    )
    assert hidden.status == 422 and len(receiver.requests) == 1
