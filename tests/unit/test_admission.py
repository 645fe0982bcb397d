"""Which webhooks a worker claims for, and what it keeps of a claim (pure logic)."""

from __future__ import annotations

from hookline.delivery.admission import Admission
from hookline.delivery.caps import Caps
from hookline.delivery.holding import Holding
from tests.unit.claims import T0
from tests.unit.claims import claimed as _claimed


def test_a_backlog_beyond_a_webhook_s_room_is_given_back_and_it_sits_out_until_half_done() -> None:
    caps, holding = Caps(ceiling=8, worker_slots=100), Holding(stale_after=60)
    admission = Admission(caps, holding)
    assert admission.hold_cap("a") == 4  # slow start: a quarter of 8 in flight, as many waiting
    keep, excess = admission.split([_claimed("a", n) for n in range(6)] + [_claimed("b", 0)])
    assert [c.delivery.id for c in keep] == [f"dlv_a_{n}" for n in range(4)] + ["dlv_b_0"]
    assert excess == ["dlv_a_4", "dlv_a_5"]
    holding.add(keep, T0)
    assert admission.saturated() == ["a"]  # holds its cap, and had a backlog given back
    for still_out in (True, False):  # out while it holds more than half of its cap
        holding.take(lambda w: 2 if w == "a" else 0, T0)
        holding.finish("a")
        assert admission.saturated() == (["a"] if still_out else [])


def test_failing_webhooks_share_a_quarter_of_the_worker() -> None:
    caps, holding = Caps(ceiling=20, worker_slots=4), Holding(stale_after=60)
    admission = Admission(caps, holding)
    for webhook_id in ("dead1", "dead2"):
        caps.observe(webhook_id, "timeout")
    keep, excess = admission.split([_claimed("dead1", 0), _claimed("dead2", 0), _claimed("ok", 0)])
    assert [c.delivery.id for c in keep] == ["dlv_dead1_0", "dlv_ok_0"]  # their share: 4 // 4 = 1
    assert excess == ["dlv_dead2_0"]
    holding.add(keep, T0)
    assert admission.saturated() == ["dead1", "dead2"]


def test_rooms_tell_the_claim_how_many_more_of_each_webhook_to_lease() -> None:
    caps, holding = Caps(ceiling=8, worker_slots=100), Holding(stale_after=60)
    admission = Admission(caps, holding)
    assert admission.rooms(excluded=()) == ({}, 4)  # unseen webhooks: the slow-start hold cap
    holding.add([_claimed("a", 0)], T0)
    for _ in range(4):
        caps.observe("b", None)  # b answered: its limit grew from 2 to 6, hold cap 12
    holding.add([_claimed("b", n) for n in range(5)], T0)
    assert admission.rooms(excluded=()) == ({"a": 3, "b": 7}, 4)
    assert admission.rooms(excluded=["b"]) == ({"a": 3}, 4)


def test_a_webhook_whose_room_a_claim_filled_sits_out_until_half_done() -> None:
    caps, holding = Caps(ceiling=8, worker_slots=100), Holding(stale_after=60)
    admission = Admission(caps, holding)
    keep, excess = admission.split([_claimed("a", n) for n in range(4)])  # exactly its room
    assert (len(keep), excess) == (4, [])
    holding.add(keep, T0)
    holding.take(lambda w: 2, T0)
    holding.finish("a")
    assert admission.saturated() == ["a"]  # 3 of 4 held: not re-claimed for one free slot
    holding.take(lambda w: 2, T0)
    holding.finish("a")
    assert admission.saturated() == []


def test_failing_webhooks_rooms_are_bounded_by_their_shared_quarter() -> None:
    caps, holding = Caps(ceiling=20, worker_slots=8), Holding(stale_after=60)
    admission = Admission(caps, holding)
    for webhook_id in ("dead1", "dead2"):
        caps.observe(webhook_id, "timeout")  # limit 5 // 2 = 2: may hold 2 each
    holding.add([_claimed("dead1", 0)], T0)
    rooms, _ = admission.rooms(excluded=())
    assert rooms == {"dead1": 1, "dead2": 1}  # the share is 8 // 4 = 2, one already held
