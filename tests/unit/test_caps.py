"""Adaptive per-webhook caps (pure logic)."""

from __future__ import annotations

from hookline.delivery.caps import Caps


def test_a_new_webhook_starts_at_a_quarter_and_grows_by_one_per_answer() -> None:
    caps = Caps(ceiling=20, worker_slots=200)
    assert caps.limit("wh_a") == 5
    for _ in range(3):
        caps.observe("wh_a", None)
    assert caps.limit("wh_a") == 8
    for _ in range(100):
        caps.observe("wh_a", "http_status")  # an HTTP error is still an answer
    assert caps.limit("wh_a") == 20


def test_timeouts_halve_the_cap_down_to_one_and_mark_the_webhook_failing() -> None:
    caps = Caps(ceiling=20, worker_slots=200)
    for _ in range(20):
        caps.observe("wh_a", None)
    caps.observe("wh_a", "timeout")
    assert caps.limit("wh_a") == 10
    assert caps.is_failing("wh_a")
    for error in ("connect", "timeout", "dns", "tls", "protocol", "timeout"):
        caps.observe("wh_a", error)
    assert caps.limit("wh_a") == 1
    assert caps.failing == frozenset({"wh_a"})
    caps.observe("wh_a", None)
    assert not caps.is_failing("wh_a")
    assert caps.limit("wh_a") == 2


def test_refusals_before_sending_change_nothing() -> None:
    caps = Caps(ceiling=8, worker_slots=10)
    caps.observe("wh_a", "blocked")
    caps.observe("wh_a", "invalid_request")
    assert caps.limit("wh_a") == 2
    assert not caps.is_failing("wh_a")


def test_failing_webhooks_share_a_quarter_of_the_worker() -> None:
    assert Caps(ceiling=20, worker_slots=200).failing_share == 50
    assert Caps(ceiling=1, worker_slots=2).failing_share == 1


def test_small_ceilings_never_go_below_one() -> None:
    caps = Caps(ceiling=1, worker_slots=4)
    assert caps.limit("wh_a") == 1
    caps.observe("wh_a", "timeout")
    assert caps.limit("wh_a") == 1
    caps.observe("wh_a", None)
    assert caps.limit("wh_a") == 1
