"""The delivery metrics a worker keeps in memory (pure: no server, no store)."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client import generate_latest

from hookline.domain.models import Attempt, AttemptOutcome, DeliveryStatus
from hookline.runtime.metrics import Metrics


def _outcome(webhook_id: str, status: DeliveryStatus, error: str | None = None) -> AttemptOutcome:
    attempt = Attempt(
        id="att_1", delivery_id="dlv_1", workspace_id="ws_1", webhook_id=webhook_id, number=1,
        started_at=0.0, duration_ms=12.0, request_method="POST", request_url="http://x/",
        request_headers={}, request_body=None, response_status=200 if error is None else 500,
        response_headers={}, response_body="", error_class=error, error_message=None,
    )  # fmt: skip
    return AttemptOutcome(attempt, status, 0.0)


def _text(metrics: Metrics) -> str:
    return generate_latest(metrics.registry).decode()


def test_a_failing_webhook_has_a_streak_series_and_loses_it_on_success() -> None:
    metrics = Metrics()
    metrics.observe(_outcome("wh_a", DeliveryStatus.PENDING, "http_status"))
    metrics.observe(_outcome("wh_a", DeliveryStatus.FAILED, "http_status"))
    assert 'hookline_webhook_failure_streak{webhook_id="wh_a"} 2.0' in _text(metrics)
    metrics.observe(_outcome("wh_a", DeliveryStatus.SUCCEEDED))
    assert 'webhook_id="wh_a"' not in _text(metrics)
    metrics.observe(_outcome("wh_a", DeliveryStatus.PENDING, "timeout"))
    assert 'hookline_webhook_failure_streak{webhook_id="wh_a"} 1.0' in _text(metrics)


def test_healthy_webhooks_add_no_series_however_many_there_are() -> None:
    metrics = Metrics()
    for n in range(1000):
        metrics.observe(_outcome(f"wh_{n}", DeliveryStatus.SUCCEEDED))
    text = _text(metrics)
    assert "webhook_id=" not in text
    assert 'hookline_attempts_total{error_class="",outcome="succeeded"} 1000.0' in text


def test_attempts_are_counted_by_outcome_and_error_class() -> None:
    metrics = Metrics()
    metrics.observe(_outcome("wh_a", DeliveryStatus.PENDING, "timeout"))
    metrics.observe(_outcome("wh_a", DeliveryStatus.PENDING, "timeout"))
    metrics.observe(_outcome("wh_b", DeliveryStatus.SUCCEEDED))
    text = _text(metrics)
    assert 'hookline_attempts_total{error_class="timeout",outcome="retry"} 2.0' in text
    assert 'hookline_attempts_total{error_class="",outcome="succeeded"} 1.0' in text
    assert "hookline_attempt_duration_seconds_count 3.0" in text


def _timed(ms: float) -> AttemptOutcome:
    outcome = _outcome("wh_a", DeliveryStatus.SUCCEEDED)
    attempt = outcome.attempt
    return AttemptOutcome(replace(attempt, duration_ms=ms), outcome.status, 0.0)


def test_durations_fall_in_cumulative_buckets_bounds_included() -> None:
    metrics = Metrics()
    for ms in (5.0, 5.001, 30_000.0, 30_001.0):
        metrics.observe(_timed(ms))
    text = _text(metrics)
    assert 'hookline_attempt_duration_seconds_bucket{le="0.005"} 1.0' in text
    assert 'hookline_attempt_duration_seconds_bucket{le="0.01"} 2.0' in text
    assert 'hookline_attempt_duration_seconds_bucket{le="10.0"} 2.0' in text
    assert 'hookline_attempt_duration_seconds_bucket{le="30.0"} 3.0' in text
    assert 'hookline_attempt_duration_seconds_bucket{le="+Inf"} 4.0' in text
    assert "hookline_attempt_duration_seconds_count 4.0" in text
    (line,) = [
        x for x in text.splitlines() if x.startswith("hookline_attempt_duration_seconds_sum")
    ]
    assert abs(float(line.split()[1]) - 60.011001) < 1e-9
