"""Who may read /metrics, decided from the settings alone (pure: no server)."""

from __future__ import annotations

from hookline.domain import keys
from hookline.runtime.metrics_access import MetricsAccess, metrics_access
from hookline.settings import Settings

ADMIN_HASH = keys.hash_token("admin-token")


def test_on_the_api_port_without_a_metrics_token_only_the_admin_token_reads() -> None:
    access = metrics_access(Settings(), ADMIN_HASH)
    assert access.allows("Bearer admin-token")
    assert access.allows("bearer  admin-token ")
    for header in (None, "", "Bearer", "Bearer ", "Basic admin-token", "Bearer admin-token2"):
        assert not access.allows(header), header


def test_a_metrics_token_replaces_the_admin_token_on_every_port() -> None:
    for port in (None, 9100):
        access = metrics_access(Settings(metrics_token="scrape", metrics_port=port), ADMIN_HASH)
        assert access.allows("Bearer scrape")
        assert not access.allows("Bearer admin-token")
        assert not access.allows(None)


def test_a_metrics_port_without_a_token_is_open() -> None:
    assert metrics_access(Settings(metrics_port=9100), ADMIN_HASH) == MetricsAccess(None)
    assert metrics_access(Settings(metrics_port=9100), None).allows(None)


def test_the_refusal_is_a_401_with_a_stable_code() -> None:
    refusal = metrics_access(Settings(), ADMIN_HASH).refusal()
    assert refusal.status == 401
    assert refusal.to_dict()["error"] == {
        "code": "unauthorized",
        "message": refusal.message,
        "field": None,
    }
