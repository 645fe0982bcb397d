"""The delivery log (``store.log``): a workspace's events, attempts and deliveries read across
its webhooks, filtered and paged in either direction, deliveries counted by state, and content
expunged: the same answers from both databases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hookline.domain.models import Delivery, Event, Webhook
from hookline.domain.publication import new_delivery, new_event
from hookline.store import DeliveryCounts, LogAttempt, LogDelivery, LogQuery, Store
from tests.contract.test_store import (
    FAILED,
    PENDING,
    SUCCEEDED,
    T0,
    claim,
    outcome,
    webhook,
    workspace,
)


async def post(
    store: Store,
    ws: str,
    hooks: Sequence[Webhook] = (),
    *,
    at: float = T0,
    type: str = "order.created",
    channels: Sequence[str] = (),
    tags: Sequence[str] = (),
    key: str | None = None,
) -> tuple[Event, list[Delivery]]:
    """Publish an event at ``at`` with one delivery per webhook given."""
    event = new_event(ws, type, {"at": at}, key, at, channels=channels, tags=tags)
    found = await store.publishing.publish(event, [new_delivery(event, h.id, at) for h in hooks])
    return found.event, found.deliveries


def attempt_ids(items: Sequence[LogAttempt]) -> list[str]:
    return [item.attempt.id for item in items]


# -- events -----------------------------------------------------------------------------------
async def test_events_are_listed_newest_first_and_paged_both_ways(store: Store, ws: str) -> None:
    e0, e1, e2, e3, e4 = [(await post(store, ws, at=T0 + i))[0] for i in range(5)]
    await post(store, await workspace(store, "other"), at=T0 + 9)

    async def page(**q: Any) -> tuple[list[str], bool]:
        found = await store.log.list_events(ws, LogQuery(**q))
        return [e.id for e in found.items], found.more

    assert (await store.log.list_events(ws, LogQuery(limit=1))).items == [e4]
    assert await page() == ([e4.id, e3.id, e2.id, e1.id, e0.id], False)
    assert await page(limit=5) == ([e4.id, e3.id, e2.id, e1.id, e0.id], False)
    assert await page(limit=2) == ([e4.id, e3.id], True)
    assert await page(limit=2, cursor=e3.id) == ([e2.id, e1.id], True)
    assert await page(limit=2, cursor=e1.id) == ([e0.id], False)
    assert await page(cursor=e0.id) == ([], False)
    # A page back: the events just after the cursor, still shown newest first.
    assert await page(limit=2, cursor=e0.id, backwards=True) == ([e2.id, e1.id], True)
    assert await page(limit=2, cursor=e2.id, backwards=True) == ([e4.id, e3.id], False)
    assert await page(limit=3, cursor=e1.id, backwards=True) == ([e4.id, e3.id, e2.id], False)
    assert await page(cursor=e4.id, backwards=True) == ([], False)


async def test_events_are_filtered_by_time_type_channel_and_tag(store: Store, ws: str) -> None:
    async def named(at: float, type: str, channels: Sequence[str] = (), tags: Sequence[str] = ()
                    ) -> str:  # fmt: skip
        return (await post(store, ws, at=T0 + at, type=type, channels=channels, tags=tags))[0].id

    eu = await named(0, "order.created", ["eu"], ["batch-7"])
    us_eu = await named(1, "order.paid", ["us", "eu"])
    europe = await named(2, "order.created", ["europe"], ["batch-70"])
    e_u = await named(3, "order.paid", ["e_u"], ["b%7"])
    eau = await named(4, "order.created", ["eau"], ["bX7"])
    upper = await named(5, "user.created", ["EU"])
    plain = await named(6, "user.created")
    await post(store, await workspace(store, "other"), channels=["eu"])

    async def listed(**q: Any) -> list[str]:
        return [e.id for e in (await store.log.list_events(ws, LogQuery(**q))).items]

    assert await listed(after=T0 + 1, before=T0 + 4) == [e_u, europe]  # both bounds exclusive
    assert await listed(after=T0 + 5) == [plain]
    assert await listed(event_types=("order.paid",)) == [e_u, us_eu]
    assert await listed(event_types=("order.paid", "user.created")) == [plain, upper, e_u, us_eu]
    # A channel is a whole name of the list, in its case; LIKE's wildcards match themselves.
    assert await listed(channel="eu") == [us_eu, eu]
    assert await listed(channel="us") == [us_eu]
    assert await listed(channel="e_u") == [e_u]
    assert await listed(channel="EU") == [upper]
    assert await listed(channel="e%") == []
    assert await listed(channel="eu%") == []
    assert await listed(tag="batch-7") == [eu]
    assert await listed(tag="b%7") == [e_u]
    assert await listed(tag="b_7") == []
    assert await listed(channel="eu", event_types=("order.paid",)) == [us_eu]
    assert await listed(channel="eu", before=T0 + 1) == [eu]
    assert await listed(channel="eu", tag="batch-7") == [eu]
    assert await listed(channel="nowhere") == []
    assert len(await listed()) == 7  # eau and the rest are there unfiltered
    assert eau in await listed(channel="eau")


async def test_an_event_is_found_by_its_key_and_its_payload_expunged(store: Store, ws: str) -> None:
    hook = await webhook(store, ws)
    keyed, _ = await post(store, ws, [hook], key="order-1")
    other_ws = await workspace(store, "other")
    theirs, _ = await post(store, other_ws, key="order-1")
    assert await store.log.find_event_by_key(ws, "order-1") == keyed
    assert await store.log.find_event_by_key(other_ws, "order-1") == theirs
    assert await store.log.find_event_by_key(ws, "order-2") is None
    [c] = await claim(store, T0)
    sent = outcome(c, SUCCEEDED, at=T0)
    sent = replace(sent, attempt=replace(sent.attempt, request_body_is_event=True))
    await store.queue.record([sent], T0)

    assert await store.log.expunge_event(ws, theirs.id) is False  # another workspace's
    assert await store.log.expunge_event(ws, "evt_missing") is False
    assert await store.log.expunge_event(ws, keyed.id) is True
    assert await store.history.get_event(ws, keyed.id) == replace(keyed, body="{}")
    assert await store.history.get_event(other_ws, theirs.id) == theirs
    found = await store.log.get_attempt(ws, sent.attempt.id)
    assert found is not None and found.attempt.request_body == "{}"  # sent unchanged: gone too


# -- attempts ---------------------------------------------------------------------------------
@dataclass
class Sent:
    """Four events sent to ``hook`` (one also to ``other``), one attempt each, by name."""

    hook: Webhook
    other: Webhook
    events: dict[str, Event]
    deliveries: dict[str, Delivery]
    attempts: dict[str, str]


async def sent(store: Store, ws: str) -> Sent:
    """ok: 200 at T0+10 (and to ``other``); err: 500 at T0+11; timeout: no answer at T0+12;
    odd: a 200 with an error at T0+13. Events made at T0..T0+3, attempt ids in that order."""
    hook, other = await webhook(store, ws, "hook"), await webhook(store, ws, "other")
    ok, (ok_d, other_d) = await post(store, ws, [hook, other], type="order.paid",
                                     channels=["eu"], tags=["vip"])  # fmt: skip
    err, [err_d] = await post(store, ws, [hook], at=T0 + 1, channels=["us"])
    timeout, [timeout_d] = await post(store, ws, [hook], at=T0 + 2)
    odd, [odd_d] = await post(store, ws, [hook], at=T0 + 3, type="order.updated")
    by = {c.delivery.id: c for c in await claim(store, T0 + 10)}
    outcomes = [
        outcome(by[ok_d.id], SUCCEEDED, at=T0 + 10),
        outcome(by[other_d.id], SUCCEEDED, at=T0 + 10),
        outcome(by[err_d.id], PENDING, at=T0 + 11, http_status=500, retry_at=T0 + 100),
        outcome(by[timeout_d.id], PENDING, at=T0 + 12, http_status=None, error="timed out",
                retry_at=T0 + 100),
        outcome(by[odd_d.id], FAILED, at=T0 + 13, error="answer too large"),
    ]  # fmt: skip
    await store.queue.record(outcomes, T0 + 13)
    names = ("ok", "other", "err", "timeout", "odd")
    return Sent(
        hook,
        other,
        {"ok": ok, "err": err, "timeout": timeout, "odd": odd},
        dict(zip(names, (ok_d, other_d, err_d, timeout_d, odd_d), strict=True)),
        {name: o.attempt.id for name, o in zip(names, outcomes, strict=True)},
    )


async def test_a_webhooks_attempts_are_filtered_by_outcome_code_time_and_event(
    store: Store, ws: str
) -> None:
    s = await sent(store, ws)
    a = s.attempts

    async def listed(**q: Any) -> list[str]:
        page = await store.log.list_webhook_attempts(ws, s.hook.id, LogQuery(**q))
        return attempt_ids(page.items)

    assert await listed() == [a["odd"], a["timeout"], a["err"], a["ok"]]
    assert await listed(outcome=0) == [a["ok"]]
    assert await listed(outcome=2) == [a["odd"], a["timeout"], a["err"]]
    assert await listed(code_class=200) == [a["odd"], a["ok"]]
    assert await listed(code_class=500) == [a["err"]]
    assert await listed(code_class=0) == [a["timeout"]]  # no answer at all
    assert await listed(code_class=400) == []
    assert await listed(outcome=2, code_class=200) == [a["odd"]]
    assert await listed(after=T0 + 10, before=T0 + 13) == [a["timeout"], a["err"]]
    assert await listed(channel="eu") == [a["ok"]]
    assert await listed(tag="vip") == [a["ok"]]
    assert await listed(event_types=("order.created",)) == [a["timeout"], a["err"]]
    assert await listed(event_types=("order.paid", "order.updated")) == [a["odd"], a["ok"]]
    other = await store.log.list_webhook_attempts(ws, s.other.id, LogQuery())
    assert attempt_ids(other.items) == [a["other"]]
    assert (await store.log.list_webhook_attempts("ws_other", s.hook.id, LogQuery())).items == []


async def test_only_a_2xx_answer_is_a_success_and_codes_class_by_hundreds(
    store: Store, ws: str
) -> None:
    hook = await webhook(store, ws)
    for i in range(4):
        await post(store, ws, [hook], at=T0 + i)
    claimed = sorted(await claim(store, T0 + 10), key=lambda c: c.delivery.id)
    codes = (199, 200, 299, 300)
    outcomes = [outcome(c, FAILED, at=T0 + 10, http_status=code)
                for c, code in zip(claimed, codes, strict=True)]  # fmt: skip
    await store.queue.record(outcomes, T0 + 10)
    by_code = {o.attempt.response_status: o.attempt.id for o in outcomes}

    async def listed(**q: Any) -> list[str]:
        page = await store.log.list_webhook_attempts(ws, hook.id, LogQuery(**q))
        return attempt_ids(page.items)

    assert await listed(outcome=0) == [by_code[299], by_code[200]]
    assert await listed(outcome=2) == [by_code[300], by_code[199]]
    assert await listed(code_class=100) == [by_code[199]]
    assert await listed(code_class=200) == [by_code[299], by_code[200]]
    assert await listed(code_class=300) == [by_code[300]]
    assert await listed(code_class=0) == []


async def test_a_webhooks_attempts_are_paged_both_ways(store: Store, ws: str) -> None:
    s = await sent(store, ws)
    a = s.attempts

    async def page(**q: Any) -> tuple[list[str], bool]:
        found = await store.log.list_webhook_attempts(ws, s.hook.id, LogQuery(**q))
        return attempt_ids(found.items), found.more

    assert await page(limit=2) == ([a["odd"], a["timeout"]], True)
    assert await page(limit=2, cursor=a["timeout"]) == ([a["err"], a["ok"]], False)
    assert await page(limit=1, cursor=a["err"], backwards=True) == ([a["timeout"]], True)
    assert await page(limit=2, cursor=a["timeout"], backwards=True) == ([a["odd"]], False)
    assert await page(limit=1, outcome=2, cursor=a["odd"]) == ([a["timeout"]], True)
    assert await page(limit=1, outcome=2, cursor=a["err"], backwards=True) == (
        [a["timeout"]], True,
    )  # fmt: skip


async def test_an_attempt_carries_its_event_and_whether_it_was_sent_by_hand(
    store: Store, ws: str
) -> None:
    s = await sent(store, ws)
    found = await store.log.get_attempt(ws, s.attempts["err"])
    assert found is not None
    assert (found.event, found.manual) == (s.events["err"], False)
    assert (found.attempt.number, found.attempt.response_status) == (1, 500)
    listed = await store.log.list_webhook_attempts(ws, s.hook.id, LogQuery(code_class=500))
    assert listed.items == [found]
    assert await store.log.get_attempt("ws_other", s.attempts["err"]) is None
    assert await store.log.get_attempt(ws, "att_missing") is None

    # Sent again by hand: its next attempt is manual, the one after it is the schedule's.
    assert await store.history.retry_delivery(ws, s.deliveries["err"].id, T0 + 20) is True
    [c] = await claim(store, T0 + 20)
    await store.queue.record([outcome(c, PENDING, at=T0 + 20, retry_at=T0 + 30)], T0 + 20)
    [c] = await claim(store, T0 + 30)
    await store.queue.record([outcome(c, FAILED, at=T0 + 30, http_status=500)], T0 + 30)
    page = await store.log.list_event_attempts(ws, s.events["err"].id, LogQuery())
    assert [(x.attempt.number, x.manual) for x in page.items] == [(3, False), (2, True), (1, False)]
    assert {x.event for x in page.items} == {s.events["err"]}


async def test_an_events_attempts_to_each_webhook(store: Store, ws: str) -> None:
    s = await sent(store, ws)
    a, ok = s.attempts, s.events["ok"].id

    async def page(**q: Any) -> tuple[list[str], bool]:
        found = await store.log.list_event_attempts(ws, ok, LogQuery(**q))
        return attempt_ids(found.items), found.more

    assert await page() == ([a["other"], a["ok"]], False)
    assert await page(webhook_id=s.hook.id) == ([a["ok"]], False)
    assert await page(webhook_id=s.other.id) == ([a["other"]], False)
    assert await page(outcome=2) == ([], False)
    assert await page(limit=1) == ([a["other"]], True)
    assert await page(limit=1, cursor=a["other"]) == ([a["ok"]], False)
    assert await page(limit=1, cursor=a["ok"], backwards=True) == ([a["other"]], False)
    assert (await store.log.list_event_attempts("ws_other", ok, LogQuery())).items == []


async def test_expunging_an_attempt_forgets_the_answer(store: Store, ws: str) -> None:
    s = await sent(store, ws)
    ok, other = s.attempts["ok"], s.attempts["other"]
    before = await store.log.get_attempt(ws, ok)
    assert before is not None and before.attempt.response_body == "ok"
    assert await store.log.expunge_attempt("ws_other", ok) is False
    assert await store.log.expunge_attempt(ws, "att_missing") is False
    assert await store.log.expunge_attempt(ws, ok) is True
    after = await store.log.get_attempt(ws, ok)
    assert after is not None
    assert after.attempt == replace(before.attempt, response_body="", response_headers={})
    untouched = await store.log.get_attempt(ws, other)
    assert untouched is not None
    assert (untouched.attempt.response_body, untouched.attempt.response_headers) == (
        "ok", {"x-reply": "1"},
    )  # fmt: skip


# -- deliveries -------------------------------------------------------------------------------
async def test_a_webhooks_deliveries_with_their_events(store: Store, ws: str) -> None:
    s = await sent(store, ws)
    now: dict[str, Delivery] = {}
    for name, made in s.deliveries.items():
        found = await store.history.get_delivery(ws, made.id)
        assert found is not None
        now[name] = found

    def of(*names: str) -> list[LogDelivery]:
        return [LogDelivery(now[name], s.events[name]) for name in names]

    async def listed(**q: Any) -> list[LogDelivery]:
        return (await store.log.list_webhook_deliveries(ws, s.hook.id, LogQuery(**q))).items

    assert await listed() == of("odd", "timeout", "err", "ok")
    assert await listed(status=SUCCEEDED) == of("ok")
    assert await listed(status=PENDING) == of("timeout", "err")
    assert await listed(status=FAILED) == of("odd")
    assert await listed(channel="eu") == of("ok")
    assert await listed(tag="vip") == of("ok")
    assert await listed(event_types=("order.created",)) == of("timeout", "err")
    assert await listed(after=T0, before=T0 + 3) == of("timeout", "err")
    assert await listed(status=PENDING, channel="us") == of("err")
    assert await listed(status=FAILED, channel="eu") == []
    others = await store.log.list_webhook_deliveries(ws, s.other.id, LogQuery())
    assert [x.delivery.id for x in others.items] == [s.deliveries["other"].id]
    assert (await store.log.list_webhook_deliveries("ws_other", s.hook.id, LogQuery())).items == []

    async def page(**q: Any) -> tuple[list[str], bool]:
        found = await store.log.list_webhook_deliveries(ws, s.hook.id, LogQuery(**q))
        return [x.delivery.id for x in found.items], found.more

    d = {name: x.id for name, x in s.deliveries.items()}
    assert await page(limit=2) == ([d["odd"], d["timeout"]], True)
    assert await page(limit=2, cursor=d["timeout"]) == ([d["err"], d["ok"]], False)
    assert await page(limit=2, cursor=d["err"], backwards=True) == ([d["odd"], d["timeout"]], False)
    assert await page(limit=1, cursor=d["ok"], backwards=True) == ([d["err"]], True)


async def test_an_events_deliveries_and_the_latest_to_a_webhook(store: Store, ws: str) -> None:
    hook, other = await webhook(store, ws, "hook"), await webhook(store, ws, "other")
    event, [first, second, theirs] = await post(store, ws, [hook, hook, other])
    await post(store, ws, [hook])  # a later event's delivery is not this event's

    async def page(**q: Any) -> tuple[list[Delivery], bool]:
        found = await store.log.list_event_deliveries(ws, event.id, LogQuery(**q))
        return found.items, found.more

    assert await page() == ([theirs, second, first], False)
    assert await page(limit=2) == ([theirs, second], True)
    assert await page(limit=2, cursor=second.id) == ([first], False)
    assert await page(limit=1, cursor=first.id, backwards=True) == ([second], True)
    assert await page(limit=2, cursor=first.id, backwards=True) == ([theirs, second], False)
    assert (await store.log.list_event_deliveries("ws_other", event.id, LogQuery())).items == []

    assert await store.log.latest_delivery(ws, event.id, hook.id) == second
    assert await store.log.latest_delivery(ws, event.id, other.id) == theirs
    assert await store.log.latest_delivery("ws_other", event.id, hook.id) is None
    assert await store.log.latest_delivery(ws, "evt_missing", hook.id) is None


async def test_a_webhooks_deliveries_are_counted_by_state_in_a_window(
    store: Store, ws: str
) -> None:
    hook, other = await webhook(store, ws, "hook"), await webhook(store, ws, "other")

    async def made(at: float, due: float, to: Webhook = hook) -> Delivery:
        event = new_event(ws, "order.created", {}, None, at)
        delivery = new_delivery(event, to.id, at, due=due)
        return (await store.publishing.publish(event, [delivery])).deliveries[0]

    await made(T0 - 1, T0 + 1000)  # before the window
    ok, failed = await made(T0, T0), await made(T0 + 1, T0)
    await made(T0 + 2, T0 + 1000)  # waiting
    sending = await made(T0 + 3, T0 + 6)
    await made(T0 + 10, T0 + 1000)  # at the window's end: outside
    await made(T0 + 1, T0 + 1000, other)
    by = {c.delivery.id: c for c in await claim(store, T0 + 5)}
    assert set(by) == {ok.id, failed.id}
    await store.queue.record(
        [outcome(by[ok.id], SUCCEEDED, at=T0 + 5),
         outcome(by[failed.id], FAILED, at=T0 + 5, http_status=500)], T0 + 5,
    )  # fmt: skip
    assert [c.delivery.id for c in await claim(store, T0 + 6, lease=60)] == [sending.id]

    async def counts(since: float, until: float, now: float) -> DeliveryCounts:
        return await store.log.count_deliveries(ws, hook.id, since, until, now)

    assert await counts(T0, T0 + 10, T0 + 7) == DeliveryCounts(1, 1, 1, 1)
    assert await counts(T0, T0 + 10, T0 + 100) == DeliveryCounts(1, 1, 2, 0)  # lease ran out
    assert await counts(T0 - 1, T0 + 11, T0 + 7) == DeliveryCounts(1, 1, 3, 1)
    assert await counts(T0 + 1, T0 + 3, T0 + 7) == DeliveryCounts(0, 1, 1, 0)
    assert await store.log.count_deliveries(ws, other.id, T0, T0 + 10, T0 + 7) == DeliveryCounts(
        0, 0, 1, 0
    )
    assert await store.log.count_deliveries("ws_other", hook.id, T0, T0 + 10, T0 + 7) == (
        DeliveryCounts(0, 0, 0, 0)
    )
