"""Who may read ``/metrics`` (they list every workspace's failing webhook ids): the rule alone,
apart from the servers that apply it.

- ``HOOKLINE_METRICS_TOKEN`` set: only its bearer, on whichever port serves the metrics.
- Otherwise, on their own port (``HOOKLINE_METRICS_PORT``): anyone who can reach that port,
  which the operator opens to the monitoring network only.
- Otherwise, on the API's port: only the admin token's bearer.
"""

from __future__ import annotations

from dataclasses import dataclass

from hookline.domain import keys
from hookline.errors import ApiError
from hookline.settings import Settings


class MetricsUnauthorized(ApiError):
    status = 401
    code = "unauthorized"


@dataclass(frozen=True, slots=True)
class MetricsAccess:
    """The SHA-256 of the one bearer token that may read the metrics (None: anyone may)."""

    token_hash: str | None

    def allows(self, authorization: str | None) -> bool:
        """Whether this ``Authorization`` header may read; compared in constant time."""
        if self.token_hash is None:
            return True
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        return keys.token_matches(token.strip(), self.token_hash)

    def refusal(self) -> MetricsUnauthorized:
        return MetricsUnauthorized(
            "send 'Authorization: Bearer <HOOKLINE_METRICS_TOKEN, or the admin token without one>'"
        )


def metrics_access(settings: Settings, admin_token_hash: str | None) -> MetricsAccess:
    """The rule of the module docstring for this process. ``admin_token_hash`` is None in a
    worker, which serves metrics only on their own port."""
    if settings.metrics_token:
        return MetricsAccess(keys.hash_token(settings.metrics_token))
    if settings.metrics_port is not None or admin_token_hash is None:
        return MetricsAccess(None)
    return MetricsAccess(admin_token_hash)
