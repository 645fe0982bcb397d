"""One worker's per-webhook scheduling (pure logic): the adaptive limit, the claim terms and
admission that follow from it, the held deliveries taking turns, and the rate's throttle."""

from __future__ import annotations

from dataclasses import replace

from hookline.delivery.scheduler import Scheduler, Throttle, found_all_due
from hookline.domain.models import Claimed
from tests.unit.claims import T0
from tests.unit.claims import claimed as _claimed


def _scheduler(ceiling: int = 8, slots: int = 100, stale_after: float = 60) -> Scheduler:
    return Scheduler(ceiling, slots, stale_after=stale_after)


def _ids(taken: list[Claimed | None]) -> list[str | None]:
    return [None if c is None else c.delivery.id for c in taken]


def _answered(scheduler: Scheduler, webhook_id: str, times: int) -> None:
    for _ in range(times):
        scheduler.observe(webhook_id, None)


# -- the limit -----------------------------------------------------------------------------------
def test_a_new_webhook_starts_at_a_quarter_and_grows_by_one_per_answer() -> None:
    scheduler = _scheduler(ceiling=20, slots=200)
    assert scheduler.limit("wh_a") == 5
    _answered(scheduler, "wh_a", 3)
    assert scheduler.limit("wh_a") == 8
    for _ in range(100):
        scheduler.observe("wh_a", "http_status")  # an HTTP error is still an answer
    assert scheduler.limit("wh_a") == 20


def test_timeouts_halve_the_limit_down_to_one_and_mark_the_webhook_failing() -> None:
    scheduler = _scheduler(ceiling=20, slots=200)
    _answered(scheduler, "wh_a", 20)
    scheduler.observe("wh_a", "timeout")
    assert scheduler.limit("wh_a") == 10
    assert scheduler.is_failing("wh_a")
    for error in ("connect", "timeout", "dns", "tls", "protocol", "timeout"):
        scheduler.observe("wh_a", error)
    assert scheduler.limit("wh_a") == 1
    scheduler.observe("wh_a", None)
    assert not scheduler.is_failing("wh_a")
    assert scheduler.limit("wh_a") == 2


def test_refusals_before_sending_and_email_refusals_change_nothing() -> None:
    scheduler = _scheduler(ceiling=8, slots=10)
    for error in ("blocked", "invalid_request", "smtp", "smtp_auth", "template_too_large"):
        scheduler.observe("wh_a", error)
    assert scheduler.limit("wh_a") == 2
    assert not scheduler.is_failing("wh_a")


def test_small_ceilings_never_go_below_one() -> None:
    scheduler = _scheduler(ceiling=1, slots=4)
    assert scheduler.limit("wh_a") == 1
    scheduler.observe("wh_a", "timeout")
    assert scheduler.limit("wh_a") == 1
    scheduler.observe("wh_a", None)
    assert scheduler.limit("wh_a") == 1


def test_a_webhook_holds_four_times_its_limit_and_only_its_limit_while_failing() -> None:
    scheduler = _scheduler(ceiling=20, slots=200)
    assert (scheduler.limit("a"), scheduler.hold_cap("a")) == (5, 20)
    scheduler.observe("a", "timeout")
    assert (scheduler.limit("a"), scheduler.hold_cap("a")) == (2, 2)
    assert scheduler.failing_share == 50  # failing webhooks share a quarter of the slots
    assert _scheduler(ceiling=1, slots=2).failing_share == 1


# -- claims and admission ------------------------------------------------------------------------
def test_claim_terms_give_each_webhook_its_room() -> None:
    scheduler = _scheduler()
    assert scheduler.claim_terms(T0) == (set(), {}, 8)  # unseen webhooks: the slow-start hold cap
    scheduler.hold([_claimed("a", 0)], T0)
    _answered(scheduler, "b", 4)  # b's limit grew from 2 to 6: it may hold 24
    scheduler.hold([_claimed("b", n) for n in range(5)], T0)
    assert scheduler.claim_terms(T0) == (set(), {"a": 7, "b": 19}, 8)
    scheduler.hold([_claimed("b", n) for n in range(5, 24)], T0)
    assert scheduler.claim_terms(T0) == ({"b"}, {"a": 7}, 8)  # b holds its cap: left out


