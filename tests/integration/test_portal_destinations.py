"""Broker destinations in the customer portal, on SQLite and PostgreSQL: a link's
``destination_kinds`` (made over REST, by ``hookline.Client``, by the CLI and on the dashboard's
page; a bad kind is a 422 naming it) lets its customer see and create endpoints of those kinds;
a broker URL's password never reaches a page and is kept when its mask is saved back; the Test
button publishes to a real Redis stream; a link without the kind neither shows the workspace's
broker endpoints nor lets the customer make one; links stored before the column existed are
HTTP-only."""

from __future__ import annotations

import asyncio
import html
import re
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from click.testing import CliRunner

from hookline.client import AsyncClient
from hookline.domain.ids import new_id
from hookline.domain.models import PortalLink
from hookline.store.migrate import downgrade, upgrade
from tests.brokers import REDIS, REDIS_URL, require_broker
from tests.conftest import Receiver, Service
from tests.contract.test_store import execute_raw, opened
from tests.integration import portal_client
from tests.integration.dashboard_client import DashboardClient, browserless

FormData = Sequence[tuple[str, str]]
PASSWORD = "pw-s3cr3t-broker"
MASKED = "%5Bredacted%5D"
_ERROR = re.compile(r'<p class="error" id="err-([\w.]+)">(.*?)</p>', re.DOTALL)


class Customer:
    """One customer's browser on the portal: each request carries the page's session headers."""

    def __init__(self, svc: Service, headers: dict[str, str]) -> None:
        self.svc, self.headers = svc, headers

    async def get(self, path: str) -> portal_client.Answer:
        return await portal_client.visit(self.svc, "GET", path, self.headers)

    async def post(self, path: str, form: FormData = ()) -> portal_client.Answer:
        async with self.svc.http.post(
            self.svc.url + path, data=list(form), headers=self.headers
        ) as r:
            return portal_client.Answer(r.status, await r.text(), r.headers.copy())


async def open_portal(svc: Service, ws: str, **options: Any) -> tuple[Customer, dict[str, Any]]:
    made = await portal_client.link(svc, ws, **options)
    signed_in = await portal_client.sign_in(svc, made["token"])
    assert signed_in.status == 200, signed_in.text[:500]
    return Customer(svc, signed_in.session()), made


def redis_form(
    name: str, url: str, stream: str, *, maxlen: str = "", kind: str = "redis"
) -> FormData:
    """The endpoint form as a browser sends it with the Redis destination chosen (the hidden
    HTTP URL field blank, as the form leaves it)."""
    return [
        ("name", name), ("kind", kind), ("url", ""), ("description", ""),
        ("redis.url", url), ("redis.stream", stream), ("redis.maxlen", maxlen),
        ("events", "*"), ("headers", ""), ("rate_limit_per_second", ""), ("enabled", "on"),
    ]  # fmt: skip


def field_errors(text: str) -> dict[str, str]:
    return {name: html.unescape(message) for name, message in _ERROR.findall(text)}


