"""Where an action sends, in one line for the lists and pages that name it (pure).

An HTTP webhook shows its URL; a broker action ``destinations.describe``'s text (the broker URL
without its password, and the exchange, subject, stream or topic), the same text its attempts
log; an email action its recipients. The templates use it as the ``destination`` filter.
"""

from __future__ import annotations

from hookline.domain.destinations import describe
from hookline.domain.models import WebhookConfig


def destination(config: WebhookConfig) -> str:
    """The action's destination as shown; never a password."""
    action = config.broker
    if action is not None:
        return describe(config.kind, action)
    if config.email is not None:
        return "email to " + ", ".join(config.email.to)
    return config.url or "—"
