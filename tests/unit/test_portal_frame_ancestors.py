"""``HOOKLINE_PORTAL_FRAME_ANCESTORS``: the origins that may frame the customer portal, checked
at start-up because they are written into the portal's Content-Security-Policy."""

from __future__ import annotations

import pytest

from hookline.errors import ConfigError
from hookline.settings import Settings


@pytest.mark.parametrize(
    "value",
    [
        "",
        "https://app.example.com",
        "https://app.example.com https://*.example.com 'self'",
        "http://localhost:3000",
        "https://app.example.com:*",
        "app.example.com",
        "http://[::1]:8080",
        "[2001:db8::1]",
        "  https://a.example.com   https://b.example.com  ",
    ],
)
def test_origins_are_taken(value: str) -> None:
    assert Settings(portal_frame_ancestors=value).portal_frame_ancestors == value


@pytest.mark.parametrize(
    "value",
    [
        "*",
        "https://*",
        "https:",
        "'none'",
        "'unsafe-inline'",
        "https://app.example.com; script-src *",
        "https://app.example.com;",
        "javascript://app.example.com",
        "https://app.example.com/path",
        "https://app.example.com:99999x",
        "https://app.example.com,https://b.example.com",
        'https://exa"mple.com',
    ],
)
def test_anything_else_is_refused_at_start_up(value: str) -> None:
    with pytest.raises(ConfigError, match="HOOKLINE_PORTAL_FRAME_ANCESTORS"):
        Settings(portal_frame_ancestors=value)


def test_the_environment_variable_sets_it() -> None:
    env = {"HOOKLINE_PORTAL_FRAME_ANCESTORS": "https://app.example.com"}
    assert Settings.from_env(env).portal_frame_ancestors == "https://app.example.com"
    with pytest.raises(ConfigError):
        Settings.from_env({"HOOKLINE_PORTAL_FRAME_ANCESTORS": "https://a.example.com; x"})
