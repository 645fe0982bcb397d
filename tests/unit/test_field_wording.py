"""Validation messages in product language (``hookline.domain.field_wording``), as the REST
API and the dashboard show them."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from hookline.domain.field_errors import describe
from hookline.domain.models import WebhookConfig


def _messages(**fields: Any) -> dict[str | None, str]:
    with pytest.raises(ValidationError) as raised:
        WebhookConfig.model_validate(fields)
    return dict(describe(error) for error in raised.value.errors())


def test_library_wording_is_replaced() -> None:
    messages = _messages(
        name="", url="https://example.com", method="TRACE", timeout_seconds=31, max_attempts="x"
    )
    assert messages == {
        "name": "must not be empty",
        "method": "must be one of 'POST', 'PUT', 'PATCH', 'GET' or 'DELETE'",
        "timeout_seconds": "must be less than or equal to 30",
        "max_attempts": "must be a whole number",
    }
    assert _messages(url="https://example.com") == {"name": "required"}
    assert _messages(name="n", url="https://example.com", colour=1) == {
        "colour": "is not a known field"
    }


def test_hooklines_own_checks_keep_their_words() -> None:
    assert _messages(name="n", url="ftp://x") == {"url": "URL must start with http:// or https://"}


def test_no_message_reads_as_the_librarys() -> None:
    messages = _messages(
        name="x" * 500, url="https://example.com", events="a", headers=[1], enabled="maybe",
        aggregation_seconds=-1, retry_schedule=["soon"], metadata={"k": 1},
    )  # fmt: skip
    for message in messages.values():
        assert not message.startswith(("Input should", "String should", "List should")), message
        assert "Field required" not in message
