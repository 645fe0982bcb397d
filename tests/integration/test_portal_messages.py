"""The customer portal's message log, attempts, retry, recover and endpoint health, driven over
real HTTP as the portal's page drives them, against the real service (SQLite, the worker) and
real receivers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import html
import math
import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from hookline.domain.models import DeliveryStatus
from hookline.settings import Settings
from hookline.store import open_store
from tests.conftest import Receiver, Service, free_port, start_receiver, started
from tests.contract.test_health import _id_at
from tests.contract.test_store import claim, outcome
from tests.integration import portal_client
from tests.integration.engine_helpers import Api
from tests.polling import eventually

HOUR, DAY = 3600.0, 86_400.0
_ROW = re.compile(r'<a href="/portal/messages/(evt_[^"]+)">')
_ATTEMPT = re.compile(r'<details class="attempt"[^>]*>(.*?)</details>', re.S)


@pytest.fixture
async def service(tmp_path: Any) -> AsyncIterator[Service]:
    async for svc in started(f"sqlite:///{tmp_path}/hookline.db"):
        yield svc


@pytest.fixture
async def failing() -> AsyncIterator[Receiver]:
    """A receiver answering 500 (set ``status`` to change that)."""
    rec, runner = await start_receiver()
    rec.status = 500
    try:
        yield rec
    finally:
        await runner.cleanup()


class Customer:
    """One portal visitor: a link of a workspace, signed in; requests carry its headers."""

    def __init__(self, svc: Service, headers: dict[str, str]) -> None:
        self.svc, self.headers = svc, headers

    @classmethod
    async def open(cls, svc: Service, ws: str, **options: Any) -> Customer:
        made = await portal_client.link(svc, ws, **options)
        opened = await portal_client.sign_in(svc, made["token"])
        assert opened.status == 200, opened.text[:300]
        return cls(svc, opened.session())

    async def get(self, path: str) -> portal_client.Answer:
        return await portal_client.visit(self.svc, "GET", path, self.headers)

    async def post(self, path: str, form: dict[str, str] | None = None) -> portal_client.Answer:
        return await portal_client.visit(self.svc, "POST", path, self.headers, form or {})

    async def page(self, path: str) -> str:
        answer = await self.get(path)
        assert answer.status == 200, (path, answer.status, answer.text[:500])
        return answer.text


async def workspace(svc: Service, name: str = "acme") -> Api:
    ws, key = await svc.workspace(name)
    return Api(svc, ws, key)


async def hook(api: Api, url: str, events: list[str], **fields: Any) -> dict[str, Any]:
    body = {"name": url, "url": url, "events": events, "max_attempts": 1}
    made: dict[str, Any] = await api.ok("POST", "/webhooks", json=body | fields)
    return made


async def publish(api: Api, type: str, n: int = 1) -> tuple[str, list[str]]:
    """Publish one event; its id and its deliveries' ids, once every delivery has settled."""
    made = await api.publish({"n": n}, type=type)
    ids = [d["id"] for d in made["deliveries"]]
    for delivery_id in ids:
        await eventually(partial(api.delivery, delivery_id), lambda d: d["status"] != "pending")
    return made["id"], ids


def listed(text: str) -> list[str]:
    """The message ids of a message-log page, in their order."""
    return _ROW.findall(text)


def attempts(text: str) -> list[str]:
    """The text of each attempt block of a page."""
    return [html.unescape(block) for block in _ATTEMPT.findall(text)]


async def audit(svc: Service, ws: str) -> list[dict[str, Any]]:
    found = await svc.ok("GET", f"/v1/workspaces/{ws}/audit-log")
    return [e for e in found["data"] if not e["action"].startswith("portal")]