async def webhooks_of(svc: Service, ws: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = (await svc.ok("GET", f"/v1/workspaces/{ws}/webhooks"))["data"]
    return listed


async def audit(svc: Service, ws: str) -> list[dict[str, Any]]:
    found = await svc.ok("GET", f"/v1/workspaces/{ws}/audit-log?limit=500")
    entries: list[dict[str, Any]] = found["data"]
    return entries[::-1]  # oldest first


async def test_a_link_allowing_redis_lets_the_customer_create_and_edit_a_redis_endpoint(
    service: Service, receiver: Receiver
) -> None:
    svc = service
    ws, _ = await svc.workspace()
    portal, made = await open_portal(svc, ws, destination_kinds=["redis"], user="ann@example.com")
    assert made["destination_kinds"] == ["redis"]
    [listed_link] = (await svc.ok("GET", f"/v1/workspaces/{ws}/portal-links"))["data"]
    assert listed_link["destination_kinds"] == ["redis"]

    new = await portal.get("/portal/endpoints/new")
    assert new.status == 200
    assert 'name="kind" value="webhook" checked' in new.text
    assert 'name="kind" value="redis"' in new.text and "Redis Stream" in new.text
    assert 'name="redis.url"' in new.text and 'name="redis.stream"' in new.text
    assert 'data-kind-fields="redis" hidden' in new.text  # shown once Redis is chosen
    for other in ("rabbitmq", "nats", "mqtt"):
        assert f'value="{other}"' not in new.text and f'name="{other}.url"' not in new.text

    # Every problem beside its own field, the form kept as typed.
    bad = redis_form("Stream", "http://x", "", maxlen="x")
    refused = await portal.post("/portal/endpoints", bad)
    assert refused.status == 422, refused.text[:2000]
    errors = field_errors(refused.text)
    assert {"redis.url", "redis.stream", "redis.maxlen"} <= set(errors), errors
    assert 'data-kind-fields="redis">' in refused.text  # the Redis settings still shown
    assert await webhooks_of(svc, ws) == []

    secret_url = f"redis://:{PASSWORD}@127.0.0.1:6379/0"
    created = await portal.post(
        "/portal/endpoints", redis_form("Orders stream", secret_url, "orders", maxlen="1000")
    )
    assert created.status == 200, created.text[:2000]
    assert "Endpoint created" in created.text
    [hook] = await webhooks_of(svc, ws)
    assert (hook["kind"], hook["redis"]["stream"], hook["redis"]["maxlen"]) == (
        "redis", "orders", 1000,
    )  # fmt: skip
    assert hook["url"] is None and hook["enabled"] is True
    shown = "redis://127.0.0.1:6379/0?stream=orders&amp;maxlen=~1000"
    pages = [created.text]
    for path in ("/portal/endpoints", f"/portal/endpoints/{hook['id']}"):
        page = await portal.get(path)
        assert page.status == 200
        assert shown in page.text and "Redis Stream" in page.text, page.text[:3000]
        pages.append(page.text)
    edit = await portal.get(f"/portal/endpoints/{hook['id']}/edit")
    assert f'value="redis://:{MASKED}@127.0.0.1:6379/0"' in edit.text
    assert 'name="kind" value="redis" checked' in edit.text
    pages.append(edit.text)
    assert not [page for page in pages if PASSWORD in page]

    # The masked URL saved back keeps the password; the stream changes.
    masked = f"redis://:{MASKED}@127.0.0.1:6379/0"
    saved = await portal.post(
        f"/portal/endpoints/{hook['id']}", redis_form("Orders stream", masked, "orders-v2")
    )
    assert saved.status == 200 and "Saved." in saved.text, saved.text[:2000]
    assert PASSWORD not in saved.text
    path = f"/v1/workspaces/{ws}/webhooks/{hook['id']}"
    revealed = await svc.ok("GET", path + "?include_secret=true")
    assert revealed["redis"]["url"] == secret_url
    assert (revealed["redis"]["stream"], revealed["redis"]["maxlen"]) == ("orders-v2", None)

    # Back to HTTP: the Redis settings go with the kind.
    http_form = [(k, v) for k, v in redis_form("Orders", masked, "x") if k not in ("kind", "url")]
    moved = await portal.post(
        f"/portal/endpoints/{hook['id']}", [*http_form, ("kind", "webhook"), ("url", receiver.url)]
    )
    assert moved.status == 200, moved.text[:2000]
    now = await svc.ok("GET", path)
    assert (now["kind"], now["url"], now["redis"]) == ("webhook", receiver.url, None)

    entries = [(e["action"], e["actor"], e["detail"]) for e in await audit(svc, ws)]
    assert entries[-3:] == [
        ("endpoint.created", "ann@example.com",
         {"name": "Orders stream", "events": ["*"], "kind": "redis"}),
        ("endpoint.updated", "ann@example.com", {"changed": ["redis"]}),
        ("endpoint.updated", "ann@example.com", {"changed": ["name", "url", "kind", "redis"]}),
    ]  # fmt: skip
    assert PASSWORD not in str(entries)


async def test_the_test_button_publishes_to_the_redis_stream(service: Service) -> None:
    require_broker(REDIS)
    import redis.asyncio as aioredis

    svc = service
    ws, _ = await svc.workspace()
    stream = f"portal-{uuid.uuid4().hex[:12]}"
    portal, _ = await open_portal(svc, ws, destination_kinds=["redis", "mqtt"])
    created = await portal.post("/portal/endpoints", redis_form("Stream", REDIS_URL, stream))
    assert created.status == 200, created.text[:2000]
    [hook] = await webhooks_of(svc, ws)
    broker = aioredis.Redis.from_url(REDIS_URL)
    try:
        tested = await portal.post(f"/portal/endpoints/{hook['id']}/test")
        assert tested.status == 200, tested.text
        assert "Delivered" in tested.text, tested.text
        assert f"published to <code>redis://127.0.0.1:6379/0?stream={stream}</code>" in tested.text
        entries = await broker.xrange(stream)
        assert entries is not None and len(entries) == 1
    finally:
        await broker.delete(stream)
        await broker.aclose()
    event_id = re.search(r'href="/portal/messages/(evt_\w+)"', tested.text)
    assert event_id is not None, tested.text
    message = await portal.get(f"/portal/messages/{event_id.group(1)}")
    assert message.status == 200
    assert f"PUBLISH redis://127.0.0.1:6379/0?stream={stream}" in message.text
    assert [e["action"] for e in await audit(svc, ws)][-1] == "endpoint.tested"


async def test_a_link_without_the_kind_hides_broker_endpoints_and_refuses_one(
    service: Service, receiver: Receiver
) -> None:
    svc = service
    ws, _ = await svc.workspace()
    v1 = f"/v1/workspaces/{ws}"
    stream = {"name": "ops-stream", "kind": "redis", "redis": {"url": REDIS_URL, "stream": "ops"}}
    ops = await svc.ok("POST", f"{v1}/webhooks", json=stream)
    await svc.ok("POST", f"{v1}/webhooks", json={"name": "billing", "url": receiver.url})

    choices: list[dict[str, list[str]]] = [
        {},
        {"destination_kinds": []},
        {"destination_kinds": ["mqtt"]},
    ]
    for options in choices:
        portal, made = await open_portal(svc, ws, **options)
        assert made["destination_kinds"] == options.get("destination_kinds", [])
        listed = await portal.get("/portal/endpoints")
        assert "billing" in listed.text and "ops-stream" not in listed.text, options
        base = f"/portal/endpoints/{ops['id']}"
        for path in (base, f"{base}/edit", f"{base}/health"):
            assert (await portal.get(path)).status == 404, (options, path)
        for action in ("/enable", "/disable", "/delete", "/secret", "/test"):
            assert (await portal.post(base + action)).status == 404, (options, action)
        saved = await portal.post(base, redis_form("mine now", REDIS_URL, "ops"))
        assert saved.status == 404, options
        messages = await portal.get("/portal/messages")
        assert "ops-stream" not in messages.text

        new = await portal.get("/portal/endpoints/new")
        assert 'name="redis.url"' not in new.text
        assert ('name="kind"' in new.text) == bool(options.get("destination_kinds"))
        refused = await portal.post("/portal/endpoints", redis_form("sneaky", REDIS_URL, "s"))
        assert refused.status == 422, (options, refused.text[:2000])
        assert "&#39;redis&#39; is not a kind of endpoint this link lets you use" in refused.text
        if options.get("destination_kinds"):
            assert "kind" in field_errors(refused.text)  # beside the choice of destination
    hooks = await webhooks_of(svc, ws)
    assert sorted(h["name"] for h in hooks) == ["billing", "ops-stream"]
    kept = await svc.ok("GET", f"{v1}/webhooks/{ops['id']}")
    assert (kept["name"], kept["enabled"]) == ("ops-stream", True)
    actions = [e["action"] for e in await audit(svc, ws) if e["action"] != "portal.opened"]
    assert actions == ["portal_link.created"] * 3

    # The same workspace through a link that allows Redis: the operator's stream is listed.
    portal, _ = await open_portal(svc, ws, destination_kinds=["redis"])
    listed = await portal.get("/portal/endpoints")
    assert "ops-stream" in listed.text and "redis://127.0.0.1:6379/0?stream=ops" in listed.text


@pytest.mark.parametrize(
    ("kinds", "fields"),
    [
        (["redis", "kafka"], ["destination_kinds.1"]),
        (["webhook"], ["destination_kinds.0"]),
        (["email", "sqs"], ["destination_kinds.0", "destination_kinds.1"]),
        (["redis"] * 5, ["destination_kinds"]),
        ("redis", ["destination_kinds"]),
        ([1], ["destination_kinds.0"]),
    ],
)
async def test_a_bad_destination_kind_is_a_422_naming_it(
    service: Service, kinds: Any, fields: list[str]
) -> None:
    ws, _ = await service.workspace()
    body = {"destination_kinds": kinds}
    status, answer = await service.call("POST", f"/v1/workspaces/{ws}/portal-links", json=body)
    assert status == 422, answer
    assert sorted(e["field"] for e in answer["error"]["errors"]) == sorted(fields)
    assert (await service.ok("GET", f"/v1/workspaces/{ws}/portal-links"))["data"] == []


async def test_the_client_the_cli_and_the_dashboard_make_links_with_destination_kinds(
    service: Service, database_url: str
) -> None:
    from hookline.cli._main import main

    ws, key = await service.workspace()
    async with AsyncClient(service.url, key, workspace_id=ws) as client:
        made = await client.create_portal_link(destination_kinds=["redis", "nats", "redis"])
        assert made.destination_kinds == ("redis", "nats")  # each kind once
        plain = await client.create_portal_link()
        assert plain.destination_kinds == ()

    args = ["portal-link", "create", "--workspace", ws, "--database-url", database_url]
    runner = CliRunner()
    ok = await asyncio.to_thread(runner.invoke, main, [*args, "--destination-kind", "mqtt"])
    assert ok.exit_code == 0, ok.output
    bad = await asyncio.to_thread(runner.invoke, main, [*args, "--destination-kind", "kafka"])
    assert bad.exit_code == 2 and "destination_kinds.0" in bad.output, bad.output

    async with browserless() as http:
        visitor = DashboardClient(http, service.url)
        await visitor.sign_in(key)
        page = await visitor.get("/portal-admin")
        assert 'name="destination_kinds" value="redis"' in page.text
        form = {"csrf_token": page.csrf(), "expires_in": "3600", "destination_kinds": "nats"}
        done = await visitor.post("/portal-admin/links", form)
        assert done.status == 200, done.text[:1000]
        refused = await visitor.post("/portal-admin/links", form | {"destination_kinds": "x"})
        assert refused.status == 422 and 'id="err-destination_kinds"' in refused.text

    listed = (await service.ok("GET", f"/v1/workspaces/{ws}/portal-links"))["data"]
    assert sorted(tuple(k["destination_kinds"]) for k in listed) == [
        (), ("mqtt",), ("nats",), ("redis", "nats"),
    ]  # fmt: skip
    created = [e for e in await audit(service, ws) if e["action"] == "portal_link.created"]
    assert [e["detail"].get("destination_kinds") for e in created] == [
        ["redis", "nats"], None, ["mqtt"], ["nats"],
    ]  # fmt: skip


async def test_links_stored_before_the_migration_allow_http_only(database_url: str) -> None:
    """Migration 0011 adds the column to a database holding links (on both databases), which
    read as HTTP-only; going back down drops it and keeps the links."""
    await asyncio.to_thread(upgrade, database_url)  # the SQLite one comes empty
    await asyncio.to_thread(downgrade, database_url, "0010")
    old_id = new_id("pl")
    await execute_raw(
        database_url,
        "INSERT INTO portal_links (id, workspace_id, token_hash, created_at, expires_at,"
        f" read_only, created_by) VALUES ('{old_id}', 'ws_1', 'hash-old', 1.0, 9e9, 0, 'admin')",
    )
    await asyncio.to_thread(upgrade, database_url)
    new = PortalLink(new_id("pl"), "ws_1", "hash-new", 1.0, 9e9, "admin",
                     destination_kinds=("redis", "mqtt"))  # fmt: skip
    async with opened(database_url) as store:
        old = await store.portal.get_link("ws_1", old_id, 2.0)
        assert old is not None and old.destination_kinds == ()
        await store.portal.create_link(new)
        assert await store.portal.find_link("hash-new", 2.0) == new
    stored = await execute_raw(
        database_url, f"SELECT destination_kinds FROM portal_links WHERE id = '{new.id}'"
    )
    assert stored == ['["redis","mqtt"]']
    await asyncio.to_thread(downgrade, database_url, "0010")
    assert await execute_raw(database_url, "SELECT count(*) FROM portal_links") == [2]
    await asyncio.to_thread(upgrade, database_url)