def test_a_webhook_that_answers_fast_may_hold_its_pace_held_or_not() -> None:
    scheduler = _scheduler(ceiling=20, slots=200)
    _answered(scheduler, "fast", 15)  # limit 20: may hold 80
    assert scheduler.claim_terms(T0) == (set(), {}, 20)  # answers count from the first claim
    _answered(scheduler, "fast", 750)  # in 0.25 s: 3,000 a second
    _answered(scheduler, "slow", 10)  # 40 a second: 4 in 0.1 s, under 4 times its limit
    assert scheduler.claim_terms(T0 + 0.2) == (set(), {}, 20)  # the window is not over
    assert scheduler.claim_terms(T0 + 0.25) == (set(), {"fast": 300}, 20)  # held or not
    assert (scheduler.hold_cap("fast"), scheduler.hold_cap("slow")) == (300, 4 * 15)
    scheduler.hold([_claimed("fast", n) for n in range(100)], T0)
    keep, excess = scheduler.admit([_claimed("fast", n) for n in range(100, 250)])
    assert (len(keep), excess) == (150, [])
    assert scheduler.claim_terms(T0 + 0.3)[1] == {"fast": 200}
    scheduler.observe("fast", "timeout")  # failing: its limit, whatever its pace
    assert scheduler.hold_cap("fast") == 10
    scheduler.observe("fast", None)
    # A quiet window: the pace is gone, and what is held is over four times the limit again.
    assert scheduler.claim_terms(T0 + 1.0)[0] == {"fast"}
    assert scheduler.hold_cap("fast") == 4 * 11


def test_a_backlog_beyond_a_webhook_s_room_is_given_back_and_it_sits_out_until_half_done() -> None:
    scheduler = _scheduler()
    keep, excess = scheduler.admit([_claimed("a", n) for n in range(10)] + [_claimed("b", 0)])
    assert _ids(list(keep)) == [f"dlv_a_{n}" for n in range(8)] + ["dlv_b_0"]
    assert excess == ["dlv_a_8", "dlv_a_9"]
    scheduler.hold(keep, T0)
    assert scheduler.claim_terms(T0)[0] == {"a"}
    assert _ids([scheduler.take(T0) for _ in range(4)]) == ["dlv_a_0", "dlv_b_0", "dlv_a_1", None]
    for still_out in (True, True, True, False):  # out while it holds more than half of its cap
        scheduler.finish("a")
        assert scheduler.claim_terms(T0)[0] == ({"a"} if still_out else set())
        scheduler.take(T0)


def test_a_webhook_whose_room_a_claim_filled_sits_out_until_half_done() -> None:
    scheduler = _scheduler()
    keep, excess = scheduler.admit([_claimed("a", n) for n in range(8)])  # exactly its room
    assert (len(keep), excess) == (8, [])
    scheduler.hold(keep, T0)
    for _ in range(3):
        scheduler.take(T0)
        scheduler.finish("a")
        assert scheduler.claim_terms(T0)[0] == {"a"}  # over half of 8 held: not re-claimed
    scheduler.take(T0)
    scheduler.finish("a")
    assert scheduler.claim_terms(T0)[0] == set()


def test_failing_webhooks_share_a_quarter_of_the_worker() -> None:
    scheduler = _scheduler(ceiling=20, slots=4)
    for webhook_id in ("dead1", "dead2"):
        scheduler.observe(webhook_id, "timeout")
    claimed = [_claimed("dead1", 0), _claimed("dead2", 0), _claimed("ok", 0)]
    keep, excess = scheduler.admit(claimed)
    assert _ids(list(keep)) == ["dlv_dead1_0", "dlv_ok_0"]  # their share: 4 // 4 = 1
    assert excess == ["dlv_dead2_0"]
    scheduler.hold(keep, T0)
    assert scheduler.claim_terms(T0)[0] == {"dead1", "dead2"}


def test_failing_webhooks_rooms_are_bounded_by_their_shared_quarter() -> None:
    scheduler = _scheduler(ceiling=20, slots=8)
    for webhook_id in ("dead1", "dead2"):
        scheduler.observe(webhook_id, "timeout")  # limit 5 // 2 = 2: may hold 2 each
    scheduler.hold([_claimed("dead1", 0)], T0)
    assert scheduler.claim_terms(T0)[1] == {"dead1": 1, "dead2": 1}  # share 8 // 4 = 2, 1 held


# -- held deliveries -----------------------------------------------------------------------------
def test_webhooks_take_turns_and_each_stays_under_its_limit() -> None:
    scheduler = _scheduler(ceiling=4)  # a limit of one request in flight
    scheduler.hold([_claimed("a", n) for n in range(3)] + [_claimed("b", n) for n in range(2)], T0)
    assert (scheduler.total, scheduler.held["a"], scheduler.held["b"]) == (5, 3, 2)
    # a, then b, then nothing: both are at their limit of one request in flight.
    assert _ids([scheduler.take(T0) for _ in range(3)]) == ["dlv_a_0", "dlv_b_0", None]
    assert scheduler.in_flight == {"a": 1, "b": 1}
    scheduler.finish("b")
    assert _ids([scheduler.take(T0)]) == ["dlv_b_1"]
    scheduler.finish("a")
    assert _ids([scheduler.take(T0), scheduler.take(T0)]) == ["dlv_a_1", None]
    assert scheduler.total == 3  # two finished, three still held (in flight or waiting)


