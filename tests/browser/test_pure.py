"""The dashboard's pure parts, no browser needed (they belong with tests/unit; they sit here
because this suite owns the dashboard): the session cookie and its name, CSRF, the chart and
percentiles, and the webhook form's mapping to the API body. (The sign-in limiter is shared
with the API: tests/unit/test_ratelimit.py.)"""

from __future__ import annotations

import orjson

from hookline.dashboard.charts import chart, percentiles, summarize
from hookline.dashboard.forms import Form
from hookline.dashboard.session import (
    SessionCodec,
    anonymous,
    cookie_name,
    derive_key,
    secure_context,
    signed_in,
)
from hookline.dashboard.webhook_form import api_body, values_from_config, values_from_form
from hookline.domain import secret_headers
from hookline.domain.models import Delivery, DeliveryStatus, WebhookConfig

KEY = derive_key("random", "admin-hash", None)


def test_session_round_trip_and_tampering() -> None:
    codec = SessionCodec(KEY, max_age=60)
    session = signed_in(1000.0, admin=False, key_hash="ab" * 32, workspace_id="ws_1")
    cookie = codec.encode(session)
    assert codec.decode(cookie, 1010.0) == session
    assert codec.decode(cookie, 1061.0) is None  # expired
    assert codec.decode(cookie, 900.0) is None  # from the future
    body = orjson.loads(_b64decode(cookie.split(".")[1]))
    forged = cookie.replace(cookie.split(".")[1], _b64(orjson.dumps(body | {"adm": True})))
    assert codec.decode(forged, 1010.0) is None
    assert SessionCodec(derive_key("random", "other-admin", None)).decode(cookie, 1010.0) is None
    assert codec.decode("garbage", 1010.0) is None
    assert codec.decode(None, 1010.0) is None
    # A client may send any character: refused, never an error.
    assert codec.decode(cookie[:-2] + "é", 1010.0) is None
    assert not codec.csrf_ok(session, "é" * 64)


def test_csrf_token_is_per_session() -> None:
    codec = SessionCodec(KEY)
    one, two = anonymous(0.0), anonymous(0.0)
    assert codec.csrf_ok(one, codec.csrf_token(one))
    assert not codec.csrf_ok(one, codec.csrf_token(two))
    assert not codec.csrf_ok(one, "")
    assert not codec.csrf_ok(one, None)


def test_the_cookie_is_secure_where_browsers_keep_secure_cookies() -> None:
    host: str | None
    for host in ("localhost", "app.localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"):
        assert secure_context("http", host), host
    for host in ("hookline.lan", "192.168.1.10", "localhost.example.com", "", None):
        assert not secure_context("http", host), host
    assert secure_context("https", "hookline.example.com")
    assert cookie_name(True) == "__Host-hookline_session"
    assert cookie_name(False) == "hookline_session"


def _delivery(status: DeliveryStatus, created: float, attempts: int = 1) -> Delivery:
    return Delivery(
        "dlv", "ws", "evt", "wh", status, attempts, 0, created, None, None, created, created
    )


def test_summary_chart_and_percentiles() -> None:
    ok, bad = DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED
    found = [_delivery(bad, 90), _delivery(ok, 50), _delivery(ok, 10), _delivery(ok, -5)]
    summary = summarize(found)
    assert (summary.succeeded, summary.failed, summary.failing) == (3, 1, True)
    assert summary.success_rate == 0.75
    drawn = chart(found, now=100, span=100, count=4, width=400, height=120)
    assert drawn.total == 3 and drawn.peak == 1  # the one before the window is left out
    assert {b.kind for b in drawn.bars} == {"ok", "bad"}
    assert percentiles([5, 1, 4, 2, 3]) == {50: 3, 90: 5, 99: 5}
    assert percentiles([]) == {}


def test_webhook_form_maps_to_the_api_body_and_back() -> None:
    config = WebhookConfig(
        name="orders",
        url="https://example.com/hooks",
        headers={"Authorization": "Bearer x", "X-Tenant": "acme"},
        events=["*", "task.*"],
        filter={"a": 1},
        retry_schedule=[0, 5.5],
        rate_limit_per_second=2,
    )
    form = Form()
    values = values_from_config(config, catalog=[])
    for name, value in values.items():
        if name in ("headers", "metadata"):
            prefix = "header" if name == "headers" else "meta"
            for key, item in value:
                form.add(f"{prefix}_name", key)
                form.add(f"{prefix}_value", item)
        elif isinstance(value, list):
            for item in value:
                form.add(name, item)
        elif value is True:
            form.add(name, "on")
        elif value not in (False, None):
            form.add(name, str(value))
    body, errors = api_body(values_from_form(form))
    assert errors == {}
    # The form never shows a credential: it comes back masked, and saving restores it.
    assert body["headers"] == {"Authorization": secret_headers.MASK, "X-Tenant": "acme"}
    body["headers"] = secret_headers.restore(body["headers"], config.headers)
    assert WebhookConfig.model_validate(body) == config


def test_webhook_form_reports_what_only_it_can_see() -> None:
    form = Form({"name": ["x"], "filter": ["{oops"], "retry_schedule": ["1, soon"]})
    _, errors = api_body(values_from_form(form))
    assert set(errors) == {"filter", "retry_schedule"}


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
