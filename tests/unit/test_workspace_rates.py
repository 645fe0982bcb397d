"""A workspace's throttle rate in one worker: the pace of all of its deliveries together."""

from __future__ import annotations

import math

import pytest

from hookline.delivery.scheduler import Throttle
from hookline.delivery.workspace_rates import WorkspaceRates


def test_an_unlimited_workspace_never_waits() -> None:
    rates = WorkspaceRates({"ws_a": 2})
    assert [rates.delay("ws_b", 10.0, 2.0) for _ in range(5)] == [0.0] * 5
    assert rates.wait("ws_b", 10.0) == 0.0
    assert rates.rate("ws_b") is None


def test_requests_are_spaced_one_over_the_rate_apart() -> None:
    rates = WorkspaceRates({"ws_a": 2})
    assert [rates.delay("ws_a", 10.0, 5.0) for _ in range(4)] == [0.0, 0.5, 1.0, 1.5]
    # Later, the turns taken have been used up and the pace carries on from there.
    assert rates.delay("ws_a", 11.5, 5.0) == pytest.approx(0.5)


def test_each_workspace_has_its_own_pace() -> None:
    rates = WorkspaceRates({"ws_a": 1, "ws_b": 1})
    assert rates.delay("ws_a", 10.0, 5.0) == 0.0
    assert rates.delay("ws_b", 10.0, 5.0) == 0.0
    assert rates.delay("ws_a", 10.0, 5.0) == 1.0


def test_a_wait_beyond_max_wait_is_reported_without_taking_a_turn() -> None:
    rates = WorkspaceRates({"ws_a": 1})
    assert rates.delay("ws_a", 10.0, 2.0) == 0.0
    assert rates.delay("ws_a", 10.0, 2.0) == 1.0
    assert rates.delay("ws_a", 10.0, 2.0) == 2.0
    assert rates.delay("ws_a", 10.0, 2.0) == 3.0  # given back: no turn taken
    assert rates.delay("ws_a", 10.0, 2.0) == 3.0
    assert rates.delay("ws_a", 11.0, 2.0) == 2.0


def test_wait_tells_the_next_delay_without_taking_the_turn() -> None:
    rates = WorkspaceRates({"ws_a": 4})
    assert rates.wait("ws_a", 10.0) == 0.0
    assert rates.wait("ws_a", 10.0) == 0.0
    assert rates.delay("ws_a", 10.0, 1.0) == 0.0
    assert rates.wait("ws_a", 10.0) == 0.25
    assert rates.wait("ws_a", 10.1) == pytest.approx(0.15)
    assert rates.delay("ws_a", 10.1, 1.0) == pytest.approx(0.15)


def test_a_changed_rate_keeps_the_turns_taken_and_paces_at_the_new_rate() -> None:
    rates = WorkspaceRates({"ws_a": 1})
    assert rates.delay("ws_a", 10.0, 5.0) == 0.0
    assert rates.delay("ws_a", 10.0, 5.0) == 1.0
    rates.replace({"ws_a": 4})
    assert rates.rate("ws_a") == 4
    # One turn owed (the bucket is at -1): it refills at 4 per second from now on.
    assert rates.delay("ws_a", 10.0, 5.0) == 0.5
    assert rates.delay("ws_a", 10.0, 5.0) == 0.75


def test_a_workspace_no_longer_limited_loses_its_pace_and_a_new_one_gets_one() -> None:
    rates = WorkspaceRates({"ws_a": 1})
    rates.delay("ws_a", 10.0, 5.0)
    rates.replace({"ws_b": 1})
    assert len(rates) == 1
    assert rates.rate("ws_a") is None
    assert [rates.delay("ws_a", 10.0, 5.0) for _ in range(3)] == [0.0] * 3
    assert [rates.delay("ws_b", 10.0, 5.0) for _ in range(2)] == [0.0, 1.0]
    # Limited again: it starts afresh, its old turns forgotten.
    rates.replace({"ws_a": 1, "ws_b": 1})
    assert rates.delay("ws_a", 10.0, 5.0) == 0.0


@pytest.mark.parametrize("rate", [0, -1, math.inf, math.nan])
def test_a_rate_that_is_not_a_positive_number_leaves_the_workspace_unlimited(
    rate: float,
) -> None:
    rates = WorkspaceRates({"ws_a": rate})
    assert rates.rate("ws_a") is None
    assert [rates.delay("ws_a", 10.0, 5.0) for _ in range(3)] == [0.0] * 3


def test_no_rates_is_no_pace() -> None:
    rates = WorkspaceRates()
    assert len(rates) == 0
    assert rates.delay("ws_a", 0.0, 1.0) == 0.0


def test_pace_is_the_longer_of_the_webhook_and_workspace_waits() -> None:
    rates = WorkspaceRates({"ws_a": 2})
    webhook = Throttle(1.0)  # one per second, slower than its workspace
    assert rates.pace("ws_a", webhook, 10.0, 5.0) == 0.0
    assert rates.pace("ws_a", webhook, 10.0, 5.0) == 1.0
    # Another webhook of the workspace, unlimited itself, waits for the workspace's turn.
    assert rates.pace("ws_a", Throttle(None), 10.0, 5.0) == 1.0
    assert rates.pace("ws_b", Throttle(None), 10.0, 5.0) == 0.0


def test_a_request_beyond_max_wait_takes_the_turn_of_neither() -> None:
    rates = WorkspaceRates({"ws_a": 1})
    webhook = Throttle(1.0)
    unlimited = Throttle(None)
    assert rates.pace("ws_a", unlimited, 10.0, 2.0) == 0.0
    assert rates.pace("ws_a", unlimited, 10.0, 2.0) == 1.0
    assert rates.pace("ws_a", unlimited, 10.0, 2.0) == 2.0
    # The workspace's wait is too long: the webhook keeps its turn.
    assert rates.pace("ws_a", webhook, 10.0, 2.0) == 3.0
    assert webhook.delay(10.0, 2.0) == 0.0


def test_a_webhook_wait_beyond_max_wait_keeps_the_workspace_turn() -> None:
    rates = WorkspaceRates({"ws_a": 1})
    webhook = Throttle(0.25)  # four seconds apart
    assert rates.pace("ws_a", webhook, 10.0, 2.0) == 0.0
    assert rates.pace("ws_a", webhook, 11.0, 2.0) == 3.0
    # The workspace's turn at 11.0 was not taken by the request given back.
    assert rates.pace("ws_a", Throttle(None), 11.0, 2.0) == 0.0