def test_a_limit_that_grew_lets_more_start() -> None:
    scheduler = _scheduler(ceiling=4)
    scheduler.hold([_claimed("a", n) for n in range(3)], T0)
    assert _ids([scheduler.take(T0), scheduler.take(T0)]) == ["dlv_a_0", None]
    _answered(scheduler, "a", 1)
    assert _ids([scheduler.take(T0)]) == [None]  # made runnable again only by a finish
    scheduler.finish("a")
    assert _ids([scheduler.take(T0), scheduler.take(T0)]) == ["dlv_a_1", "dlv_a_2"]


def test_a_delivery_that_waited_too_long_is_set_aside_not_started() -> None:
    scheduler = _scheduler(ceiling=40, stale_after=30)
    scheduler.hold([_claimed("a", 0), _claimed("a", 1)], T0)
    scheduler.hold([_claimed("a", 2)], T0 + 20)
    # 31 s later the first two could see their lease end mid-request: given back instead.
    assert _ids([scheduler.take(T0 + 31)]) == ["dlv_a_2"]
    assert scheduler.take_stale() == ["dlv_a_0", "dlv_a_1"]
    assert scheduler.take_stale() == []
    assert (scheduler.total, scheduler.held["a"], scheduler.in_flight["a"]) == (1, 1, 1)


def test_clear_returns_what_never_started_and_keeps_what_is_in_flight() -> None:
    scheduler = _scheduler(ceiling=4, stale_after=30)
    scheduler.hold([_claimed("a", n) for n in range(3)], T0)
    assert _ids([scheduler.take(T0)]) == ["dlv_a_0"]
    scheduler.hold([_claimed("b", 0)], T0 - 40)
    assert scheduler.take(T0) is None  # b is stale, a at its limit
    assert scheduler.clear() == ["dlv_a_1", "dlv_a_2", "dlv_b_0"]
    assert (scheduler.total, scheduler.held, scheduler.in_flight) == (1, {"a": 1}, {"a": 1})
    scheduler.finish("a")
    assert scheduler.total == 0
    assert not scheduler.held and not scheduler.in_flight


# -- the rate ------------------------------------------------------------------------------------
def test_a_webhook_without_a_rate_limit_is_not_paced() -> None:
    throttle = _scheduler().throttle(_claimed("a", 0).webhook)
    assert [throttle.delay(T0, 2.0) for _ in range(100)] == [0.0] * 100


def test_a_rate_limit_spaces_requests_and_a_429_slows_them_further() -> None:
    throttle = Throttle(10.0)
    waits = [throttle.delay(T0, 2.0) for _ in range(3)]
    assert waits[0] == 0.0 and 0 < waits[1] < waits[2] <= 0.25
    fresh = Throttle(10.0)
    fresh.observe(429, T0)
    slowed = [fresh.delay(T0, 2.0) for _ in range(3)]
    assert slowed[2] > waits[2]


def test_a_changed_rate_limit_starts_a_new_throttle() -> None:
    scheduler = _scheduler()
    webhook = _claimed("a", 0).webhook
    assert scheduler.throttle(webhook) is scheduler.throttle(webhook)
    config = webhook.config.model_copy(update={"rate_limit_per_second": 5.0})
    changed = scheduler.throttle(replace(webhook, config=config))
    assert changed.ceiling == 5.0
    assert scheduler.throttle(webhook).ceiling is None


# -- claim spacing --------------------------------------------------------------------------------
def test_a_claim_found_all_that_was_due_when_it_filled_neither_its_limit_nor_a_room() -> None:
    three = [_claimed("a", 0), _claimed("a", 1), _claimed("b", 0)]
    assert found_all_due(three, 10, {"a": 3}, 2)  # a: 2 of 3, b: 1 of the default 2
    assert not found_all_due([], 10, {}, 2)  # nothing found: an idle worker claims at once
    assert not found_all_due(three, 3, {"a": 3}, 2)  # the limit filled: more may be due
    assert not found_all_due(three, 10, {"a": 2}, 2)  # a filled its room
    assert not found_all_due(three, 10, {"a": 3}, 1)  # b filled the default room