def local(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M")


async def test_the_message_log_lists_filters_and_pages(
    service: Service, receiver: Receiver, failing: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = await workspace(service)
    orders = await hook(api, receiver.url + "/orders", ["order.*"])
    invoices = await hook(api, failing.url + "/invoices", ["invoice.*"])
    first, _ = await publish(api, "order.created")
    second, _ = await publish(api, "invoice.paid")
    third, _ = await publish(api, "order.shipped")
    customer = await Customer.open(service, api.ws)

    everything = await customer.page("/portal/messages")
    assert listed(everything) == [third, second, first]  # newest first
    assert "<h1>Messages</h1>" in everything
    assert "status-succeeded" in everything and "status-failed" in everything
    assert "order.shipped" in everything and orders["name"] in everything

    assert listed(await customer.page("/portal/messages?status=failed")) == [second]
    assert listed(await customer.page("/portal/messages?status=succeeded")) == [third, first]
    assert listed(await customer.page("/portal/messages?status=pending")) == []
    by_hook = f"/portal/messages?endpoint={orders['id']}"
    assert listed(await customer.page(by_hook)) == [third, first]
    assert listed(await customer.page(f"{by_hook}&status=failed")) == []
    failed_invoices = f"/portal/messages?endpoint={invoices['id']}&status=failed"
    assert listed(await customer.page(failed_invoices)) == [second]
    assert listed(await customer.page("/portal/messages?type=order.shipped")) == [third]
    assert listed(await customer.page("/portal/messages?type=order.*")) == [third, first]
    wrong = await customer.get("/portal/messages?status=lost")
    assert wrong.status == 422 and "succeeded, failed or pending" in wrong.text

    monkeypatch.setattr("hookline.portal.message_pages.PAGE_SIZE", 2)
    newest = await customer.page("/portal/messages")
    assert listed(newest) == [third, second]
    assert ">Newer</a>" not in newest
    older = re.search(r'href="([^"]+)">Older</a>', newest)
    assert older is not None
    rest = await customer.page(html.unescape(older.group(1)))
    assert listed(rest) == [first]
    assert ">Older</a>" not in rest
    newer = re.search(r'href="([^"]+)">Newer</a>', rest)
    assert newer is not None
    back = await customer.page(html.unescape(newer.group(1)))
    assert listed(back) == [third, second]
    # Paging keeps the filters: two orders a page, then none older.
    orders_only = await customer.page("/portal/messages?type=order.*")
    assert listed(orders_only) == [third, first] and ">Older</a>" not in orders_only


async def test_the_message_log_keeps_a_time_range_and_finds_a_message_by_id(
    service: Service, receiver: Receiver
) -> None:
    api = await workspace(service)
    orders = await hook(api, receiver.url + "/orders", ["order.*"])
    first, _ = await publish(api, "order.created")
    # The next whole second: everything published after it is "from" it on.
    boundary = math.floor(time.time()) + 1
    await asyncio.sleep(boundary - time.time() + 0.05)
    second, _ = await publish(api, "order.shipped")
    customer = await Customer.open(service, api.ws)
    at = datetime.fromtimestamp(boundary, UTC).strftime("%Y-%m-%dT%H:%M:%S")

    assert listed(await customer.page(f"/portal/messages?since={at}")) == [second]
    assert listed(await customer.page(f"/portal/messages?until={at}")) == [first]
    by_hook = f"/portal/messages?endpoint={orders['id']}"
    assert listed(await customer.page(f"{by_hook}&since={at}")) == [second]
    assert listed(await customer.page(f"{by_hook}&until={at}")) == [first]
    kept = await customer.page(f"/portal/messages?since={at}")
    assert f'value="{at if not at.endswith(":00") else at[:16]}"' in kept  # the range drawn
    for wrong in ("yesterday", f"{at}Z"):
        refused = await customer.get(f"/portal/messages?since={wrong}")
        assert refused.status == 422 and "since" in refused.text, refused.text[:300]
    backwards = await customer.get(f"/portal/messages?since={at}&until={at}")
    assert backwards.status == 422 and "until" in backwards.text

    found = await customer.page(f"/portal/messages?id={first}")
    assert f'data-path="/portal/messages/{first}"' in found and "order.created" in found
    missing = await customer.get("/portal/messages?id=evt_nope")
    assert missing.status == 404


async def walk(customer: Customer, path: str, link: str) -> list[tuple[str, list[str]]]:
    """Each page met following the ``link`` ("Older" or "Newer") links: its path and ids."""
    pages = []
    while True:
        text = await customer.page(path)
        pages.append((path, listed(text)))
        found = re.search(rf'href="([^"]+)">{link}</a>', text)
        if found is None:
            return pages
        path = html.unescape(found.group(1))


async def test_pages_hold_only_what_the_link_sees_however_far_apart(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = await workspace(service)
    types = ["order.created"] * 3 + ["invoice.paid", "order.created", "invoice.sent"]
    types += ["order.created"] * 5 + ["invoice.paid"]
    made = [(await publish(api, t, n))[0] for n, t in enumerate(types)]
    invoices = [e for e, t in zip(made, types, strict=True) if t.startswith("invoice.")][::-1]
    limited = await Customer.open(service, api.ws, event_types=["invoice.*"])
    monkeypatch.setattr("hookline.portal.message_pages.PAGE_SIZE", 2)
    monkeypatch.setattr("hookline.services.portal_log_pages.SCAN_PAGES", 2)

    older = await walk(limited, "/portal/messages", "Older")
    # At most two store pages of two are read per page shown: a page may come short (five
    # orders in a row), and it links on to the rest.
    assert [e for _, ids in older for e in ids] == invoices
    assert [len(ids) for _, ids in older] == [1, 1, 1]
    newer = await walk(limited, older[-1][0], "Newer")
    assert [e for _, ids in reversed(newer) for e in ids][-len(invoices) :] == invoices
    assert newer[-1][1] == older[0][1]  # back at the newest page
    status = await walk(limited, "/portal/messages?type=invoice.paid", "Older")
    assert [e for _, ids in status for e in ids] == [invoices[0], invoices[2]]


async def test_a_message_shows_every_attempt_and_retry_sends_it_again(
    service: Service, failing: Receiver
) -> None:
    api = await workspace(service)
    made = await hook(api, failing.url + "/hooks", ["invoice.*"])
    refused = await hook(api, f"http://127.0.0.1:{free_port()}/down", ["invoice.*"])
    event, deliveries = await publish(api, "invoice.paid", n=7)
    customer = await Customer.open(service, api.ws)

    page = await customer.page(f"/portal/messages/{event}")
    assert f"<h1>Message <code>{event}</code></h1>" in page
    assert "&#34;n&#34;: 7" in page or "&quot;n&quot;: 7" in page  # the payload, pretty
    blocks = attempts(page)
    assert len(blocks) == 2
    [to_hook] = [b for b in blocks if "/hooks" in b]
    assert "HTTP 500" in to_hook
    assert f"POST {failing.url}/hooks" in to_hook
    assert "Request headers" in to_hook and "X-Hookline-Event-Type" in to_hook
    assert '"n": 7' in to_hook  # the request's body
    assert "Response headers" in to_hook and "text/plain" in to_hook
    assert "Status <code>500</code>" in to_hook and "<code>ok</code>" in to_hook
    [to_nowhere] = [b for b in blocks if "/down" in b]
    details = [await api.delivery(d) for d in deliveries]
    [down] = [d for d in details if d["webhook_id"] == refused["id"]]
    error_class = down["attempts"][0]["error_class"]
    assert error_class and error_class in to_nowhere
    assert page.count(">Retry</button>") == 2

    [failed] = [d for d in details if d["webhook_id"] == made["id"]]
    failing.status = 200
    answer = await customer.post(f"/portal/deliveries/{failed['id']}/retry")
    assert answer.status == 200, answer.text[:300]
    assert f'id="delivery-{failed["id"]}"' in answer.text and "Queued again" in answer.text
    done = await api.settled(failed["id"], "succeeded")
    assert [a["response"]["status"] for a in done["attempts"]] == [500, 200]
    again = attempts(await customer.page(f"/portal/messages/{event}"))
    assert [b for b in again if "HTTP 200" in b] and len(again) == 3
    fragment = await customer.page(f"/portal/deliveries/{failed['id']}")
    assert "HTTP 200" in fragment and "HTTP 500" in fragment

    [entry] = await audit(service, api.ws)
    assert (entry["action"], entry["target"]) == ("delivery.retried", failed["id"])


async def test_recover_queues_the_failed_messages_of_a_range_again(
    service: Service, failing: Receiver
) -> None:
    api = await workspace(service)
    made = await hook(api, failing.url + "/hooks", ["invoice.*", "order.*"])
    before = time.time() - 60
    failed = [(await publish(api, t))[1][0] for t in ("invoice.paid", "order.paid")]
    customer = await Customer.open(service, api.ws)
    base = f"/portal/endpoints/{made['id']}"

    form = await customer.page(base + "/recover")
    assert "<h1>Recover failed messages</h1>" in form and "UTC" in form
    assert 'type="datetime-local"' in form and ">Recover</button>" in form

    ahead = {"since": local(time.time() + HOUR), "until": local(time.time() + 2 * HOUR)}
    later = await customer.post(base + "/recover", ahead)
    assert "0 failed messages queued again" in later.text  # none made since then
    wrong = await customer.post(base + "/recover", {"since": local(before), "until": "soon"})
    assert wrong.status == 422 and "YYYY-MM-DDTHH:MM" in wrong.text
    backwards = {"since": local(before + HOUR), "until": local(before)}
    reversed_range = await customer.post(base + "/recover", backwards)
    assert reversed_range.status == 422 and "after since" in reversed_range.text

    failing.status = 200
    answer = await customer.post(base + "/recover", {"since": local(before), "until": ""})
    assert answer.status == 200 and "2 failed messages queued again" in answer.text
    for delivery_id in failed:
        await api.settled(delivery_id, "succeeded")
    recovered = [e for e in await audit(service, api.ws) if e["action"] == "endpoint.recovered"]
    assert [(e["target"], e["detail"]["queued"]) for e in recovered] == [
        (made["id"], 2),
        (made["id"], 0),
    ]
    assert recovered[0]["detail"]["since"] == pytest.approx(before // 60 * 60)


async def test_recover_through_a_limited_link_sends_again_only_the_types_it_sees(
    service: Service, failing: Receiver
) -> None:
    api = await workspace(service)
    made = await hook(api, failing.url + "/hooks", ["invoice.*", "order.*"])
    [invoice] = (await publish(api, "invoice.paid"))[1]
    [order] = (await publish(api, "order.paid"))[1]
    customer = await Customer.open(service, api.ws, event_types=["invoice.*"])
    failing.status = 200
    since = local(time.time() - HOUR)
    answer = await customer.post(f"/portal/endpoints/{made['id']}/recover", {"since": since})
    assert "1 failed message queued again" in answer.text
    await api.settled(invoice, "succeeded")
    assert (await api.delivery(order))["status"] == "failed"


async def test_health_counts_every_attempt_of_the_last_day_and_week(tmp_path: Any) -> None:
    async for svc in started(f"sqlite:///{tmp_path}/hookline.db", worker=False):
        api = await workspace(svc)
        made = await hook(api, "http://127.0.0.1:9/hooks", ["order.*"])
        now = time.time()
        # (started, HTTP status): three in the last day, two more in the week, one before.
        plan = [
            (now - 2 * HOUR, 200),
            (now - 5 * HOUR, 200),
            (now - 1 * HOUR, 500),
            (now - 3 * DAY, 204),
            (now - 4 * DAY, None),
            (now - 10 * DAY, 500),
        ]
        for n in range(len(plan)):
            await api.publish({"n": n}, type="order.created")
        store = await open_store(Settings(database_url=svc.settings.database_url))
        try:
            claimed = sorted(await claim(store, now + 1), key=lambda c: c.delivery.id)
            sent = []
            for n, (c, (at, code)) in enumerate(zip(claimed, plan, strict=True)):
                error = None if code else "connect_error"
                done = outcome(c, DeliveryStatus.FAILED, at=at, http_status=code, error=error)
                attempt = replace(done.attempt, id=_id_at(at + 0.0125, n))
                sent.append(replace(done, attempt=attempt))
            await store.queue.record(sent, now)
        finally:
            await store.close()
        customer = await Customer.open(svc, api.ws)
        base = f"/portal/endpoints/{made['id']}/health"

        day = await customer.page(base)
        assert "Health of" in day and ">Last 24 hours</a>" in day and ">Last 7 days</a>" in day
        assert re.search(r'aria-current="page">Last 24 hours', day)
        assert _stat(day, "Attempts") == "3" and _stat(day, "Failures") == "1"
        assert _stat(day, "Success rate") == "67 %"
        assert _stat(day, "Latency p50") == "15 ms"  # 12.5 ms, in the band up to 15
        assert "3 attempts" in day and day.count('<rect class="bad"') == 1
        assert day.count('<rect class="ok"') == 2

        week = await customer.page(base + "?window=7d")
        assert re.search(r'aria-current="page">Last 7 days', week)
        assert _stat(week, "Attempts") == "5" and _stat(week, "Failures") == "2"
        assert _stat(week, "Success rate") == "60 %"
        assert "5 attempts" in week and "per 6 hours" in week
        assert (await customer.get(base + "?window=1y")).status == 422
        assert ">Recover failed messages</a>" in week


def _stat(page: str, name: str) -> str:
    found = re.search(rf"<dt>{name}</dt><dd class=\"value\">([^<]*)</dd>", page)
    assert found is not None, name
    return found.group(1)


async def test_a_customer_sees_only_their_workspace_and_the_types_of_their_link(
    service: Service, failing: Receiver
) -> None:
    api, other = await workspace(service, "acme"), await workspace(service, "globex")
    mine = await hook(api, failing.url + "/mine", ["invoice.*", "order.*"])
    invoice, _ = await publish(api, "invoice.paid")
    order, [order_delivery] = await publish(api, "order.paid")
    theirs = await hook(other, failing.url + "/theirs", ["invoice.*"])
    foreign, [foreign_delivery] = await publish(other, "invoice.paid")
    customer = await Customer.open(service, api.ws)

    refused = [
        await customer.get(f"/portal/messages/{foreign}"),
        await customer.get(f"/portal/deliveries/{foreign_delivery}"),
        await customer.post(f"/portal/deliveries/{foreign_delivery}/retry"),
        await customer.get(f"/portal/endpoints/{theirs['id']}/health"),
        await customer.get(f"/portal/endpoints/{theirs['id']}/recover"),
        await customer.post(f"/portal/endpoints/{theirs['id']}/recover", {"since": local(0)}),
        await customer.get(f"/portal/messages?endpoint={theirs['id']}"),
    ]
    assert [a.status for a in refused] == [404] * len(refused)
    assert foreign not in await customer.page("/portal/messages")

    limited = await Customer.open(service, api.ws, event_types=["invoice.*"])
    assert listed(await limited.page("/portal/messages")) == [invoice]
    assert listed(await limited.page("/portal/messages?type=order.paid")) == []
    assert listed(await limited.page(f"/portal/messages?endpoint={mine['id']}")) == [invoice]
    assert (await limited.get(f"/portal/messages/{order}")).status == 404
    assert (await limited.post(f"/portal/deliveries/{order_delivery}/retry")).status == 404

    looker = await Customer.open(service, api.ws, read_only=True)
    page = await looker.page(f"/portal/messages/{invoice}")
    assert '<details class="attempt"' in page and ">Retry</button>" not in page
    recover = await looker.page(f"/portal/endpoints/{mine['id']}/recover")
    assert ">Recover</button>" not in recover and "<form" not in recover.split("<main")[1]
    health = await looker.page(f"/portal/endpoints/{mine['id']}/health")
    assert "Recover failed messages" not in health
    for answer in (
        await looker.post(f"/portal/deliveries/{order_delivery}/retry"),
        await looker.post(f"/portal/endpoints/{mine['id']}/recover", {"since": local(0)}),
    ):
        assert answer.status == 403 and "read-only" in answer.text
    assert (await api.delivery(order_delivery))["attempt_count"] == 1
    assert await audit(service, api.ws) == []


async def test_a_malformed_query_is_the_error_box_not_a_lost_page(service: Service) -> None:
    """A query no form of the portal sends (a crafted URL) answers the portal's error box,
    which the page shows in its message area, rather than JSON that would replace the page."""
    api = await workspace(service)
    customer = await Customer.open(service, api.ws)
    answer = await customer.get("/portal/messages?type=" + "x" * 300)
    assert answer.status == 422
    assert 'id="error-box"' in answer.text and "type" in answer.text
    assert answer.headers["HX-Retarget"] == "#flash"
